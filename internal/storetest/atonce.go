package storetest

import (
	"io"
	"path/filepath"
	"sync"
	"testing"

	"github.com/costexplorer/costexplorer"
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

// Claims records the owners of each claimed id: what racing claimers
// (AtOnce) leave behind, where each id must have exactly one.
type Claims struct {
	mu     sync.Mutex
	owners map[string][]string
}

// Drain claims for owner until nothing is left (claim returns
// ErrNotFound), recording in c the id of each claim.
func Drain[T any](c *Claims, owner string, claim func(owner string) (T, error), id func(T) string) error {
	for {
		v, err := claim(owner)
		if costexplorer.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		c.mu.Lock()
		if c.owners == nil {
			c.owners = map[string][]string{}
		}
		c.owners[id(v)] = append(c.owners[id(v)], owner)
		c.mu.Unlock()
	}
}

// Check fails t unless n ids (of what: "process", "report") were claimed,
// each by exactly one owner.
func (c *Claims) Check(t *testing.T, what string, n int) {
	t.Helper()
	if len(c.owners) != n {
		t.Fatalf("%d %ss claimed, want %d", len(c.owners), what, n)
	}
	for id, owners := range c.owners {
		if len(owners) != 1 {
			t.Fatalf("%s %s claimed by %v, want exactly one owner", what, id, owners)
		}
	}
}

// OpenConcurrently opens a store n times at once, as the replicas of a
// deployment starting together do, and closes each handle; any error of an
// open fails t. Then each migration of the store's package (the files
// migrations/*.sql of the test's directory) must be recorded once: count
// answers a COUNT(*) query on the store.
func OpenConcurrently(t *testing.T, n int, open func() (io.Closer, error), count func(query string) int64) {
	t.Helper()
	AtOnce(t, n, "concurrent open", func(int) error {
		db, err := open()
		if err != nil {
			return err
		}
		db.Close()
		return nil
	})
	files, err := filepath.Glob(filepath.Join("migrations", "*.sql"))
	if err != nil || len(files) < 3 {
		t.Fatalf("migration files %q: %v", files, err)
	}
	if n := count("SELECT COUNT(*) FROM schema_migrations"); n != int64(len(files)) { // each once
		t.Fatalf("%d migrations recorded, want %d", n, len(files))
	}
}
