package jobs_test

import (
	"context"
	"strings"
	"sync"
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
	db, layout, c := freshDemo(t)
	store := &countingStore{Store: db}
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
	store, org, tokens, _, small := sixResultsAndRoomForFour(t)

	// A cache a little larger than four results' worth holds no more than that.
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

// sixResultsAndRoomForFour makes six done results of the same size with one
// runner and returns them with a second, not started runner over the same
// store whose result cache has room for four of them, and that size.
func sixResultsAndRoomForFour(t *testing.T) (store *countingStore, org string, tokens []string, size int, small *jobs.Runner) {
	t.Helper()
	db, layout, c := freshDemo(t)
	store = &countingStore{Store: db}
	org = layout.PayingOrg.ID
	r := startRunner(t, store, engine.New(db, engine.Options{}), c, "a", nil)
	tokens, size = sixResults(t, r, org)
	small = newRunner(t, store, engine.New(db, engine.Options{}), c, "b", func(cfg *jobs.Config) { cfg.ResultCacheBytes = int64(size) * 4 })
	return store, org, tokens, size, small
}

// sixResults returns the tokens of six done results of the same size (each
// names a different organization that matches nothing) and that size.
func sixResults(t *testing.T, r *jobs.Runner, org string) ([]string, int) {
	t.Helper()
	var tokens []string
	size := 0
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
		size = len(waitState(t, r, org, tok).Result)
		tokens = append(tokens, tok)
	}
	return tokens, size
}

func TestFormIsBuiltOnceAndKeptWithTheResult(t *testing.T) {
	db, layout, c := freshDemo(t)
	r := startRunner(t, db, engine.New(db, engine.Options{}), c, "a", nil)
	org := layout.PayingOrg.ID
	tok := create(t, r, org)
	p := waitState(t, r, org, tok)

	var builds atomic.Int64
	build := func() ([]byte, error) {
		builds.Add(1)
		time.Sleep(10 * time.Millisecond) // long enough for the asks below to overlap
		return append([]byte("form of "), p.Result...), nil
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, ok, err := r.Form(p, "x", build, true)
			if err != nil || !ok || string(b) != "form of "+string(p.Result) {
				t.Errorf("form: %q %v %v", b, ok, err)
			}
		}()
	}
	wg.Wait()
	if n := builds.Load(); n != 1 {
		t.Errorf("eight concurrent asks built the form %d times, want once", n)
	}
	// Another form of the same result is another build.
	if b, ok, _ := r.Form(p, "y", func() ([]byte, error) { return []byte("y"), nil }, true); !ok || string(b) != "y" {
		t.Errorf("form y: %q %v", b, ok)
	}
	// A process that is not the cached one (here a copy) has no forms: the
	// caller builds what it needs.
	cp := *p
	if _, ok, _ := r.Form(&cp, "x", build, true); ok || builds.Load() != 1 {
		t.Errorf("a process outside the cache: ok %v, builds %d", ok, builds.Load())
	}
}

