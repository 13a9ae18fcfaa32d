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
// DuckDB's with prepared statements, in the same run. The engine is timed
// three ways: the answer as usage:query gets it (EvaluateUsageRows: summed,
// its rows made only when read), with all its rows made (EvaluateUsage),
// and with its first page made (what one usage:query request costs).
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/bench"
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
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the engine's queries to this file")
	flag.Parse()
	if *work == "" {
		return fmt.Errorf("-work is required")
	}
	if err := os.MkdirAll(*work, 0o755); err != nil {
		return err
	}
	dbPath, duckPath := filepath.Join(*work, "daily.db"), filepath.Join(*work, "daily.duckdb")

	var (
		duck  *bench.Duck
		err   error
		total int64 // line items
	)
	if *reuse {
		if duck, err = bench.OpenDuckFile(ctx, duckPath); err != nil {
			return err
		}
		if total, err = duck.Count(ctx, "daily"); err != nil {
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
		d, err := bench.Generate(ctx, *items, duck.AppendDaily, func(b *costexplorer.UsageBatch) error {
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
		total = d.LineItems
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

	eng, store, err := bench.LoadEngine(ctx, dbPath)
	if err != nil {
		return err
	}
	defer store.Close()
	st := eng.Stats()
	fmt.Printf("engine: daily %d cells in %d series, %.1f MB (%.2f bytes a line item), built in %v; monthly %.1f MB\n",
		st.DailyCells, st.DailySeries, float64(st.DailyBytes)/1e6, float64(st.DailyBytes)/float64(total),
		st.DailyLoadDuration.Round(time.Millisecond), float64(st.Bytes)/1e6)

	org, scope, err := largestOrg(ctx, dbPath)
	if err != nil {
		return err
	}
	fmt.Printf("largest organization %s, with %d linked\n", org, len(scope)-1)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Printf("\n| query | rows | engine median (p99) ms | engine CPU ms a query | all rows made: median ms, CPU ms | first page: median ms, CPU ms | DuckDB median ms | engine ÷ DuckDB |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, u := range queries(org, scope, bench.ReferenceNow) {
		// measure runs fn n times and returns its wall-clock times and CPU
		// time a run.
		measure := func(n int, fn func() error) (bench.Timing, time.Duration, error) {
			times := make([]time.Duration, 0, n)
			cpu := bench.CPUTime()
			for range n {
				t := time.Now()
				if err := fn(); err != nil {
					return bench.Timing{}, 0, fmt.Errorf("%s: %w", u.name, err)
				}
				times = append(times, time.Since(t))
			}
			return bench.Summarise(times), (bench.CPUTime() - cpu) / time.Duration(n), nil
		}
		// The answer as usage:query gets it (its rows made as they are
		// read), all its rows made (EvaluateUsage), and its first page.
		var rows int
		et, ecpu, err := measure(*engineRuns, func() error {
			a, err := eng.EvaluateUsageRows(ctx, &u.q)
			if err == nil {
				rows = a.Len()
			}
			return err
		})
		if err != nil {
			return err
		}
		at, acpu, err := measure(*engineRuns, func() error {
			_, err := eng.EvaluateUsage(ctx, &u.q)
			return err
		})
		if err != nil {
			return err
		}
		pt, pcpu, err := measure(*engineRuns, func() error {
			a, err := eng.EvaluateUsageRows(ctx, &u.q)
			if err == nil {
				costexplorer.PageUsageAnswer(&u.q, a, costexplorer.UsagePage{Size: costexplorer.DefaultUsagePageSize})
			}
			return err
		})
		if err != nil {
			return err
		}
		var duckRows int
		dt, _, err := measure(*duckRuns, func() error {
			a, err := duck.Run(ctx, u.sql)
			if err == nil {
				duckRows = a.Rows
			}
			return err
		})
		if err != nil {
			return err
		}
		fmt.Printf("| %s: %s | %d (DuckDB %d) | %.3f (%.3f) | %.3f | %.3f, %.3f | %.3f, %.3f | %.2f | %.3f× |\n", u.name, u.what, rows, duckRows,
			bench.Ms(et.Median), bench.Ms(et.P99), bench.Ms(ecpu), bench.Ms(at.Median), bench.Ms(acpu), bench.Ms(pt.Median), bench.Ms(pcpu),
			bench.Ms(dt.Median), float64(et.Median)/float64(dt.Median))
	}
	return nil
}

// largestOrg returns the organization with the most line items (about its
// daily cells) of its own (as the reference queries' "largest organization": in the demo data, the
// paying one) and its scope: itself and the organizations it pays for.
func largestOrg(ctx context.Context, dbPath string) (string, []string, error) {
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		return "", nil, err
	}
	defer db.Close()
	var org string
	var id int64
	if err := db.QueryRowContext(ctx, `SELECT o.ext_id, o.id FROM line_items d JOIN organizations o ON o.id = d.org_id
		GROUP BY o.id ORDER BY COUNT(*) DESC, o.ext_id LIMIT 1`).Scan(&org, &id); err != nil {
		return "", nil, fmt.Errorf("largest organization: %w", err)
	}
	scope := []string{org}
	rows, err := db.QueryContext(ctx, "SELECT ext_id FROM organizations WHERE paying_org_id = ?", id)
	if err != nil {
		return "", nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			return "", nil, err
		}
		scope = append(scope, o)
	}
	slices.Sort(scope)
	return org, scope, rows.Err()
}

// queries returns the reference usage queries: the largest organization
// (with its linked ones: the engine's scope) over 90 days by cluster, over
// 18 months by service, over 90 days by team tag, and over 18 months by team
// and service for production only; the data ends on now.
func queries(org string, scope []string, now time.Time) []usageQuery {
	end := costexplorer.DayOf(now) + 1
	start90 := end - 90
	start18 := costexplorer.DayOf((costexplorer.MonthOf(now) - 17).Start())
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
