package engine

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
)

// benchRows sets the size of the synthetic rollup. The default is the DESIGN
// §4 reference: 20 M line items roll up into about 370 k cells.
var benchRows = flag.Int("engine.rows", 370_000, "approximate rollup cells of the benchmark dataset (-short: 20000)")

// benchData is a synthetic rollup shaped like the DESIGN §4 reference: 50
// organizations of skewed sizes, the second one paying for five linked ones,
// 2,000 projects and 8,000 clusters at the reference size (scaled with the
// size), 18 months. Clusters appear over time; each active cluster-month has
// Clusters, Storage and Backup cells and often Data Transfer; projects have
// project-level cells (no cluster); organizations have Support and Credits
// cells (no project). Every organization's month has an invoice.
type benchData struct {
	src     *memSource
	last    costexplorer.Month
	largest string   // the organization with the most projects
	largeP  []string // its projects
	largeC  []string // the clusters of its first five projects
	paying  string
	linked  []string
}

func benchSize() int {
	if testing.Short() {
		return 20_000
	}
	return *benchRows
}

func generate(size int) *benchData {
	const nOrgs, months = 50, 18
	scale := float64(size) / 370_000
	nProjects := max(nOrgs, int(2000*scale))
	nClusters := max(nProjects, int(8000*scale))
	r := rand.New(rand.NewPCG(42, 42))
	d := &benchData{src: &memSource{version: 1}, last: costexplorer.MakeMonth(2025, time.June)}
	first := d.last - months + 1

	for i := range nOrgs {
		o := &costexplorer.Organization{ID: hexID('a', i), Name: fmt.Sprintf("Org %02d", i)}
		if i >= 2 && i <= 6 {
			o.PayingOrgID = hexID('a', 1)
			d.linked = append(d.linked, o.ID)
		}
		d.src.orgs = append(d.src.orgs, o)
	}
	d.paying = hexID('a', 1)
	// Projects go to organizations with Zipf-like weights: organization 0
	// is the largest.
	weights := make([]float64, nOrgs)
	var total float64
	for i := range weights {
		weights[i] = 1 / math.Pow(float64(i+1), 0.8)
		total += weights[i]
	}
	pickOrg := func() int {
		x := r.Float64() * total
		for i, w := range weights {
			if x < w {
				return i
			}
			x -= w
		}
		return nOrgs - 1
	}
	projOrg := make([]string, nProjects)
	for i := range nProjects {
		org := i % nOrgs // every organization has a project
		if i >= nOrgs {
			org = pickOrg()
		}
		p := &costexplorer.Project{ID: hexID('b', i), OrgID: hexID('a', org), Name: fmt.Sprintf("project-%04d", r.IntN(10000))}
		projOrg[i] = p.OrgID
		d.src.projects = append(d.src.projects, p)
		if org == 0 {
			d.largeP = append(d.largeP, p.ID)
		}
	}
	d.largest = hexID('a', 0)

	add := func(m costexplorer.Month, org, proj, clus string, svc costexplorer.Service, cents int) {
		d.src.rollup = append(d.src.rollup, costexplorer.RollupRow{Month: m, OrgID: org, ProjectID: proj, ClusterID: clus, Service: svc, Amount: costexplorer.Cents(cents)})
	}
	for i := range nClusters {
		pi := i % nProjects // every project has a cluster
		if i >= nProjects {
			pi = r.IntN(nProjects)
		}
		c := &costexplorer.Cluster{ID: hexID('c', i), ProjectID: hexID('b', pi), Name: fmt.Sprintf("cluster-%05d", r.IntN(100000))}
		d.src.clusters = append(d.src.clusters, c)
		if slices.Contains(d.largeP[:5], c.ProjectID) {
			d.largeC = append(d.largeC, c.ID)
		}
		for m := first + costexplorer.Month(r.IntN(9)); m <= d.last; m++ {
			add(m, projOrg[pi], c.ProjectID, c.ID, costexplorer.ServiceClusters, 10000+r.IntN(500000))
			add(m, projOrg[pi], c.ProjectID, c.ID, costexplorer.ServiceStorage, r.IntN(50000))
			add(m, projOrg[pi], c.ProjectID, c.ID, costexplorer.ServiceBackup, r.IntN(30000))
			if r.IntN(5) < 2 {
				add(m, projOrg[pi], c.ProjectID, c.ID, costexplorer.ServiceDataTransfer, r.IntN(20000))
			}
		}
	}
	for pi := range nProjects {
		for m := first; m <= d.last; m++ {
			if r.IntN(2) == 0 {
				add(m, projOrg[pi], hexID('b', pi), "", costexplorer.ServiceDataTransfer, r.IntN(5000))
			}
		}
	}
	for i := range nOrgs {
		for m := first; m <= d.last; m++ {
			add(m, hexID('a', i), "", "", costexplorer.ServiceSupport, 50000)
			// Every organization's month has its invoice, as in a store,
			// with an id of its own (an imported Invoice Number).
			d.src.invoices = append(d.src.invoices, costexplorer.InvoiceRef{OrgID: hexID('a', i), Month: m, ID: hexID('d', i*months+int(m-first))})
			if r.IntN(3) == 0 {
				add(m, hexID('a', i), "", "", costexplorer.ServiceCredits, -r.IntN(100000))
			}
		}
	}
	return d
}

