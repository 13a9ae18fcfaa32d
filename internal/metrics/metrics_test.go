package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/auth"
	"github.com/costexplorer/costexplorer/internal/demo"
	"github.com/costexplorer/costexplorer/internal/engine"
	"github.com/costexplorer/costexplorer/internal/metrics"
	"github.com/costexplorer/costexplorer/internal/servertest"
	"github.com/costexplorer/costexplorer/internal/sqlite"
)

// now is the pinned "now" of the tests (servertest.T0).
var now = servertest.T0

var demoConfig = demo.Config{Seed: 3, LineItems: 2000, Months: 4, Now: now}

// openStore opens a SQLite store in a temp dir, with the small demo dataset
// when withData is set.
func openStore(t *testing.T, withData bool) *sqlite.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "costexplorer.db"), sqlite.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if withData {
		if err := demo.Generate(ctx, demoConfig, func(b *costexplorer.UsageBatch) error {
			_, err := db.IngestUsage(ctx, b)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// sample is one gathered value: a counter, gauge or histogram count.
func sample(t *testing.T, reg prometheus.Gatherer, name string, labels ...string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				if labelValue(m, labels[i]) != labels[i+1] {
					continue metrics
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue(), true
			case m.Gauge != nil:
				return m.Gauge.GetValue(), true
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount()), true
			}
		}
	}
	return 0, false
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// mustSample is sample that fails the test when the series is absent.
func mustSample(t *testing.T, reg prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	v, ok := sample(t, reg, name, labels...)
	if !ok {
		t.Fatalf("no %s%v", name, labels)
	}
	return v
}

func TestStoreOperationsAreEveryStoreMethod(t *testing.T) {
	m := metrics.New(auth.FailureKinds)
	db := openStore(t, false)
	s := m.InstrumentStore(db)
	// Calling every method but Close once must give every method its own
	// series: a method the wrapper forgot would fail to compile, one the
	// label list forgot would panic on a nil observer.
	typ := reflect.TypeFor[costexplorer.Store]()
	for i := range typ.NumMethod() {
		name := typ.Method(i).Name
		if name == "Close" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			mt := reflect.ValueOf(s).MethodByName(name)
			args := make([]reflect.Value, mt.Type().NumIn())
			args[0] = reflect.ValueOf(context.Background())
			for j := 1; j < len(args); j++ {
				args[j] = zeroArg(mt.Type().In(j))
			}
			mt.Call(args) // most calls fail on empty arguments; only the count matters
			if got := mustSample(t, m.Registry(), "costexplorer_store_operation_duration_seconds", "operation", name); got != 1 {
				t.Errorf("%s observed %v times, want 1", name, got)
			}
		})
	}
}

// zeroArg is an empty argument of type typ that a store can be called with
// without a nil dereference: a pointer to a zero value, a function that
// returns zeros.
func zeroArg(typ reflect.Type) reflect.Value {
	switch typ.Kind() {
	case reflect.Pointer:
		return reflect.New(typ.Elem())
	case reflect.Func:
		return reflect.MakeFunc(typ, func([]reflect.Value) []reflect.Value {
			out := make([]reflect.Value, typ.NumOut())
			for i := range out {
				out[i] = reflect.Zero(typ.Out(i))
			}
			return out
		})
	}
	return reflect.Zero(typ)
}

