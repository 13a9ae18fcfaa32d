// Package logtest holds what tests need to read the output of a server they
// run: its log lines, its stdout and stderr. It is imported by tests only,
// and imports nothing from the project, so that any package's tests can use
// it (internal/auth's own tests too, which cannot import servertest).
package logtest

import (
	"bytes"
	"sync"
)

// Buffer is a bytes.Buffer safe for the concurrent writes of a running
// server (its handlers, workers and logger) while the test reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
