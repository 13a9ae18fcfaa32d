package jobs_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/engine"
	"github.com/costexplorer/costexplorer/internal/jobs"
)

// countingStore counts the process reads that reach the real store.
type countingStore struct {
	costexplorer.Store
	reads atomic.Int64
}

func (s *countingStore) Process(ctx context.Context, orgID, token string, now time.Time) (*costexplorer.QueryProcess, error) {
	s.reads.Add(1)
	return s.Store.Process(ctx, orgID, token, now)
}

func TestDoneResultsAreServedFromMemory(t *testing.T) {
	db, layout := openDemoStore(t, filepath.Join(t.TempDir(), "db"))
	store := &countingStore{Store: db}
	c := &clock{now: start}
	r := startRunner(t, store, engine.New(db, engine.Options{}), c, "a", func(cfg *jobs.Config) { cfg.ResultTTL = time.Hour })
	org := layout.PayingOrg.ID
	tok := create(t, r, org)
	first := waitState(t, r, org, tok)

	before := store.reads.Load()
	for range 5 {
		p, err := r.Usage(context.Background(), org, tok)
		if err != nil || string(p.Result) != string(first.Result) {
			t.Fatalf("cached read: %v", err)
		}
	}
	if n := store.reads.Load() - before; n != 0 {
		t.Errorf("%d reads reached the store for a done result already read", n)
	}

	// Another organization never gets it from the cache.
	if _, err := r.Usage(context.Background(), layout.Others[0].ID, tok); !costexplorer.IsNotFound(err) {
		t.Errorf("another organization: %v, want not found", err)
	}
	// Past its expiry the cache does not serve it either.
	c.Advance(time.Hour)
	if _, err := r.Usage(context.Background(), org, tok); !costexplorer.IsNotFound(err) {
		t.Errorf("after expiry: %v, want not found", err)
	}
}

func TestResultCacheIsBounded(t *testing.T) {
	db, layout := openDemoStore(t, filepath.Join(t.TempDir(), "db"))
	store := &countingStore{Store: db}
	c := &clock{now: start}
	org := layout.PayingOrg.ID
	r := startRunner(t, store, engine.New(db, engine.Options{}), c, "a", nil)
	tok := create(t, r, org)
	size := len(waitState(t, r, org, tok).Result)

	// A cache a little larger than four results' worth holds no more than that.
	small := newRunner(t, store, engine.New(db, engine.Options{}), c, "b", func(cfg *jobs.Config) { cfg.ResultCacheBytes = int64(size) * 4 })
	var tokens []string
	// Six queries with the same answer (each names a different organization
	// that matches nothing), so six results of the same size.
	for i := range 6 {
		body := `{"startDate":"2026-06-01","endDate":"2026-12-01","organizations":["` + org + `","00000000000000000000000` + string(rune('0'+i)) + `"],"groupBy":"organizations"}`
		q, err := costexplorer.ParseQueryRequest(org, []byte(body), costexplorer.QueryLimits{Now: start})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := r.CreateQuery(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		waitState(t, r, org, tok)
		tokens = append(tokens, tok)
	}
	for _, tok := range tokens {
		if _, err := small.Usage(context.Background(), org, tok); err != nil {
			t.Fatal(err)
		}
	}
	// The oldest were evicted: reading all again reaches the store for some.
	before := store.reads.Load()
	for _, tok := range tokens {
		if _, err := small.Usage(context.Background(), org, tok); err != nil {
			t.Fatal(err)
		}
	}
	if store.reads.Load() == before {
		t.Error("six results fit in a cache bounded to about four")
	}
}
