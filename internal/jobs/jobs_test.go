package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/demo"
	"github.com/costexplorer/costexplorer/internal/engine"
	"github.com/costexplorer/costexplorer/internal/jobs"
	"github.com/costexplorer/costexplorer/internal/servertest"
	"github.com/costexplorer/costexplorer/internal/sqlite"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var start = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// openDemoStore opens a SQLite file in dir holding a small demo dataset.
func openDemoStore(t *testing.T, path string) (*sqlite.DB, demo.Layout) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := demo.Config{Seed: 7, LineItems: 5000, Now: start}
	if st, _ := db.UsageStats(ctx); st.LineItems == 0 {
		if err := demo.Generate(ctx, cfg, func(b *costexplorer.UsageBatch) error {
			_, err := db.IngestUsage(ctx, b)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	return db, demo.Describe(cfg)
}

// freshDemo opens a new demo store (openDemoStore) and a clock pinned at start.
func freshDemo(t *testing.T) (*sqlite.DB, demo.Layout, *servertest.Clock) {
	t.Helper()
	db, layout := openDemoStore(t, filepath.Join(t.TempDir(), "db"))
	return db, layout, servertest.NewClock(start)
}

func newRunner(t *testing.T, db costexplorer.Store, ev costexplorer.Evaluator, c *servertest.Clock, owner string, mod func(*jobs.Config)) *jobs.Runner {
	t.Helper()
	cfg := jobs.Config{Store: db, Evaluator: ev, Now: c.Now, Owner: owner, PollInterval: 10 * time.Millisecond, Lease: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	return jobs.New(cfg)
}

// startRunner is newRunner, started; the runner stops when the test ends.
func startRunner(t *testing.T, db costexplorer.Store, ev costexplorer.Evaluator, c *servertest.Clock, owner string, mod func(*jobs.Config)) *jobs.Runner {
	t.Helper()
	r := newRunner(t, db, ev, c, owner, mod)
	r.Start(context.Background())
	t.Cleanup(func() { r.Stop(context.Background()) })
	return r
}

// create submits the test query of org to r and returns its token.
func create(t *testing.T, r *jobs.Runner, org string) string {
	t.Helper()
	tok, err := r.CreateQuery(context.Background(), query(t, org))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func query(t *testing.T, org string) *costexplorer.Query {
	t.Helper()
	q, err := costexplorer.ParseQueryRequest(org, []byte(`{"startDate":"2026-06-01","endDate":"2026-12-01","organizations":["`+org+`"],"groupBy":"organizations"}`), costexplorer.QueryLimits{Now: start})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// waitState polls until the process reaches a final state or the deadline.
func waitState(t *testing.T, r *jobs.Runner, org, token string) *costexplorer.QueryProcess {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		p, err := r.Usage(context.Background(), org, token)
		if err != nil {
			t.Fatal(err)
		}
		if p.State == costexplorer.ProcessDone || p.State == costexplorer.ProcessFailed {
			return p
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("process did not finish within 20 s")
	return nil
}

func TestRunnerComputesAndDeduplicates(t *testing.T) {
	db, layout, c := freshDemo(t)
	eng := engine.New(db, engine.Options{})
	r := startRunner(t, db, eng, c, "a", nil)

	org := layout.PayingOrg.ID
	tok := create(t, r, org)
	p := waitState(t, r, org, tok)
	if !p.Ready(c.Now()) {
		t.Fatalf("process = %+v, want ready", p)
	}
	var res costexplorer.Result
	if err := json.Unmarshal(p.Result, &res); err != nil {
		t.Fatal(err)
	}
	want, err := eng.Evaluate(context.Background(), query(t, org))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.UsageDetails) != len(want) || len(want) == 0 {
		t.Fatalf("result has %d rows, engine %d", len(res.UsageDetails), len(want))
	}
	for i := range want {
		if res.UsageDetails[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, res.UsageDetails[i], want[i])
		}
	}

	again, err := r.CreateQuery(context.Background(), query(t, org))
	if err != nil || again != tok {
		t.Errorf("resubmitted query: token %s, %v; want the same token %s", again, err, tok)
	}
	if _, err := r.Usage(context.Background(), layout.Others[0].ID, tok); !costexplorer.IsNotFound(err) {
		t.Errorf("another organization's view of the token: %v, want not found", err)
	}
}

func TestRunnerHonoursMinProcessing(t *testing.T) {
	db, layout, c := freshDemo(t)
	r := startRunner(t, db, engine.New(db, engine.Options{}), c, "a", func(cfg *jobs.Config) { cfg.MinProcessing = time.Minute })
	org := layout.PayingOrg.ID
	tok := create(t, r, org)
	p := waitState(t, r, org, tok)
	if p.Ready(c.Now()) {
		t.Fatal("ready before the minimum processing time")
	}
	c.Advance(time.Minute)
	if p, _ = r.Usage(context.Background(), org, tok); !p.Ready(c.Now()) {
		t.Fatalf("not ready after the minimum processing time: %+v", p)
	}
}

func TestProcessAcceptedBeforeRestartIsFinishedAfter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db, layout := openDemoStore(t, path)
	c := servertest.NewClock(start)
	org := layout.PayingOrg.ID

	// The first server accepts the query but stops before any worker runs it.
	first := newRunner(t, db, engine.New(db, engine.Options{}), c, "first", nil)
	tok := create(t, first, org)
	db.Close()

	db2, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	second := newRunner(t, db2, engine.New(db2, engine.Options{}), c, "second", nil)
	second.Start(context.Background())
	defer second.Stop(context.Background())
	if p := waitState(t, second, org, tok); p.State != costexplorer.ProcessDone {
		t.Fatalf("state after restart = %s", p.State)
	}
}

func TestLapsedLeaseIsTakenOver(t *testing.T) {
	db, layout, c := freshDemo(t)
	org := layout.PayingOrg.ID
	crashed := newRunner(t, db, engine.New(db, engine.Options{}), c, "crashed", nil)
	tok := create(t, crashed, org)
	// A replica claims the process and dies holding the lease.
	if _, err := db.ClaimProcess(context.Background(), "crashed", c.Now(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	survivor := newRunner(t, db, engine.New(db, engine.Options{}), c, "survivor", nil)
	survivor.Start(context.Background())
	defer survivor.Stop(context.Background())
	time.Sleep(50 * time.Millisecond)
	if p, _ := survivor.Usage(context.Background(), org, tok); p.State != costexplorer.ProcessRunning {
		t.Fatalf("the lease was not respected: state %s", p.State)
	}
	c.Advance(6 * time.Second)
	if p := waitState(t, survivor, org, tok); p.State != costexplorer.ProcessDone || p.Attempts != 2 {
		t.Fatalf("after the lease lapsed: state %s attempts %d, want done after 2 attempts", p.State, p.Attempts)
	}
}

// faultyEvaluator fails (or panics) a fixed number of times, then delegates.
type faultyEvaluator struct {
	next     costexplorer.Evaluator
	failures atomic.Int32
	panics   bool
}

func (f *faultyEvaluator) Evaluate(ctx context.Context, q *costexplorer.Query) ([]costexplorer.Row, error) {
	if f.failures.Add(-1) >= 0 {
		if f.panics {
			panic("evaluator blew up")
		}
		return nil, errors.New("injected failure")
	}
	return f.next.Evaluate(ctx, q)
}

func TestFailingEvaluations(t *testing.T) {
	for _, tc := range []struct {
		name     string
		failures int32
		panics   bool
		want     costexplorer.ProcessState
	}{
		{"RetriedAfterOneFailure", 1, false, costexplorer.ProcessDone},
		{"FailedAfterMaxAttempts", 100, false, costexplorer.ProcessFailed},
		{"PanicRecoveredAndFailed", 100, true, costexplorer.ProcessFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, layout, c := freshDemo(t)
			ev := &faultyEvaluator{next: engine.New(db, engine.Options{}), panics: tc.panics}
			ev.failures.Store(tc.failures)
			r := startRunner(t, db, ev, c, "a", func(cfg *jobs.Config) { cfg.MaxAttempts = 3; cfg.Lease = time.Second })
			org := layout.PayingOrg.ID
			tok := create(t, r, org)
			// Each failed attempt leaves its lease to lapse; move the clock on.
			deadline := time.Now().Add(20 * time.Second)
			var p *costexplorer.QueryProcess
			for time.Now().Before(deadline) {
				p, _ = r.Usage(context.Background(), org, tok)
				if p.State == costexplorer.ProcessDone || p.State == costexplorer.ProcessFailed {
					break
				}
				c.Advance(2 * time.Second)
				time.Sleep(20 * time.Millisecond)
			}
			if p.State != tc.want {
				t.Fatalf("state = %s (attempts %d, error %q), want %s", p.State, p.Attempts, p.Error, tc.want)
			}
		})
	}
}

func TestStopReleasesLeases(t *testing.T) {
	db, layout, c := freshDemo(t)
	org := layout.PayingOrg.ID
	r := newRunner(t, db, engine.New(db, engine.Options{}), c, "a", nil)
	tok := create(t, r, org)
	if _, err := db.ClaimProcess(context.Background(), r.Owner(), c.Now(), time.Hour); err != nil {
		t.Fatal(err)
	}
	r.Start(context.Background())
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p, _ := r.Usage(context.Background(), org, tok); p.State != costexplorer.ProcessPending {
		t.Fatalf("state after Stop = %s, want pending (lease handed back)", p.State)
	}
}

func TestJanitorRemovesExpiredResults(t *testing.T) {
	db, layout, c := freshDemo(t)
	org := layout.PayingOrg.ID
	r := startRunner(t, db, engine.New(db, engine.Options{}), c, "a", func(cfg *jobs.Config) {
		cfg.ResultTTL = time.Hour
		cfg.JanitorEvery = 10 * time.Millisecond
	})
	tok := create(t, r, org)
	waitState(t, r, org, tok)
	c.Advance(2 * time.Hour)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		counts, err := db.ProcessCounts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if counts[costexplorer.ProcessDone] == 0 {
			if _, err := r.Usage(context.Background(), org, tok); !costexplorer.IsNotFound(err) {
				t.Fatalf("expired token: %v, want not found", err)
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the expired result was not removed")
}