func TestInstrumentStoreCountsFaultsNotAnswers(t *testing.T) {
	m := metrics.New(auth.FailureKinds)
	db := openStore(t, false)
	s := m.InstrumentStore(db)
	ctx := context.Background()
	errorsOf := func(op string) float64 {
		return mustSample(t, m.Registry(), "costexplorer_store_operation_errors_total", "operation", op)
	}
	if _, err := s.Organization(ctx, "5f0000000000000000000001"); !costexplorer.IsNotFound(err) {
		t.Fatalf("Organization: %v, want not found", err)
	}
	if got := errorsOf("Organization"); got != 0 {
		t.Errorf("not found counted as %v errors", got)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_ = s.Ping(canceled)
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if got := errorsOf("Ping"); got != 0 {
		t.Errorf("healthy or canceled pings counted as %v errors", got)
	}
	db.Close()
	if err := s.Ping(ctx); err == nil {
		t.Fatal("ping of a closed store succeeded")
	}
	if got := errorsOf("Ping"); got != 1 {
		t.Errorf("failed ping counted %v times, want 1", got)
	}
	if got := mustSample(t, m.Registry(), "costexplorer_store_operation_duration_seconds", "operation", "Ping"); got != 3 {
		t.Errorf("pings timed %v times, want 3", got)
	}
}

func TestScrapeReadsStoreAndEngine(t *testing.T) {
	ctx := context.Background()
	db := openStore(t, true)
	eng := engine.New(db, engine.Options{Now: func() time.Time { return now }})
	if err := eng.Load(ctx); err != nil {
		t.Fatal(err)
	}
	// A second Metrics counts the scrape's own store calls.
	probe := metrics.New(auth.FailureKinds)
	m := metrics.New(auth.FailureKinds)
	m.ReadAtScrape(metrics.ScrapeConfig{Store: probe.InstrumentStore(db), Engine: eng, CacheFor: -1})
	for i, state := range []costexplorer.ProcessState{costexplorer.ProcessPending, costexplorer.ProcessPending, costexplorer.ProcessRunning} {
		p := &costexplorer.QueryProcess{Token: strings.Repeat(string(rune('a'+i)), 64), OrgID: "5f0000000000000000000001",
			State: costexplorer.ProcessPending, CreatedAt: now, ReadyAt: now, ExpiresAt: now.Add(time.Hour)}
		if _, err := db.CreateProcess(ctx, p); err != nil {
			t.Fatal(err)
		}
		if state == costexplorer.ProcessRunning {
			if _, err := db.ClaimProcess(ctx, "w", now, time.Minute); err != nil {
				t.Fatal(err)
			}
		}
	}
	layout := demo.Describe(demoConfig)
	st := eng.Stats()
	want := []struct {
		name   string
		labels []string
		value  float64
	}{
		{"costexplorer_query_processes", []string{"state", "pending"}, 2},
		{"costexplorer_query_processes", []string{"state", "running"}, 1},
		{"costexplorer_query_processes", []string{"state", "done"}, 0},
		{"costexplorer_query_processes", []string{"state", "failed"}, 0},
		{"costexplorer_usage_line_items", nil, float64(layout.LineItems)},
		{"costexplorer_usage_last_day_timestamp_seconds", nil, float64(layout.LastDay.Time().Unix())},
		{"costexplorer_engine_rollup_rows", nil, float64(st.RollupRows)},
		{"costexplorer_engine_memory_bytes", nil, float64(st.Bytes)},
		{"costexplorer_engine_data_version", nil, float64(st.DataVersion)},
		{"costexplorer_engine_dimensions", []string{"dimension", "organizations"}, float64(1 + len(layout.Linked) + len(layout.Others))},
	}
	for _, w := range want {
		if got := mustSample(t, m.Registry(), w.name, w.labels...); got != w.value {
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.value)
		}
	}
	if st.RollupRows == 0 || st.Bytes == 0 {
		t.Fatalf("engine stats %+v: the test proves nothing", st)
	}

	t.Run("UsageSummaryIsReadOnlyWhenTheDataChanged", func(t *testing.T) {
		calls := func(op string) float64 {
			return mustSample(t, probe.Registry(), "costexplorer_store_operation_duration_seconds", "operation", op)
		}
		before, versions := calls("UsageStats"), calls("DataVersion")
		for range 3 {
			sample(t, m.Registry(), "costexplorer_usage_line_items")
		}
		if got := calls("UsageStats") - before; got != 0 {
			t.Errorf("unchanged data read the usage summary %v times", got)
		}
		if got := calls("DataVersion") - versions; got != 3 {
			t.Errorf("3 scrapes read the data version %v times", got)
		}
		item := costexplorer.LineItem{ID: costexplorer.NewLineItemID("extra"), OrgID: layout.PayingOrg.ID,
			Service: costexplorer.ServiceSupport, SKU: "SUPPORT", Date: layout.LastDay, Amount: 100}
		if _, err := db.IngestUsage(ctx, &costexplorer.UsageBatch{Items: []costexplorer.LineItem{item}}); err != nil {
			t.Fatal(err)
		}
		if got := mustSample(t, m.Registry(), "costexplorer_usage_line_items"); got != float64(layout.LineItems+1) {
			t.Errorf("line items after ingest = %v, want %d", got, layout.LineItems+1)
		}
		if got := calls("UsageStats") - before; got != 1 {
			t.Errorf("one change read the usage summary %v times", got)
		}
	})
}

