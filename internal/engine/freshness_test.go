package engine

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// unlinkedQuery returns Unlinked Inc's usage in May at the finest detail.
func unlinkedQuery() *costexplorer.Query {
	return &costexplorer.Query{OrgID: orgU.ID, Start: may, End: june}
}

// moreUsage adds a cent to Unlinked Inc's cluster, and a new project with a
// new cluster.
func moreUsage() *costexplorer.UsageBatch {
	proj := costexplorer.Project{ID: hexID('b', 5), OrgID: orgU.ID, Name: "Epsilon"}
	clus := costexplorer.Cluster{ID: hexID('c', 5), ProjectID: proj.ID, Name: "eps-db"}
	day := costexplorer.DayOf(may.Start()) + 9
	return &costexplorer.UsageBatch{
		Projects: []costexplorer.Project{proj},
		Clusters: []costexplorer.Cluster{clus},
		Items: []costexplorer.LineItem{
			{ID: costexplorer.NewLineItemID("more", "1"), OrgID: orgU.ID, ProjectID: projDelta.ID, ClusterID: clusDelta.ID, Service: costexplorer.ServiceClusters, SKU: "ATLAS_AWS_INSTANCE_M10", Date: day, Quantity: 1, Unit: "units", Amount: 1},
			{ID: costexplorer.NewLineItemID("more", "2"), OrgID: orgU.ID, ProjectID: proj.ID, ClusterID: clus.ID, Service: costexplorer.ServiceClusters, SKU: "ATLAS_AWS_INSTANCE_M10", Date: day, Quantity: 1, Unit: "units", Amount: 250},
		},
	}
}

var (
	unlinkedBefore = []costexplorer.Row{
		want(may, &orgU, &projDelta, &clusDelta, costexplorer.ServiceClusters, 9999),
	}
	unlinkedAfter = []costexplorer.Row{
		want(may, &orgU, &projDelta, &clusDelta, costexplorer.ServiceClusters, 10000),
		want(may, &orgU, &costexplorer.Project{ID: hexID('b', 5), Name: "Epsilon"}, &costexplorer.Cluster{ID: hexID('c', 5), Name: "eps-db"}, costexplorer.ServiceClusters, 250),
	}
)

func evaluate(t *testing.T, e *Engine, q *costexplorer.Query) []costexplorer.Row {
	t.Helper()
	rows, err := e.Evaluate(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func checkRows(t *testing.T, got, want []costexplorer.Row) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows differ\n got: %s\nwant: %s", dump(got), dump(want))
	}
}

func TestEvaluateSeesDataIngestedAfterLoad(t *testing.T) {
	st, e := loadedExample(t)
	before := e.Stats()
	checkRows(t, evaluate(t, e, unlinkedQuery()), unlinkedBefore)

	ingest(t, st, moreUsage())
	checkRows(t, evaluate(t, e, unlinkedQuery()), unlinkedAfter)

	after := e.Stats()
	if after.DataVersion == before.DataVersion {
		t.Errorf("data version stayed %d after an ingest", after.DataVersion)
	}
	// 15 items, two of them in the same cell; then one new cell.
	if before.RollupRows != 14 || after.RollupRows != 15 {
		t.Errorf("rollup rows = %d then %d, want 14 then 15", before.RollupRows, after.RollupRows)
	}
	if after.Projects != 5 || after.Clusters != 5 || after.Organizations != 3 || after.Bytes <= 0 {
		t.Errorf("stats = %+v", after)
	}
}

func TestRefreshIntervalBoundsVersionChecks(t *testing.T) {
	st := newTestStore(t)
	ingest(t, st, exampleBatch())
	// The wall clock is pinned, as a demo server's is: it must not matter.
	pinned := time.Date(2024, 7, 15, 12, 0, 0, 0, time.UTC)
	e := New(st, Options{RefreshInterval: time.Minute, Now: func() time.Time { return pinned }})
	var elapsed atomic.Int64
	e.elapsed = func() time.Duration { return time.Duration(elapsed.Load()) }
	if err := e.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	ingest(t, st, moreUsage())

	elapsed.Store(int64(59 * time.Second))
	checkRows(t, evaluate(t, e, unlinkedQuery()), unlinkedBefore) // not checked yet: the old snapshot

	elapsed.Store(int64(60 * time.Second))
	checkRows(t, evaluate(t, e, unlinkedQuery()), unlinkedAfter)
	if got := e.Stats().LoadedAt; !got.Equal(pinned) {
		t.Errorf("LoadedAt = %v, want the pinned clock's %v", got, pinned)
	}
}

