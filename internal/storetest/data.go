package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
)

// Shape sizes a synthetic dataset: every organization has ProjectsPerOrg
// projects, every project ClustersPerProject clusters, and usage runs daily
// for Days days from Start.
type Shape struct {
	Orgs               int
	ProjectsPerOrg     int
	ClustersPerProject int
	Start              costexplorer.Day
	Days               int
}

// Dataset generates deterministic synthetic usage for store tests and
// benchmarks: per cluster and day an instance, storage, backup and data
// transfer charge; per project now and then an App Services charge (no
// cluster); per organization a monthly Support charge and, for some, a
// negative credit (no project, no cluster). It depends on nothing but the
// seed, so a benchmark and a test see the same data.
type Dataset struct {
	Orgs     []costexplorer.Organization
	Projects []costexplorer.Project
	Clusters []costexplorer.Cluster

	shape   Shape
	seed    uint64
	rnd     *rand.Rand
	day     int // next day to generate
	pending []costexplorer.LineItem
	serial  int

	projectOrg map[string]string
}

var tiers = []struct {
	name  string
	cents int64 // hourly price in cents
}{{"M10", 8}, {"M20", 20}, {"M30", 54}, {"M40", 104}, {"M50", 200}, {"M60", 395}}

var providers = []string{"AWS", "GCP", "AZURE"}

// NewDataset returns the dataset of seed and shape.
func NewDataset(seed uint64, s Shape) *Dataset {
	d := &Dataset{shape: s, seed: seed, rnd: rand.New(rand.NewPCG(seed, 0x5eed))}
	id := func(kind string, n int) string {
		return costexplorer.DeriveID("storetest", strconv.FormatUint(seed, 10), kind, strconv.Itoa(n))
	}
	for o := 0; o < s.Orgs; o++ {
		org := costexplorer.Organization{ID: id("org", o), Name: fmt.Sprintf("Org %03d", o)}
		d.Orgs = append(d.Orgs, org)
		for p := 0; p < s.ProjectsPerOrg; p++ {
			proj := costexplorer.Project{ID: id("project", len(d.Projects)), OrgID: org.ID, Name: fmt.Sprintf("project-%d-%d", o, p)}
			d.Projects = append(d.Projects, proj)
			for c := 0; c < s.ClustersPerProject; c++ {
				n := len(d.Clusters)
				d.Clusters = append(d.Clusters, costexplorer.Cluster{
					ID: id("cluster", n), ProjectID: proj.ID, Name: fmt.Sprintf("Cluster%d", c),
					Provider: providers[n%len(providers)], Tier: tiers[n%len(tiers)].name,
				})
			}
		}
	}
	return d
}

// Dimensions returns a batch holding every organization, project and cluster
// and no items.
func (d *Dataset) Dimensions() *costexplorer.UsageBatch {
	return &costexplorer.UsageBatch{Organizations: d.Orgs, Projects: d.Projects, Clusters: d.Clusters}
}

// Done reports whether every day has been generated and taken.
func (d *Dataset) Done() bool { return d.day >= d.shape.Days && len(d.pending) == 0 }

// Items returns the next n line items (fewer at the end of the data).
func (d *Dataset) Items(n int) []costexplorer.LineItem {
	for len(d.pending) < n && d.day < d.shape.Days {
		d.generateDay(d.shape.Start + costexplorer.Day(d.day))
		d.day++
	}
	n = min(n, len(d.pending))
	out := make([]costexplorer.LineItem, n)
	copy(out, d.pending[:n])
	d.pending = d.pending[n:]
	return out
}

// All returns every remaining item.
func (d *Dataset) All() []costexplorer.LineItem {
	var out []costexplorer.LineItem
	for !d.Done() {
		out = append(out, d.Items(10000)...)
	}
	return out
}

func (d *Dataset) item(orgID, projectID, clusterID, sku string, day costexplorer.Day, qty float64, priceNanos int64, cents int64) {
	s, err := costexplorer.LookupSKU(sku)
	if err != nil {
		panic(err) // the generator uses catalogue SKUs only
	}
	d.serial++
	d.pending = append(d.pending, costexplorer.LineItem{
		ID:    costexplorer.NewLineItemID("storetest", strconv.FormatUint(d.seed, 10), strconv.Itoa(d.serial)),
		OrgID: orgID, ProjectID: projectID, ClusterID: clusterID,
		Service: s.Service, SKU: sku, Unit: s.Unit, Date: day,
		Quantity: qty, UnitPriceNanos: priceNanos, Amount: costexplorer.Cents(cents),
	})
}

func (d *Dataset) generateDay(day costexplorer.Day) {
	r := d.rnd
	if d.projectOrg == nil {
		d.projectOrg = map[string]string{}
		for _, p := range d.Projects {
			d.projectOrg[p.ID] = p.OrgID
		}
	}
	for i, c := range d.Clusters {
		org := d.projectOrg[c.ProjectID]
		t := tiers[i%len(tiers)]
		hours := 24.0
		if r.IntN(20) == 0 {
			hours = float64(r.IntN(24))
		}
		d.item(org, c.ProjectID, c.ID, "ATLAS_"+c.Provider+"_INSTANCE_"+t.name, day, hours, t.cents*1e7, int64(hours)*t.cents)
		gb := 10 + r.Float64()*500
		d.item(org, c.ProjectID, c.ID, "ATLAS_"+c.Provider+"_STORAGE_PROVISIONED", day, gb/30, 115_000_000, int64(gb*115/30/10))
		if r.IntN(2) == 0 {
			d.item(org, c.ProjectID, c.ID, "ATLAS_"+c.Provider+"_BACKUP_SNAPSHOT_STORAGE", day, gb, 2_500_000, int64(gb*0.25))
		}
		if r.IntN(3) == 0 {
			x := r.Float64() * 100
			d.item(org, c.ProjectID, c.ID, "ATLAS_"+c.Provider+"_DATA_TRANSFER_INTERNET", day, x, 90_000_000, int64(x*9))
		}
	}
	for _, p := range d.Projects {
		if r.IntN(4) == 0 {
			req := float64(r.IntN(1_000_000))
			d.item(p.OrgID, p.ID, "", "REALM_APP_REQUESTS", day, req, 2_000, int64(req/5000))
		}
	}
	if day.Time().Day() == 1 {
		for i, o := range d.Orgs {
			d.item(o.ID, "", "", "ATLAS_SUPPORT_PRO", day, 1, 79_900_000_000, 7990+int64(r.IntN(100000)))
			if i%3 == 0 {
				d.item(o.ID, "", "", "CREDIT", day, 1, 0, -int64(1+r.IntN(50000)))
			}
		}
	}
}

// SmallData ingests in one batch a small dataset (seed 42: 2 organizations
// of 2 projects of 2 clusters, the 60 days up to today) into s, for a
// store's own tests that need some rows but no particular ones (reopening,
// migrating, backing up).
func SmallData(t testing.TB, s costexplorer.Store) {
	t.Helper()
	d := NewDataset(42, Shape{Orgs: 2, ProjectsPerOrg: 2, ClustersPerProject: 2, Start: costexplorer.DayOf(time.Now()) - 60, Days: 60})
	b := d.Dimensions()
	b.Items = d.All()
	if _, err := s.IngestUsage(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}
