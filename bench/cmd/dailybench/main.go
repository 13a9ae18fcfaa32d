// Command dailybench measures the engine's usage queries (issue 17: daily
// granularity, tags, two group-bys, filters) on the reference dataset, with
// DuckDB beside it on the same queries over a daily rollup table, and the
// memory of `costexplorer serve` with both rollups loaded.
//
//	go run ./cmd/dailybench -work /tmp/daily -bin /path/to/costexplorer -items 20000000
//
// One pass of the generator loads the SQLite store (the daily rollup kept by
// ingest) and DuckDB's table of daily cells (the demo makes one line item a
// resource, SKU and day, so its items are the daily rollup's cells; tags are
// columns there). The server then starts on the store and its resident set
// is read once it is ready (its Load builds both snapshots); the engine's
// medians are taken in this process, each query evaluated afresh, and
// DuckDB's with prepared statements, in the same run.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/bench"
	"github.com/costexplorer/costexplorer/internal/engine"
	"github.com/costexplorer/costexplorer/internal/sqlite"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "dailybench:", err)
		os.Exit(1)
	}
}

// usageQuery is one reference usage query and its SQL over DuckDB's table.
type usageQuery struct {
	name, what string
	q          costexplorer.UsageQuery
	sql        string
}

func run(ctx context.Context) error {
	work := flag.String("work", "", "scratch directory (required)")
	bin := flag.String("bin", "", "the costexplorer binary: measure the server's memory with it")
	items := flag.Int("items", 1000000, "line items")
	engineRuns := flag.Int("engine-runs", 201, "engine evaluations per query")
	duckRuns := flag.Int("duck-runs", 21, "DuckDB executions per query")
	reuse := flag.Bool("reuse", false, "reuse the store and DuckDB file of an earlier run in -work")
	flag.Parse()
	if *work == "" {
		return fmt.Errorf("-work is required")
	}
	if err := os.MkdirAll(*work, 0o755); err != nil {
		return err
	}
	dbPath, duckPath := filepath.Join(*work, "daily.db"), filepath.Join(*work, "daily.duckdb")

	var (
		d    *bench.Dataset
		duck *bench.Duck
		err  error
	)
	if *reuse {
		if d, err = bench.Generate(ctx, *items); err != nil {
			return err
		}
		if duck, err = bench.OpenDuckFile(ctx, duckPath); err != nil {
			return err
		}
	} else {
		for _, p := range []string{dbPath, dbPath + "-wal", dbPath + "-shm"} {
			os.Remove(p)
		}
		store, err := sqlite.Open(ctx, dbPath, sqlite.Options{})
		if err != nil {
			return err
		}
		if duck, err = bench.OpenDuck(ctx, duckPath); err != nil {
			return err
		}
		var storeTook time.Duration
		start := time.Now()
		d, err = bench.Generate(ctx, *items, duck.AppendDaily, func(b *costexplorer.UsageBatch) error {
			t := time.Now()
			_, err := store.IngestUsage(ctx, b)
			storeTook += time.Since(t)
			return err
		})
		if err != nil {
			return err
		}
		if err := store.Close(); err != nil {
			return err
		}
		fmt.Printf("generated %d line items in %v; SQLite ingest (both rollups kept) %.0f items/s\n",
			d.LineItems, time.Since(start).Round(time.Second), float64(d.LineItems)/storeTook.Seconds())
		if err := duck.FinishDaily(ctx); err != nil {
			return err
		}
	}
	defer duck.Close()

	if *bin != "" {
		srv, err := bench.StartServer(ctx, *bin, dbPath, filepath.Join(*work, "server.log"), "--history-months", "600", "--log-level", "warn")
		if err != nil {
			return err
		}
		peak, cur, err := srv.Memory()
		srv.Stop()
		if err != nil {
			return err
		}
		fmt.Printf("server with both rollups loaded: RSS %d MB, peak (VmHWM, the builds included) %d MB\n", cur>>20, peak>>20)
	}

	store, err := sqlite.Open(ctx, dbPath, sqlite.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	eng := engine.New(store, engine.Options{RefreshInterval: time.Hour})
	if err := eng.Load(ctx); err != nil {
		return err
	}
	st := eng.Stats()
	fmt.Printf("engine: daily %d cells in %d series, %.1f MB (%.2f bytes a line item), built in %v; monthly %.1f MB\n",
		st.DailyCells, st.DailySeries, float64(st.DailyBytes)/1e6, float64(st.DailyBytes)/float64(d.LineItems),
		st.DailyLoadDuration.Round(time.Millisecond), float64(st.Bytes)/1e6)

	fmt.Printf("\n| query | rows | engine median (p99) ms | engine CPU ms a query | DuckDB median ms | engine ÷ DuckDB |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, u := range queries(d) {
		var rows int
		times := make([]time.Duration, 0, *engineRuns)
		cpu := cpuTime()
		for range *engineRuns {
			t := time.Now()
			r, err := eng.EvaluateUsage(ctx, &u.q)
			times = append(times, time.Since(t))
			if err != nil {
				return fmt.Errorf("%s: %w", u.name, err)
			}
			rows = len(r)
		}
		cpu = (cpuTime() - cpu) / time.Duration(*engineRuns)
		et := bench.Summarise(times)
		times = times[:0]
		var duckRows int
		for range *duckRuns {
			t := time.Now()
			a, err := duck.Run(ctx, u.sql)
			times = append(times, time.Since(t))
			if err != nil {
				return fmt.Errorf("%s on DuckDB: %w", u.name, err)
			}
			duckRows = a.Rows
		}
		dt := bench.Summarise(times)
		fmt.Printf("| %s: %s | %d (DuckDB %d) | %.3f (%.3f) | %.3f | %.2f | %.3f× |\n", u.name, u.what, rows, duckRows,
			bench.Ms(et.Median), bench.Ms(et.P99), bench.Ms(cpu), bench.Ms(dt.Median), float64(et.Median)/float64(dt.Median))
	}
	return nil
}

// cpuTime returns the user and system CPU time of the process so far: on a
// loaded machine, steadier than wall time (the garbage collector's work
// included).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// queries returns the reference usage queries on d: the largest
// organization (with its linked ones: the engine's scope) over 90 days by
// cluster, over 18 months by service, over 90 days by team tag, and over 18
// months by team and service for production only.
func queries(d *bench.Dataset) []usageQuery {
	org := d.Queries()[0].Query.OrgID // Q1's: the largest organization
	scope := []string{org}
	for _, o := range d.Orgs {
		if o.PayingOrgID == org {
			scope = append(scope, o.ID)
		}
	}
	slices.Sort(scope)
	end := costexplorer.DayOf(d.Config.Now) + 1
	start90 := end - 90
	start18 := costexplorer.DayOf((costexplorer.MonthOf(d.Config.Now) - 17).Start())
	in := "org IN ('" + strings.Join(scope, "', '") + "')"
	window := func(s costexplorer.Day) string {
		return fmt.Sprintf("day >= DATE '%s' AND day < DATE '%s'", s, end)
	}
	dims := func(ds ...costexplorer.Dimension) []costexplorer.Dimension { return ds }
	prod := &costexplorer.Filter{Dimension: costexplorer.TagDimension("environment"), In: []string{"production"}}
	return []usageQuery{
		{"U1", "90 days daily by cluster",
			costexplorer.UsageQuery{OrgID: org, Granularity: costexplorer.Daily, Start: start90, End: end, GroupBy: dims(costexplorer.DimClusters)},
			"SELECT day, cluster, SUM(cents)::BIGINT FROM daily WHERE " + in + " AND " + window(start90) + " GROUP BY ALL ORDER BY ALL"},
		{"U2", "18 months daily by service",
			costexplorer.UsageQuery{OrgID: org, Granularity: costexplorer.Daily, Start: start18, End: end, GroupBy: dims(costexplorer.DimServices)},
			"SELECT day, service, SUM(cents)::BIGINT FROM daily WHERE " + in + " AND " + window(start18) + " GROUP BY ALL ORDER BY ALL"},
		{"U3", "90 days daily by tag:team",
			costexplorer.UsageQuery{OrgID: org, Granularity: costexplorer.Daily, Start: start90, End: end, GroupBy: dims(costexplorer.TagDimension("team"))},
			"SELECT day, team, SUM(cents)::BIGINT FROM daily WHERE " + in + " AND " + window(start90) + " GROUP BY ALL ORDER BY ALL"},
		{"U4", "18 months monthly by tag:team and service, environment production",
			costexplorer.UsageQuery{OrgID: org, Granularity: costexplorer.Monthly, Start: start18, End: end,
				GroupBy: dims(costexplorer.TagDimension("team"), costexplorer.DimServices), Filter: prod},
			"SELECT date_trunc('month', day), team, service, SUM(cents)::BIGINT FROM daily WHERE " + in + " AND " + window(start18) +
				" AND environment = 'production' GROUP BY ALL ORDER BY ALL"},
	}
}