func TestScrapeCachesStoreValues(t *testing.T) {
	db := openStore(t, false)
	probe := metrics.New(auth.FailureKinds)
	m := metrics.New(auth.FailureKinds)
	m.ReadAtScrape(metrics.ScrapeConfig{Store: probe.InstrumentStore(db), CacheFor: time.Hour})
	for range 5 {
		mustSample(t, m.Registry(), "costexplorer_query_processes", "state", "pending")
	}
	if got := mustSample(t, probe.Registry(), "costexplorer_store_operation_duration_seconds", "operation", "ProcessCounts"); got != 1 {
		t.Errorf("5 scrapes within the cache time asked for the process counts %v times, want 1", got)
	}
}

func TestScrapeSurvivesAStoreOutage(t *testing.T) {
	db := openStore(t, false)
	m := metrics.New(auth.FailureKinds)
	m.ReadAtScrape(metrics.ScrapeConfig{Store: db, CacheFor: -1})
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)
	scrape := func() string {
		t.Helper()
		res, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("scrape: %d %s", res.StatusCode, b)
		}
		return string(b)
	}
	if body := scrape(); !strings.Contains(body, `costexplorer_query_processes{state="pending"} 0`) || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("healthy scrape lacks the process gauge or the Go collector:\n%s", body)
	}
	db.Close()
	body := scrape()
	if strings.Contains(body, "costexplorer_query_processes{") {
		t.Error("an unreadable gauge was still served")
	}
	for _, want := range []string{`costexplorer_metrics_scrape_errors_total{source="process_counts"} 1`, "process_resident_memory_bytes"} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape during the outage lacks %s:\n%s", want, body)
		}
	}
}

func TestLabelsStayBounded(t *testing.T) {
	m := metrics.New(auth.FailureKinds)
	m.AuthFailure("something new")
	m.AuthFailure(auth.FailureDigestReplay)
	m.ObserveProcess(costexplorer.ProcessPending, time.Second) // not an end: ignored
	m.ObserveProcess(costexplorer.ProcessDone, time.Second)
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		switch mf.GetName() {
		case "costexplorer_auth_failures_total":
			var kinds []string
			for _, mm := range mf.GetMetric() {
				kinds = append(kinds, labelValue(mm, "kind"))
			}
			if want := append(slices.Clone(auth.FailureKinds), "other"); !sameSet(kinds, want) {
				t.Errorf("kinds %q, want %q", kinds, want)
			}
		case "costexplorer_query_process_duration_seconds":
			for _, mm := range mf.GetMetric() {
				if s := labelValue(mm, "state"); s != "done" && s != "failed" {
					t.Errorf("process state label %q", s)
				}
			}
		}
	}
	if got := mustSample(t, m.Registry(), "costexplorer_auth_failures_total", "kind", "other"); got != 1 {
		t.Errorf("unknown kind counted %v times as other", got)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestSeveralServersInOneProcess(t *testing.T) {
	a, b := metrics.New(auth.FailureKinds), metrics.New(auth.FailureKinds)
	a.ObserveRequest("GET /healthz", 200, time.Millisecond)
	if got, _ := sample(t, b.Registry(), "costexplorer_http_requests_total", "route", "GET /healthz"); got != 0 {
		t.Errorf("one server's request counted on another's registry")
	}
	if got := mustSample(t, a.Registry(), "costexplorer_http_requests_total", "route", "GET /healthz", "status", "200"); got != 1 {
		t.Errorf("requests = %v", got)
	}
}

func TestObserveSync(t *testing.T) {
	m := metrics.New(nil)
	end := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	m.ObserveSync(metrics.SyncRun{Items: 100, Restated: 40, Duration: 2 * time.Second, End: end})
	m.ObserveSync(metrics.SyncRun{Items: 5, Duration: time.Second, Err: errors.New("source down"), End: end.Add(time.Hour)})
	got := map[string]float64{}
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			switch {
			case mt.Counter != nil:
				got[mf.GetName()] = mt.Counter.GetValue()
			case mt.Gauge != nil:
				got[mf.GetName()] = mt.Gauge.GetValue()
			case mt.Histogram != nil:
				got[mf.GetName()] = float64(mt.Histogram.GetSampleCount())
			}
		}
	}
	want := map[string]float64{
		"costexplorer_sync_items_total":                    105,
		"costexplorer_sync_restated_items_total":           40,
		"costexplorer_sync_errors_total":                   1,
		"costexplorer_sync_duration_seconds":               2,
		"costexplorer_sync_last_success_timestamp_seconds": float64(end.Unix()), // the failed run moves it not
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}
