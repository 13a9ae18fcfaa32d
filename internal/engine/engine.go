package engine

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/costexplorer/costexplorer"
)

// Source is what the engine reads from a store; costexplorer.Store satisfies
// it. InvoiceIDs names each result row's invoiceId.
type Source interface {
	DataVersion(ctx context.Context) (int64, error)
	ScanRollup(ctx context.Context, fn func(*costexplorer.RollupRow) error) error
	ScanDailyRollup(ctx context.Context, fn func(*costexplorer.DailyRollupRow) error) error
	InvoiceIDs(ctx context.Context) ([]costexplorer.InvoiceRef, error)
	Organizations(ctx context.Context, f costexplorer.OrganizationFilter) ([]*costexplorer.Organization, int, error)
	Projects(ctx context.Context) ([]*costexplorer.Project, error)
	Clusters(ctx context.Context) ([]*costexplorer.Cluster, error)
}

// Options configure an Engine.
type Options struct {
	// RefreshInterval bounds how often Evaluate asks the source for its data
	// version (0: every call). Between checks, Evaluate answers from the
	// snapshot it has, so a change made by another replica becomes visible
	// within one interval.
	//
	// The interval is measured on the monotonic clock, not on Now: a server
	// whose clock is pinned (tests, demos) must not freeze its data.
	RefreshInterval time.Duration
	// Now stamps Stats.LoadedAt (time.Now when nil).
	Now func() time.Time
}

// Stats describes the engine's current snapshot. It is the domain's
// EngineStats, so that a reader of the figures (internal/metrics) needs no
// import of this package.
type Stats = costexplorer.EngineStats

// Engine evaluates cost-explorer queries over an in-memory copy of the
// monthly rollup of a Source, and usage queries over one of its daily
// rollup. The two copies are loaded and refreshed apart (each its own
// loader), so that the much larger daily one never delays a cost-explorer
// query. It is safe for concurrent use.
type Engine struct {
	src  Source
	opts Options

	elapsed func() time.Duration // monotonic time since New; tests replace it

	monthly loader[snapshot, *snapshot]
	daily   loader[dailySnapshot, *dailySnapshot]
}

// generation is what a loader knows of what it loaded: the number of the
// build that made it and the source's data version it reflects.
type generation struct {
	seq     uint64
	version int64
}

func (g *generation) gen() *generation { return g }

// loaded is a snapshot a loader keeps: P is a pointer to S.
type loaded[S any] interface {
	*S
	gen() *generation
}

// loader keeps one snapshot fresh: it rebuilds it, single-flight, when the
// source's data version moves.
type loader[S any, P loaded[S]] struct {
	build func(ctx context.Context) (P, error)

	snap      atomic.Pointer[S]
	lastCheck atomic.Int64 // elapsed() at the last data-version check

	mu      sync.Mutex
	flight  *flight[S] // the build in progress, if any
	flights uint64     // builds started so far
}

// flight is one build of a snapshot, shared by every caller that needs it.
type flight[S any] struct {
	seq  uint64
	done chan struct{}
	snap *S
	err  error
}

var (
	_ costexplorer.Evaluator          = (*Engine)(nil)
	_ costexplorer.UsageRowsEvaluator = (*Engine)(nil)
)

// New returns an engine over src. It reads nothing until Load or the first
// Evaluate or EvaluateUsage.
func New(src Source, opts Options) *Engine {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	start := time.Now()
	e := &Engine{src: src, opts: opts, elapsed: func() time.Duration { return time.Since(start) }}
	e.monthly.build = func(ctx context.Context) (*snapshot, error) { return build(ctx, src, opts.Now) }
	e.daily.build = func(ctx context.Context) (*dailySnapshot, error) { return buildDaily(ctx, src, opts.Now) }
	return e
}

// Load (re)builds both snapshots from the source, whatever its data
// version. A build already in progress that began before the call does not
// count: Load returns only once data read after its call is in place.
func (e *Engine) Load(ctx context.Context) error {
	if _, err := e.monthly.rebuild(ctx, e, e.monthly.started(), nil); err != nil {
		return err
	}
	_, err := e.daily.rebuild(ctx, e, e.daily.started(), nil)
	return err
}

// Start builds the monthly snapshot, which the Atlas cost explorer needs,
// and starts building the daily one without waiting for it: on years of
// data the daily build takes several times as long, and a server need not
// wait for it to answer the Atlas paths. A usage query that arrives before
// the daily snapshot is in place waits for that build (or starts another if
// it failed).
func (e *Engine) Start(ctx context.Context) error {
	if _, err := e.monthly.rebuild(ctx, e, e.monthly.started(), nil); err != nil {
		return err
	}
	e.daily.start(ctx, e)
	return nil
}

// Evaluate answers a validated query. It first makes sure the snapshot is
// fresh (see Options.RefreshInterval), then evaluates the query on it. The
// rows are ordered as costexplorer.CompareRows orders them; an organization
// without usage in the window gets an empty, non-nil slice. Errors come only
// from the source (internal errors).
func (e *Engine) Evaluate(ctx context.Context, q *costexplorer.Query) ([]costexplorer.Row, error) {
	s, err := snapshotFor(ctx, e, &e.monthly, q, "query")
	if err != nil {
		return nil, err
	}
	return s.evaluate(q), nil
}