// gatedSource counts scans and holds each one until the gate opens.
type gatedSource struct {
	Source
	gate     chan struct{}
	scans    atomic.Int32
	versions atomic.Int32
}

func (g *gatedSource) DataVersion(ctx context.Context) (int64, error) {
	g.versions.Add(1)
	return g.Source.DataVersion(ctx)
}

func (g *gatedSource) ScanRollup(ctx context.Context, fn func(*costexplorer.RollupRow) error) error {
	g.scans.Add(1)
	<-g.gate
	return g.Source.ScanRollup(ctx, fn)
}

func TestConcurrentEvaluateSharesOneReload(t *testing.T) {
	st := newTestStore(t)
	ingest(t, st, exampleBatch())
	gs := &gatedSource{Source: st, gate: make(chan struct{})}
	e := New(gs, Options{})
	close(gs.gate)
	if err := e.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	gs.gate = make(chan struct{})
	gs.scans.Store(0)
	gs.versions.Store(0)
	ingest(t, st, moreUsage())

	const n = 8
	results := make([][]costexplorer.Row, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], errs[i] = e.Evaluate(context.Background(), unlinkedQuery()) })
	}
	// Every caller has seen the new version before the one build may finish.
	waitFor(t, func() bool { return gs.versions.Load() >= n })
	close(gs.gate)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		checkRows(t, results[i], unlinkedAfter)
	}
	if got := gs.scans.Load(); got != 1 {
		t.Errorf("%d concurrent callers caused %d rollup scans, want 1", n, got)
	}
}

// waitFor polls cond, failing the test rather than hanging if it never holds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestEvaluateDoesNotSettleForABuildOlderThanItsData(t *testing.T) {
	st := newTestStore(t)
	ingest(t, st, exampleBatch())
	gs := &gatedSource{Source: st, gate: make(chan struct{})}
	e := New(gs, Options{})
	loaded := make(chan error)
	go func() { loaded <- e.Load(context.Background()) }()
	waitFor(t, func() bool { return gs.scans.Load() == 1 }) // the build read the old version

	ingest(t, st, moreUsage())
	type result struct {
		rows []costexplorer.Row
		err  error
	}
	evaluated := make(chan result)
	go func() {
		rows, err := e.Evaluate(context.Background(), unlinkedQuery())
		evaluated <- result{rows, err}
	}()
	waitFor(t, func() bool { return gs.versions.Load() == 2 }) // Evaluate saw the new one
	close(gs.gate)
	if err := <-loaded; err != nil {
		t.Fatal(err)
	}
	r := <-evaluated
	if r.err != nil {
		t.Fatal(r.err)
	}
	checkRows(t, r.rows, unlinkedAfter)
}

