package engine

import (
	"cmp"
	"context"
	"flag"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/demo"
)

// benchItems sets the size of the usage benchmarks' dataset: the demo
// generator's, one daily cell a line item, as at the DESIGN §4 reference
// (20 M items; the bench module measures that size).
var benchItems = flag.Int("engine.items", 300_000, "line items of the usage benchmark dataset (-short: 30000)")

// benchDemoConfig is the demo generator's configuration of the engine's
// benchmarks: n line items, as the bench module's reference dataset
// (bench.Config: 18 months to 2025-06-30, seed 1).
func benchDemoConfig(n int) demo.Config {
	return demo.Config{Seed: 1, LineItems: n, Months: 18, Now: time.Date(2025, time.June, 30, 0, 0, 0, 0, time.UTC)}
}

// usageBenchData is the demo dataset of n items as a source whose daily
// rollup comes in the store's key order, and the reference usage queries:
// the largest organization (the paying one, with its linked organizations)
// over 90 days by cluster, 18 months by service, 90 days by team tag, and
// 18 months monthly by team and service for production only.
func usageBenchData(b *testing.B, n int) (*memSource, []struct {
	name string
	q    *costexplorer.UsageQuery
}) {
	cfg := benchDemoConfig(n)
	now := cfg.Now
	src := &memSource{version: 1}
	var dims demo.Dims
	err := demo.Generate(context.Background(), cfg, func(batch *costexplorer.UsageBatch) error {
		dims.Add(batch)
		for i := range batch.Items {
			it := &batch.Items[i]
			src.daily = append(src.daily, costexplorer.DailyRollupRow{Day: it.Date, OrgID: it.OrgID, ProjectID: it.ProjectID,
				ClusterID: it.ClusterID, Service: it.Service, SKU: it.SKU, Tags: it.Tags, Amount: it.Amount, Quantity: it.Quantity, Items: 1})
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	src.orgs, src.projects, src.clusters = dims.Orgs, dims.Projects, dims.Clusters
	slices.SortFunc(src.daily, func(x, y costexplorer.DailyRollupRow) int {
		return cmp.Or(cmp.Compare(x.OrgID, y.OrgID), cmp.Compare(x.Day.Month(), y.Day.Month()), cmp.Compare(x.ProjectID, y.ProjectID),
			cmp.Compare(x.ClusterID, y.ClusterID), cmp.Compare(x.SKU, y.SKU), cmp.Compare(x.Tags.String(), y.Tags.String()), cmp.Compare(x.Day, y.Day))
	})
	org := demo.Describe(cfg).PayingOrg.ID
	end := costexplorer.DayOf(now) + 1
	start18 := costexplorer.DayOf((costexplorer.MonthOf(now) - 17).Start())
	team := costexplorer.TagDimension("team")
	return src, []struct {
		name string
		q    *costexplorer.UsageQuery
	}{
		{"U1Clusters90Days", &costexplorer.UsageQuery{OrgID: org, Granularity: costexplorer.Daily, Start: end - 90, End: end,
			GroupBy: []costexplorer.Dimension{costexplorer.DimClusters}}},
		{"U2Services18Months", &costexplorer.UsageQuery{OrgID: org, Granularity: costexplorer.Daily, Start: start18, End: end,
			GroupBy: []costexplorer.Dimension{costexplorer.DimServices}}},
		{"U3Team90Days", &costexplorer.UsageQuery{OrgID: org, Granularity: costexplorer.Daily, Start: end - 90, End: end,
			GroupBy: []costexplorer.Dimension{team}}},
		{"U4TeamServiceProd18Months", &costexplorer.UsageQuery{OrgID: org, Granularity: costexplorer.Monthly, Start: start18, End: end,
			GroupBy: []costexplorer.Dimension{team, costexplorer.DimServices},
			Filter:  &costexplorer.Filter{Dimension: costexplorer.TagDimension("environment"), In: []string{"production"}}}},
	}
}

func BenchmarkEvaluateUsage(b *testing.B) {
	n := *benchItems
	if testing.Short() {
		n = 30_000
	}
	src, queries := usageBenchData(b, n)
	e := New(src, Options{RefreshInterval: time.Hour})
	if err := e.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	cells := len(src.daily)
	src.daily = nil
	runtime.GC()
	st := e.Stats()
	b.Logf("%d line items: daily cells %d in %d series, ≈ %.1f MB (%.2f bytes a cell), built in %v",
		n, st.DailyCells, st.DailySeries, float64(st.DailyBytes)/1e6, float64(st.DailyBytes)/float64(cells), st.DailyLoadDuration)
	if d := e.daily.snap.Load(); d != nil {
		for _, l := range d.levels {
			b.Logf("level %05b %q: %d cells in %d series, %.1f MB", l.keep, l.tagKey, l.cells, l.series, float64(l.bytes())/1e6)
		}
	}
	run := func(b *testing.B, fn func()) {
		for b.Loop() {
			fn()
		}
	}
	for _, tc := range queries {
		// The answer as the API reads it (rows made as they are read), all
		// its rows made, and its first page.
		b.Run(tc.name, func(b *testing.B) {
			var n int
			run(b, func() {
				rows, err := e.EvaluateUsageRows(context.Background(), tc.q)
				if err != nil {
					b.Fatal(err)
				}
				n = rows.Len()
			})
			if n == 0 {
				b.Fatal("the query found no rows")
			}
			b.ReportMetric(float64(n), "rows")
		})
		b.Run(tc.name+"/AllRows", func(b *testing.B) {
			run(b, func() {
				if _, err := e.EvaluateUsage(context.Background(), tc.q); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run(tc.name+"/FirstPage", func(b *testing.B) {
			run(b, func() {
				rows, err := e.EvaluateUsageRows(context.Background(), tc.q)
				if err != nil {
					b.Fatal(err)
				}
				costexplorer.PageUsageAnswer(tc.q, rows, costexplorer.UsagePage{Size: costexplorer.DefaultUsagePageSize})
			})
		})
	}
}
