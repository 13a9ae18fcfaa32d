package engine

import (
	"context"
	"encoding/gob"
	"flag"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/cputime"
	"github.com/costexplorer/costexplorer/internal/demo"
)

// demoItems sets the size of BenchmarkQueryDemo's dataset: the demo
// generator's, as the bench module's reference dataset (bench.Config: 18
// months to 2025-06-30, seed 1), so that its Q1–Q4 have the shape they have
// in `benchrun` at the same size (at 100 M: 2.2 M rollup cells, Q2 15,659
// rows).
var (
	demoItems = flag.Int("engine.demo-items", 1_000_000, "line items of BenchmarkQueryDemo's dataset (-short: 50000)")
	demoCache = flag.String("engine.demo-cache", "", "file that keeps BenchmarkQueryDemo's rollup between runs (written when missing)")
)

// demoRollup is the monthly rollup of a demo dataset and its dimensions.
type demoRollup struct {
	Items    int64
	Orgs     []*costexplorer.Organization
	Projects []*costexplorer.Project
	Clusters []*costexplorer.Cluster
	Rollup   []costexplorer.RollupRow
	OrgItems map[string]int64
}

type demoKey struct {
	month                costexplorer.Month
	org, proj, clus, svc string
}

// generateDemoRollup sums the demo dataset of n items into its monthly
// rollup, as the bench module's Generate does.
func generateDemoRollup(b *testing.B, n int) *demoRollup {
	if *demoCache != "" {
		if f, err := os.Open(*demoCache); err == nil {
			defer f.Close()
			d := &demoRollup{}
			if err := gob.NewDecoder(f).Decode(d); err != nil {
				b.Fatal(err)
			}
			if d.Items > 0 {
				return d
			}
		}
	}
	cfg := benchDemoConfig(n)
	d := &demoRollup{}
	var dims demo.Dims
	sums := map[demoKey]costexplorer.Cents{}
	err := demo.Generate(context.Background(), cfg, func(batch *costexplorer.UsageBatch) error {
		dims.Add(batch)
		for i := range batch.Items {
			it := &batch.Items[i]
			sums[demoKey{it.Date.Month(), it.OrgID, it.ProjectID, it.ClusterID, string(it.Service)}] += it.Amount
		}
		d.Items += int64(len(batch.Items))
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	d.Orgs, d.Projects, d.Clusters, d.OrgItems = dims.Orgs, dims.Projects, dims.Clusters, dims.OrgItems
	d.Rollup = make([]costexplorer.RollupRow, 0, len(sums))
	for k, v := range sums {
		d.Rollup = append(d.Rollup, costexplorer.RollupRow{Month: k.month, OrgID: k.org, ProjectID: k.proj, ClusterID: k.clus,
			Service: costexplorer.Service(k.svc), Amount: v})
	}
	if *demoCache != "" {
		f, err := os.Create(*demoCache)
		if err != nil {
			b.Fatal(err)
		}
		if err := gob.NewEncoder(f).Encode(d); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	return d
}

// queries returns Q1–Q4 as the bench module's Queries builds them
// ([demo.ReferenceQueries]).
func (d *demoRollup) queries() []demo.ReferenceQuery {
	var paying string
	for _, o := range d.Orgs {
		if o.PayingOrgID != "" {
			paying = o.PayingOrgID
		}
	}
	dims := demo.Dims{Orgs: d.Orgs, Projects: d.Projects, Clusters: d.Clusters, OrgItems: d.OrgItems}
	return demo.ReferenceQueries(&dims, paying, costexplorer.MakeMonth(2025, time.June))
}

// BenchmarkQueryDemo times Q1–Q4 as `benchrun` does, on the monthly
// snapshot of the demo dataset of -engine.demo-items line items:
//
//	go test -run '^$' -bench QueryDemo -engine.demo-items 100000000 \
//	    -engine.demo-cache /tmp/rollup-100m.gob ./internal/engine
func BenchmarkQueryDemo(b *testing.B) {
	n := *demoItems
	if testing.Short() {
		n = 50_000
	}
	d := generateDemoRollup(b, n)
	src := &memSource{version: 1, orgs: d.Orgs, projects: d.Projects, clusters: d.Clusters, rollup: d.Rollup}
	e := New(src, Options{RefreshInterval: time.Hour})
	if _, err := e.monthly.rebuild(context.Background(), e, e.monthly.started(), nil); err != nil {
		b.Fatal(err)
	}
	src.rollup = nil
	queries := d.queries()
	d = nil
	runtime.GC()
	st := e.Stats()
	b.Logf("%d rollup rows, organizations %d, projects %d, clusters %d, snapshot ≈ %.1f MB, built in %v",
		st.RollupRows, st.Organizations, st.Projects, st.Clusters, float64(st.Bytes)/1e6, st.LoadDuration)
	for _, tc := range queries {
		b.Run(tc.Name, func(b *testing.B) {
			var rows []costexplorer.Row
			cpu := cputime.Process()
			for b.Loop() {
				var err error
				if rows, err = e.Evaluate(context.Background(), &tc.Query); err != nil {
					b.Fatal(err)
				}
			}
			// The process's CPU time (the collector's included): on a
			// shared machine, steadier than the wall time.
			b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/op")
			if len(rows) == 0 {
				b.Fatal("the query found no rows")
			}
			b.ReportMetric(float64(len(rows)), "rows")
		})
	}
}