func TestEvaluateStopsWaitingWhenItsContextEnds(t *testing.T) {
	st := newTestStore(t)
	ingest(t, st, exampleBatch())
	gs := &gatedSource{Source: st, gate: make(chan struct{})}
	e := New(gs, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := e.Evaluate(ctx, unlinkedQuery())
		done <- err
	}()
	waitFor(t, func() bool { return gs.scans.Load() > 0 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	// The build itself was not cancelled: once the scan may go on, a later
	// caller gets its snapshot without scanning again.
	close(gs.gate)
	checkRows(t, evaluate(t, e, unlinkedQuery()), unlinkedBefore)
	if got := gs.scans.Load(); got != 1 {
		t.Errorf("scans = %d, want 1", got)
	}
}

// failingSource fails every call.
type failingSource struct{ Source }

var errBroken = errors.New("database is gone")

func (failingSource) DataVersion(context.Context) (int64, error) { return 0, errBroken }

func TestEvaluateReportsSourceErrors(t *testing.T) {
	e := New(failingSource{newTestStore(t)}, Options{})
	if err := e.Load(context.Background()); !errors.Is(err, errBroken) {
		t.Errorf("Load: err = %v, want %v", err, errBroken)
	}
	if _, err := e.Evaluate(context.Background(), unlinkedQuery()); !errors.Is(err, errBroken) {
		t.Errorf("Evaluate: err = %v, want %v", err, errBroken)
	}
	if got := e.Stats(); got != (Stats{}) {
		t.Errorf("Stats after failed loads = %+v, want zero", got)
	}
}

// The daily snapshot is refreshed as the monthly one is, apart from it.
func TestEvaluateUsageSeesDataIngestedAfterLoad(t *testing.T) {
	st, e := loadedExample(t)
	day := costexplorer.DayOf(may.Start()) + 9 // moreUsage's
	q := &costexplorer.UsageQuery{OrgID: orgU.ID, Granularity: costexplorer.Daily, Start: day - 5, End: day + 1,
		GroupBy: []costexplorer.Dimension{costexplorer.DimClusters}}
	usage := func() []costexplorer.UsageRow {
		t.Helper()
		rows, err := e.EvaluateUsage(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	if rows := usage(); len(rows) != 1 || rows[0].Amount != 9999 || rows[0].Start != day-5 {
		t.Fatalf("before: %s", dumpUsage(rows))
	}
	if st := e.Stats(); st.DailyCells == 0 || st.DailyBytes <= 0 {
		t.Errorf("stats = %+v, want the daily rollup's", st)
	}
	ingest(t, st, moreUsage())
	want := []costexplorer.UsageRow{
		{Start: day - 5, Groups: []costexplorer.UsageGroup{{ID: clusDelta.ID, Name: "delta-db"}}, Amount: 9999},
		{Start: day, Groups: []costexplorer.UsageGroup{{ID: clusDelta.ID, Name: "delta-db"}}, Amount: 1},
		{Start: day, Groups: []costexplorer.UsageGroup{{ID: hexID('c', 5), Name: "eps-db"}}, Amount: 250},
	}
	if rows := usage(); !reflect.DeepEqual(rows, want) {
		t.Fatalf("after the ingest: %s\nwant: %s", dumpUsage(rows), dumpUsage(want))
	}
}

// The daily columns live outside the Go heap and are released with their
// snapshot: queries running while snapshots are replaced and collected
// still read theirs whole.
func TestEvaluateUsageWhileSnapshotsAreReplaced(t *testing.T) {
	st := newTestStore(t)
	ingest(t, st, exampleBatch())
	e := New(st, Options{})
	q := &costexplorer.UsageQuery{OrgID: orgP.ID, Granularity: costexplorer.Daily,
		Start: costexplorer.DayOf(may.Start()), End: costexplorer.DayOf(july.Start()),
		GroupBy: []costexplorer.Dimension{costexplorer.DimSKUs, costexplorer.DimClusters}}
	want, err := e.EvaluateUsage(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				got, err := e.EvaluateUsage(context.Background(), q)
				if err == nil && !reflect.DeepEqual(got, want) {
					err = fmt.Errorf("rows changed:%s\nwant:%s", dumpUsage(got), dumpUsage(want))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for range 20 {
		if err := e.Load(context.Background()); err != nil {
			t.Fatal(err)
		}
		runtime.GC()
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// Start puts the monthly snapshot in place before it returns and builds the
// daily one in the background; a usage query meanwhile waits for that build
// rather than answering from nothing.
func TestStartBuildsTheDailySnapshotInTheBackground(t *testing.T) {
	st := newTestStore(t)
	ingest(t, st, exampleBatch())
	e := New(st, Options{})
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := e.Stats(); s.RollupRows == 0 {
		t.Fatalf("stats after Start = %+v, want the monthly rollup's", s)
	}
	day := costexplorer.DayOf(may.Start()) + 9
	q := &costexplorer.UsageQuery{OrgID: orgU.ID, Granularity: costexplorer.Daily, Start: day - 5, End: day + 1,
		GroupBy: []costexplorer.Dimension{costexplorer.DimClusters}}
	rows, err := e.EvaluateUsage(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Amount != 9999 {
		t.Fatalf("rows after Start: %s", dumpUsage(rows))
	}
	if s := e.Stats(); s.DailyCells == 0 {
		t.Errorf("stats after a usage query = %+v, want the daily rollup's", s)
	}
}
