package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/engine"
)

// benchSizes are the dataset sizes (line items) of the benchmarks:
// BENCH_SIZES="1000000 5000000 20000000" by default, 20,000 with -short (CI).
func benchSizes(tb testing.TB) []int {
	if testing.Short() {
		return []int{20_000}
	}
	spec := os.Getenv("BENCH_SIZES")
	if spec == "" {
		spec = "1000000 5000000 20000000"
	}
	var sizes []int
	for _, f := range strings.Fields(spec) {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			tb.Fatalf("BENCH_SIZES: %q is not a positive number", f)
		}
		sizes = append(sizes, n)
	}
	return sizes
}

// sizeName names a size as the sub-benchmark: items=1M, items=20k.
func sizeName(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("items=%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("items=%dk", n/1000)
	}
	return fmt.Sprintf("items=%d", n)
}

// fixture is one size's dataset, its engine, and DuckDB holding its line
// items and its rollup. The rollup is computed in memory from the generated
// items (not ingested into SQLite: that is the script's job and takes
// minutes at 20 M), and the engine builds its snapshot from it through the
// same Source interface a store serves.
type fixture struct {
	data *Dataset
	eng  *engine.Engine
	duck *Duck
}

var (
	fixturesMu sync.Mutex
	fixtures   = map[int]*fixture{}
	fixtureDir string
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, f := range fixtures {
		f.duck.Close()
	}
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

// load returns the fixture of size n, built once per test binary.
func load(tb testing.TB, n int) *fixture {
	tb.Helper()
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	if f := fixtures[n]; f != nil {
		return f
	}
	ctx := context.Background()
	if fixtureDir == "" {
		dir, err := os.MkdirTemp("", "costexplorer-bench-")
		if err != nil {
			tb.Fatal(err)
		}
		fixtureDir = dir
	}
	duck, err := OpenDuck(ctx, filepath.Join(fixtureDir, fmt.Sprintf("%d.duckdb", n)))
	if err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	d, err := Generate(ctx, n, duck.Append)
	if err == nil {
		err = duck.FinishLoad(ctx)
	}
	if err == nil {
		_, err = duck.BuildRollup(ctx)
	}
	if err == nil {
		_, _, err = duck.BuildLayouts(ctx)
	}
	if err != nil {
		duck.Close()
		tb.Fatal(err)
	}
	eng := engine.New(d.Source(), engine.Options{RefreshInterval: time.Hour})
	if err := eng.Load(ctx); err != nil {
		tb.Fatal(err)
	}
	st := eng.Stats()
	tb.Logf("%s: %d line items, %d rollup rows (1 per %.0f items), %d orgs, %d projects, %d clusters, engine snapshot ≈ %.1f MB built in %v; fixture in %v",
		sizeName(n), d.LineItems, len(d.Rollup), float64(d.LineItems)/float64(len(d.Rollup)), st.Organizations, st.Projects, st.Clusters,
		float64(st.Bytes)/1e6, st.LoadDuration.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	// The engine holds its own copy; the dataset keeps only what the
	// queries need, so the garbage collector does not scan the rest.
	d.Rollup = nil
	runtime.GC()
	f := &fixture{data: d, eng: eng, duck: duck}
	fixtures[n] = f
	return f
}

// engineAnswer summarises rows as a DuckDB Answer.
func engineAnswer(rows []costexplorer.Row) Answer {
	a := Answer{Rows: len(rows)}
	for i := range rows {
		a.Total += rows[i].UsageAmount
	}
	return a
}

// TestEngineMatchesDuckDB checks that every reference query means the same
// thing to our engine, to DuckDB's rollup table and to every DuckDB form over
// the line items (same groups, same total), so that the benchmarks compare
// equal work.
func TestEngineMatchesDuckDB(t *testing.T) {
	ctx := context.Background()
	f := load(t, 20_000)
	for _, rq := range f.data.Queries() {
		t.Run(rq.Name, func(t *testing.T) {
			rows, err := f.eng.Evaluate(ctx, rq.Variant(3))
			if err != nil {
				t.Fatal(err)
			}
			want := engineAnswer(rows)
			if want.Rows == 0 {
				t.Fatalf("%s found no rows", rq.Name)
			}
			sqls := map[string]string{}
			forms := append(slices.Clone(DuckForms), RollupForms...)
			for _, form := range forms {
				sqls[form.Name] = rq.FormSQL(form, f.duck)
			}
			distinct := map[string]bool{}
			for _, sql := range sqls {
				distinct[sql] = true
			}
			if len(distinct) != len(forms) {
				t.Errorf("%d distinct SQL texts for %d forms", len(distinct), len(forms))
			}
			if sqls[DuckForms[0].Name] != rq.SQL(true) || sqls[RollupForms[0].Name] != rq.SQL(false) {
				t.Errorf("the first forms are not the SQL of earlier runs:\n%s\n%s", sqls[DuckForms[0].Name], sqls[RollupForms[0].Name])
			}
			for what, sql := range sqls {
				got, err := f.duck.Run(ctx, sql)
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				if got != want {
					t.Errorf("%s: DuckDB %+v, engine %+v\n%s", what, got, want, sql)
				}
			}
		})
	}
}

// BenchmarkEngine evaluates Q1–Q4 with the engine at each size.
func BenchmarkEngine(b *testing.B) {
	ctx := context.Background()
	for _, n := range benchSizes(b) {
		b.Run(sizeName(n), func(b *testing.B) {
			f := load(b, n)
			for _, rq := range f.data.Queries() {
				b.Run(rq.Name, func(b *testing.B) {
					var rows []costexplorer.Row
					for b.Loop() {
						var err error
						if rows, err = f.eng.Evaluate(ctx, &rq.Query); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(len(rows)), "rows")
				})
			}
		})
	}
}

// BenchmarkDuckDBRollup runs the equivalent SQL of Q1–Q4 on DuckDB's rollup
// table in every form (RollupForms), reading every row.
func BenchmarkDuckDBRollup(b *testing.B) { benchDuckForms(b, RollupForms) }

// BenchmarkDuckDBRaw runs the equivalent SQL of Q1–Q4 on DuckDB's line items
// in every form (DuckForms).
func BenchmarkDuckDBRaw(b *testing.B) { benchDuckForms(b, DuckForms) }

// benchDuckForms runs Q1–Q4 on DuckDB in each of forms, at every size.
func benchDuckForms(b *testing.B, forms []DuckForm) {
	for _, n := range benchSizes(b) {
		b.Run(sizeName(n), func(b *testing.B) {
			f := load(b, n)
			for _, rq := range f.data.Queries() {
				for fi, form := range forms {
					b.Run(fmt.Sprintf("%s/form=%d", rq.Name, fi), func(b *testing.B) { benchDuck(b, f.duck, rq.FormSQL(form, f.duck)) })
				}
			}
		})
	}
}

// benchDuck runs query on duck, reading every row.
func benchDuck(b *testing.B, duck *Duck, query string) {
	ctx := context.Background()
	var a Answer
	for b.Loop() {
		var err error
		if a, err = duck.Run(ctx, query); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(a.Rows), "rows")
}
