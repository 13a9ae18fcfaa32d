package jobs_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/engine"
	"github.com/costexplorer/costexplorer/internal/jobs"
)

// outcomes records what Config.Observe is told.
type outcomes struct {
	mu  sync.Mutex
	got []costexplorer.ProcessState
	ds  []time.Duration
}

func (o *outcomes) observe(s costexplorer.ProcessState, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.got = append(o.got, s)
	o.ds = append(o.ds, d)
}

func (o *outcomes) snapshot() ([]costexplorer.ProcessState, []time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]costexplorer.ProcessState(nil), o.got...), append([]time.Duration(nil), o.ds...)
}

func TestObserveIsToldEachEndOnce(t *testing.T) {
	for _, tc := range []struct {
		name     string
		failures int32
		want     costexplorer.ProcessState
	}{
		{"Done", 0, costexplorer.ProcessDone},
		{"DoneAfterARetry", 1, costexplorer.ProcessDone},
		{"FailedAfterMaxAttempts", 100, costexplorer.ProcessFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, layout, c := freshDemo(t)
			ev := &faultyEvaluator{next: engine.New(db, engine.Options{})}
			ev.failures.Store(tc.failures)
			obs := &outcomes{}
			r := startRunner(t, db, ev, c, "a", func(cfg *jobs.Config) {
				cfg.MaxAttempts = 2
				cfg.Lease = time.Second
				cfg.Observe = obs.observe
			})
			org := layout.PayingOrg.ID
			tok := create(t, r, org)
			deadline := time.Now().Add(20 * time.Second)
			for time.Now().Before(deadline) {
				if got, _ := obs.snapshot(); len(got) > 0 {
					break
				}
				c.Advance(2 * time.Second) // let a failed attempt's lease lapse
				time.Sleep(20 * time.Millisecond)
			}
			if p, _ := r.Usage(context.Background(), org, tok); p == nil || p.State != tc.want {
				t.Fatalf("process %+v, want %s", p, tc.want)
			}
			got, ds := obs.snapshot()
			if len(got) != 1 || got[0] != tc.want {
				t.Fatalf("observed %v, want [%s]", got, tc.want)
			}
			// The duration is the evaluation's, also for a failure.
			if ds[0] <= 0 {
				t.Errorf("observed duration %v, want the evaluation's", ds[0])
			}
		})
	}
}