// queries returns the four reference queries of DESIGN §4 on d.
func (d *benchData) queries() []struct {
	name string
	q    *costexplorer.Query
} {
	return []struct {
		name string
		q    *costexplorer.Query
	}{
		{"Q1", &costexplorer.Query{OrgID: d.largest, Start: d.last - 5, End: d.last + 1, Services: costexplorer.Services, GroupBy: costexplorer.GroupByServices}},
		{"Q2", &costexplorer.Query{OrgID: d.largest, Start: d.last - 17, End: d.last + 1, Projects: d.largeP, GroupBy: costexplorer.GroupByProjects}},
		{"Q3", &costexplorer.Query{OrgID: d.largest, Start: d.last - 2, End: d.last + 1, Projects: d.largeP[:5], Clusters: d.largeC, GroupBy: costexplorer.GroupByClusters}},
		{"Q4", &costexplorer.Query{OrgID: d.paying, Start: d.last - 17, End: d.last + 1, Organizations: append([]string{d.paying}, d.linked...), GroupBy: costexplorer.GroupByOrganizations}},
	}
}

func BenchmarkQuery(b *testing.B) {
	d := generate(benchSize())
	e := New(d.src, Options{RefreshInterval: time.Hour})
	if err := e.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	// A server holds the snapshot, not the source's rows: drop them so
	// that the garbage collector does not scan them on every cycle.
	d.src.rollup = nil
	runtime.GC()
	st := e.Stats()
	b.Logf("rollup rows %d, organizations %d, projects %d, clusters %d, snapshot ≈ %.1f MB, built in %v",
		st.RollupRows, st.Organizations, st.Projects, st.Clusters, float64(st.Bytes)/1e6, st.LoadDuration)
	for _, tc := range d.queries() {
		b.Run(tc.name, func(b *testing.B) {
			var rows []costexplorer.Row
			for b.Loop() {
				var err error
				if rows, err = e.Evaluate(context.Background(), tc.q); err != nil {
					b.Fatal(err)
				}
			}
			if len(rows) == 0 {
				b.Fatal("the query found no rows")
			}
			b.ReportMetric(float64(len(rows)), "rows")
			b.ReportMetric(float64(st.RollupRows), "rollup-rows")
		})
	}
}

// BenchmarkLoad measures a full snapshot build from an in-memory source (the
// store's own scan time comes on top).
func BenchmarkLoad(b *testing.B) {
	d := generate(benchSize())
	e := New(d.src, Options{})
	for b.Loop() {
		if err := e.Load(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(e.Stats().RollupRows), "rollup-rows")
}

// BenchmarkLoadSQLite measures a full reload from a real SQLite store holding
// the benchmark rollup (one line item per cell, so the store's rollup has the
// same number of cells): what every replica pays when the data version
// changes.
func BenchmarkLoadSQLite(b *testing.B) {
	d := generate(benchSize())
	st := newTestStore(b)
	batch := &costexplorer.UsageBatch{}
	for _, o := range d.src.orgs {
		batch.Organizations = append(batch.Organizations, *o)
	}
	for _, p := range d.src.projects {
		batch.Projects = append(batch.Projects, *p)
	}
	for _, c := range d.src.clusters {
		batch.Clusters = append(batch.Clusters, *c)
	}
	flush := func() {
		ingest(b, st, batch)
		batch = &costexplorer.UsageBatch{}
	}
	for i, r := range d.src.rollup {
		batch.Items = append(batch.Items, costexplorer.LineItem{
			ID: costexplorer.NewLineItemID("bench", fmt.Sprint(i)), OrgID: r.OrgID, ProjectID: r.ProjectID, ClusterID: r.ClusterID,
			Service: r.Service, SKU: "BENCH_" + string(r.Service), Date: costexplorer.DayOf(r.Month.Start()),
			Quantity: 1, Unit: "units", Amount: r.Amount,
		})
		if len(batch.Items) == 50_000 {
			flush()
		}
	}
	flush()
	d.src.rollup = nil
	e := New(st, Options{})
	for b.Loop() {
		if err := e.Load(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(e.Stats().RollupRows), "rollup-rows")
}