// EvaluateUsage answers a usage query (DESIGN §5.5) over the daily rollup,
// as costexplorer.EvaluateUsageNaive defines the answer. It makes sure the
// snapshot is fresh, as Evaluate does. ErrNotFound when the engine knows no
// organization q.OrgID; ErrValidation for a query that its validation
// should have refused (a bad granularity or dimension, more than
// MaxGroupBy group-bys). The rows of one group share one Groups slice:
// callers read it, never write it.
func (e *Engine) EvaluateUsage(ctx context.Context, q *costexplorer.UsageQuery) ([]costexplorer.UsageRow, error) {
	a, err := e.evaluateUsage(ctx, q)
	if err != nil {
		return nil, err
	}
	return a.all(), nil
}

// EvaluateUsageRows answers as EvaluateUsage does, but makes each row only
// when it is read: a page of a large answer costs what the page holds.
func (e *Engine) EvaluateUsageRows(ctx context.Context, q *costexplorer.UsageQuery) (costexplorer.UsageRows, error) {
	a, err := e.evaluateUsage(ctx, q)
	if err != nil {
		return nil, err
	}
	return a, nil
}

func (e *Engine) evaluateUsage(ctx context.Context, q *costexplorer.UsageQuery) (*usageAnswer, error) {
	s, err := snapshotFor(ctx, e, &e.daily, q, "usage query")
	if err != nil {
		return nil, err
	}
	return s.evaluateUsage(q)
}

// snapshotFor returns the fresh snapshot of l that answers q: an internal
// error when q is nil (what names its kind), ctx's error when the caller
// has gone, before any look at the source.
func snapshotFor[S any, P loaded[S], Q any](ctx context.Context, e *Engine, l *loader[S, P], q *Q, what string) (*S, error) {
	if q == nil {
		return nil, costexplorer.Errorf(costexplorer.ErrInternal, "engine: nil %s", what)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return l.fresh(ctx, e)
}

// Stats describes the current snapshots (zero before the first load).
func (e *Engine) Stats() Stats {
	s := e.monthly.snap.Load()
	if s == nil {
		return Stats{}
	}
	st := Stats{
		RollupRows:    len(s.cells.amount),
		Segments:      len(s.cells.segs),
		Organizations: len(s.orgs.ids),
		Projects:      len(s.projects.ids) - 1,
		Clusters:      len(s.clusters.ids) - 1,
		Services:      len(s.services.ids),
		Bytes:         s.bytes(),
		DataVersion:   s.version,
		LoadedAt:      s.loadedAt,
		LoadDuration:  s.loadTook,
	}
	if d := e.daily.snap.Load(); d != nil {
		st.DailyCells, st.DailySeries, st.DailyBytes, st.DailyLoadDuration = d.levels[0].cells, d.levels[0].series, d.bytes(), d.loadTook
	}
	return st
}

// fresh returns a snapshot that reflects the source's data version as of this
// call (or as of the last check, within RefreshInterval).
func (l *loader[S, P]) fresh(ctx context.Context, e *Engine) (*S, error) {
	s := l.snap.Load()
	now := e.elapsed()
	if s != nil && e.opts.RefreshInterval > 0 && now-time.Duration(l.lastCheck.Load()) < e.opts.RefreshInterval {
		return s, nil
	}
	// Builds started before the version is read may have read older data;
	// only a build started after it is certain to be at least as new.
	seen := l.started()
	v, err := e.src.DataVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("engine: data version: %w", err)
	}
	l.lastCheck.Store(int64(now))
	if s != nil && P(s).gen().version == v {
		return s, nil
	}
	if s = l.snap.Load(); s != nil && P(s).gen().version == v {
		return s, nil // another caller has just built it
	}
	return l.rebuild(ctx, e, seen, &v)
}

// started returns how many builds have started.
func (l *loader[S, P]) started() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.flights
}

// rebuild returns a snapshot built by a build that started after the first
// `after` builds, or, when version is given, any snapshot of that version.
// Builds are single-flight: callers join the build in progress when it is
// recent enough, or wait for it to end and start the next one. A build runs
// detached from any one caller's cancellation, so a caller that gives up does
// not fail the others; each caller still stops waiting when its own context
// ends.
func (l *loader[S, P]) rebuild(ctx context.Context, e *Engine, after uint64, version *int64) (*S, error) {
	for {
		l.mu.Lock()
		f := l.flight
		if cur := l.snap.Load(); f == nil && cur != nil && (P(cur).gen().seq > after || version != nil && P(cur).gen().version == *version) {
			// A build finished between the caller's check and now.
			l.mu.Unlock()
			return cur, nil
		}
		if f == nil {
			l.flights++
			f = &flight[S]{seq: l.flights, done: make(chan struct{})}
			l.flight = f
			go l.run(context.WithoutCancel(ctx), e, f)
		}
		l.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if f.seq > after || f.err == nil && version != nil && P(f.snap).gen().version == *version {
			return f.snap, f.err
		}
	}
}

// start begins a build, unless one is running or a snapshot is in place,
// and returns at once.
func (l *loader[S, P]) start(ctx context.Context, e *Engine) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.flight != nil || l.snap.Load() != nil {
		return
	}
	l.flights++
	f := &flight[S]{seq: l.flights, done: make(chan struct{})}
	l.flight = f
	go l.run(context.WithoutCancel(ctx), e, f)
}

// run performs one build and publishes its snapshot.
func (l *loader[S, P]) run(ctx context.Context, e *Engine, f *flight[S]) {
	defer close(f.done)
	defer func() {
		l.mu.Lock()
		l.flight = nil
		l.mu.Unlock()
	}()
	s, err := l.build(ctx)
	if err != nil {
		f.err = err
		return
	}
	s.gen().seq = f.seq
	f.snap = (*S)(s)
	l.snap.Store((*S)(s))
	l.lastCheck.Store(int64(e.elapsed()))
}
