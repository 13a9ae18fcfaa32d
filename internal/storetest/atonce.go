package storetest

import (
	"io"
	"sync"
	"testing"
)

// AtOnce runs f(0), …, f(n-1) in n goroutines released together, the callers
// of a race (replicas claiming, requests replaying one nonce), and waits for
// them all; an error returned by any fails t, what naming the call.
func AtOnce(t *testing.T, n int, what string, f func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if err := f(i); err != nil {
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("%s: %v", what, err)
	}
}

// OpenConcurrently opens a store n times at once, as the replicas of a
// deployment starting together do, and closes each handle; any error of an
// open fails t. The caller then checks that the migrations ran once.
func OpenConcurrently(t *testing.T, n int, open func() (io.Closer, error)) {
	t.Helper()
	AtOnce(t, n, "concurrent open", func(int) error {
		db, err := open()
		if err != nil {
			return err
		}
		db.Close()
		return nil
	})
}
