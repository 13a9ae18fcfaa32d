package servertest

import (
	"sync"
	"time"
)

// Clock is the settable clock of a test server, shared by the store, the
// workers, authentication and the handlers, so that tests move time instead
// of sleeping. A pinned clock stands still between Advance calls; a running
// clock also moves with real time, for tests whose waits (a processing
// delay, a client's backoff) must pass.
type Clock struct {
	mu      sync.Mutex
	t       time.Time
	running bool
	since   time.Time // real time of t, when running
}

// NewClock returns a clock pinned at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// NewRunningClock returns a clock that starts at t and runs in real time.
func NewRunningClock(t time.Time) *Clock { return &Clock{t: t, running: true, since: time.Now()} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		return c.t.Add(time.Since(c.since))
	}
	return c.t
}

// Advance moves the clock by d (backwards when d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