func TestFormInTheBackground(t *testing.T) {
	db, layout, c := freshDemo(t)
	r := startRunner(t, db, engine.New(db, engine.Options{}), c, "a", nil)
	org := layout.PayingOrg.ID
	p := waitState(t, r, org, create(t, r, org))

	// The first ask without waiting builds nothing: a waiting ask after it
	// runs its own build.
	never := func() ([]byte, error) { return []byte("from the first ask"), nil }
	if _, ok, _ := r.Form(p, "once", never, false); ok {
		t.Fatal("the first ask without waiting found a form")
	}
	if b, ok, _ := r.Form(p, "once", func() ([]byte, error) { return []byte("waited"), nil }, true); !ok || string(b) != "waited" {
		t.Errorf("the waiting ask got %q, %v: the first ask built", b, ok)
	}

	// The second starts the build in the background; asks meanwhile get
	// "not yet", and the bytes once it is done.
	release := make(chan struct{})
	build := func() ([]byte, error) { <-release; return []byte("gz"), nil }
	for i := range 3 {
		if _, ok, _ := r.Form(p, "gz", build, false); ok {
			t.Fatalf("ask %d: a form not built yet was answered", i+1)
		}
	}
	close(release)
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, ok, err := r.Form(p, "gz", build, false)
		if ok {
			if err != nil || string(b) != "gz" {
				t.Errorf("form: %q %v", b, err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background build never finished")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestFormsCountAgainstTheCacheBound(t *testing.T) {
	store, org, tokens, size, small := sixResultsAndRoomForFour(t)

	// Room for four results: three fit with room to spare…
	var ps []*costexplorer.QueryProcess
	for _, tok := range tokens[:3] {
		p, err := small.Usage(context.Background(), org, tok)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	before := store.reads.Load()
	for _, tok := range tokens[:3] {
		small.Usage(context.Background(), org, tok)
	}
	if store.reads.Load() != before {
		t.Fatal("three results do not fit in a cache bounded to four")
	}
	// …until the forms of two of them, each the size of a result, take the
	// room of the fourth and more: the least recently used result goes.
	for _, p := range ps[1:] {
		form := make([]byte, size)
		if _, ok, _ := small.Form(p, "big", func() ([]byte, error) { return form, nil }, true); !ok {
			t.Fatal("form not kept")
		}
	}
	for _, tok := range tokens[:3] {
		small.Usage(context.Background(), org, tok)
	}
	if store.reads.Load() == before {
		t.Error("forms do not count against the bound: every result is still cached")
	}

	// A form that would take an entry past half the cache is built for the
	// one who asked and not kept.
	p, _ := small.Usage(context.Background(), org, tokens[5])
	huge := make([]byte, size*2)
	if b, ok, _ := small.Form(p, "huge", func() ([]byte, error) { return huge, nil }, true); !ok || len(b) != len(huge) {
		t.Fatalf("huge form: %d bytes, ok %v", len(b), ok)
	}
	if _, ok, _ := small.Form(p, "huge", func() ([]byte, error) { return huge, nil }, true); ok {
		t.Error("a form larger than half the cache was kept")
	}
}

// The worker that finishes a process keeps it in its cache: the client
// polling for it gets the result without reading back what was just written.
func TestFinishedResultIsServedFromMemory(t *testing.T) {
	db, layout, c := freshDemo(t)
	store := &countingStore{Store: db}
	r := startRunner(t, store, engine.New(db, engine.Options{}), c, "a", nil)
	org := layout.PayingOrg.ID
	tok := create(t, r, org)
	// Wait through another runner (not started), so that r reads nothing.
	want := waitState(t, newRunner(t, db, engine.New(db, engine.Options{}), c, "b", nil), org, tok)

	before := store.reads.Load()
	got, err := r.Usage(context.Background(), org, tok)
	if err != nil {
		t.Fatal(err)
	}
	if n := store.reads.Load() - before; n != 0 {
		t.Errorf("%d reads reached the store for the result this runner finished", n)
	}
	if got.State != want.State || string(got.Result) != string(want.Result) || !got.CompletedAt.Equal(want.CompletedAt) ||
		got.LeaseOwner != want.LeaseOwner || !got.LeaseExpires.Equal(want.LeaseExpires) || got.Attempts != want.Attempts ||
		!got.ReadyAt.Equal(want.ReadyAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Errorf("cached process differs from the stored one:\n got %+v\nwant %+v", got, want)
	}
}

// heldEvaluator holds each evaluation until release is closed.
type heldEvaluator struct {
	next    costexplorer.Evaluator
	started chan struct{}
	release chan struct{}
}

func (h *heldEvaluator) Evaluate(ctx context.Context, q *costexplorer.Query) ([]costexplorer.Row, error) {
	h.started <- struct{}{}
	<-h.release
	return h.next.Evaluate(ctx, q)
}

// A client polls a query while this replica evaluates it: the polls are
// answered "running" from memory, not by reading the store, and the done
// result follows without a step back.
func TestPollsOfAProcessRunningHereStayInMemory(t *testing.T) {
	db, layout, c := freshDemo(t)
	store := &countingStore{Store: db}
	ev := &heldEvaluator{next: engine.New(db, engine.Options{}), started: make(chan struct{}, 1), release: make(chan struct{})}
	r := startRunner(t, store, ev, c, "a", nil)
	org := layout.PayingOrg.ID
	tok := create(t, r, org)
	<-ev.started

	before := store.reads.Load()
	for range 20 {
		p, err := r.Usage(context.Background(), org, tok)
		if err != nil || p.State != costexplorer.ProcessRunning || p.Token != tok {
			t.Fatalf("poll while running: %+v, %v", p, err)
		}
	}
	if n := store.reads.Load() - before; n != 0 {
		t.Errorf("%d polls of a process running here reached the store", n)
	}
	// Another organization does not see it (the store answers not found).
	if _, err := r.Usage(context.Background(), layout.Others[0].ID, tok); !costexplorer.IsNotFound(err) {
		t.Errorf("another organization: %v, want not found", err)
	}

	// AwaitRun: a run still going holds the caller for the time given; a
	// token not running here, or another organization's, not at all.
	if r.AwaitRun(context.Background(), org, tok, 20*time.Millisecond) {
		t.Error("AwaitRun reported the end of a run still held")
	}
	for _, other := range [][2]string{{org, strings.Repeat("0", 64)}, {layout.Others[0].ID, tok}} {
		began := time.Now()
		if r.AwaitRun(context.Background(), other[0], other[1], time.Minute) || time.Since(began) > 10*time.Second {
			t.Errorf("AwaitRun(%s, %s…) waited or reported an end", other[0], other[1][:8])
		}
	}
	// The run ends while AwaitRun waits for it: the release comes from a
	// timer set just before the call, which finds the run at once (a
	// goroutine calling AwaitRun could start after the run had ended,
	// and find none: that is not a run ending while it waits).
	time.AfterFunc(50*time.Millisecond, func() { close(ev.release) })
	if !r.AwaitRun(context.Background(), org, tok, time.Minute) {
		t.Error("AwaitRun did not report the end of the run")
	}
	if p, err := r.Usage(context.Background(), org, tok); err != nil || p.State != costexplorer.ProcessDone {
		t.Fatalf("Usage once AwaitRun returned: %+v, %v; want done", p, err)
	}
	if p := waitState(t, r, org, tok); p.State != costexplorer.ProcessDone || len(p.Result) == 0 {
		t.Fatalf("after the evaluation: state %s, %d bytes", p.State, len(p.Result))
	}
	stored, err := db.Process(context.Background(), org, tok, c.Now())
	if err != nil || stored.State != costexplorer.ProcessDone {
		t.Fatalf("the store holds %+v, %v; want done", stored, err)
	}
}
