package storetest

import (
	"io"
	"sync"
	"testing"
)

// OpenConcurrently opens a store n times at once, as the replicas of a
// deployment starting together do, and closes each handle; any error of an
// open fails t. The caller then checks that the migrations ran once.
func OpenConcurrently(t *testing.T, n int, open func() (io.Closer, error)) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			db, err := open()
			if err != nil {
				errs <- err
				return
			}
			db.Close()
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent open: %v", err)
	}
}
