package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/engine"
)

// SameResults checks that stores agree on query results: it ingests the same
// randomly cut, overlapping batches (with linked organizations, renames,
// credits and charges without project or cluster) into a store made by each
// opener, then loads the query engine on each and requires identical rows
// for a set of queries covering every groupBy, partial matches and linked
// organizations, as well as identical rollups and usage statistics. The first
// opener is the reference.
func SameResults(t *testing.T, openers ...Opener) {
	t.Helper()
	if len(openers) < 2 {
		t.Fatal("SameResults needs at least two stores")
	}
	shape := Shape{Orgs: 4, ProjectsPerOrg: 3, ClustersPerProject: 2, Start: costexplorer.DayOf(t0) - 100, Days: 100}
	d := NewDataset(11, shape)
	all := d.All()
	dims := d.Dimensions()
	dims.Organizations = slices.Clone(dims.Organizations)
	// Organizations 1 and 2 are linked to organization 0, which pays for them.
	paying := dims.Organizations[0].ID
	dims.Organizations[1].PayingOrgID = paying
	dims.Organizations[2].PayingOrgID = paying

	// The same random cut for every store: batches of random size that
	// repeat part of the batch before, and a rename half-way.
	r := rand.New(rand.NewPCG(11, 17))
	var batches []*costexplorer.UsageBatch
	batches = append(batches, dims)
	for start := 0; start < len(all); {
		n := 1 + r.IntN(900)
		from := max(0, start-r.IntN(200))
		b := &costexplorer.UsageBatch{Items: slices.Clone(all[from:min(start+n, len(all))])}
		if len(batches) == 5 {
			p := d.Projects[1]
			p.Name += " (renamed)"
			b.Projects = []costexplorer.Project{p}
		}
		batches = append(batches, b)
		start += n
	}

	stores := make([]costexplorer.Store, len(openers))
	for i, open := range openers {
		s := open(t)
		for j, b := range batches {
			if _, err := s.IngestUsage(t.Context(), b); err != nil {
				t.Fatalf("store %d: batch %d: %v", i, j, err)
			}
		}
		stores[i] = s
	}

	wantRollup := rollup(t, stores[0])
	wantStats, err := stores[0].UsageStats(t.Context())
	must(t, err)
	if wantStats.LineItems != int64(len(all)) {
		t.Fatalf("store 0 holds %d line items, want %d", wantStats.LineItems, len(all))
	}
	for i := 1; i < len(stores); i++ {
		diffCells(t, fmt.Sprintf("rollup of store %d against store 0", i), rollup(t, stores[i]), wantRollup)
		st, err := stores[i].UsageStats(t.Context())
		must(t, err)
		st.DataVersion = wantStats.DataVersion // versions count changes, not data
		if st != wantStats {
			t.Fatalf("store %d: UsageStats = %+v, store 0: %+v", i, st, wantStats)
		}
	}

	queries := compareQueries(d, shape, paying)
	engines := make([]*engine.Engine, len(stores))
	for i, s := range stores {
		engines[i] = engine.New(s, engine.Options{})
		must(t, engines[i].Load(t.Context()))
	}
	nonEmpty := 0
	for qi, q := range queries {
		want, err := engines[0].Evaluate(t.Context(), &q)
		must(t, err)
		if len(want) > 0 {
			nonEmpty++
		}
		for i := 1; i < len(engines); i++ {
			got, err := engines[i].Evaluate(t.Context(), &q)
			must(t, err)
			if !slices.Equal(got, want) {
				t.Fatalf("query %d %+v: store %d answers %d rows, store 0 %d rows; first difference: %s",
					qi, q, i, len(got), len(want), firstRowDiff(got, want))
			}
		}
	}
	if nonEmpty < len(queries)*3/4 {
		t.Fatalf("only %d of %d queries returned rows: the comparison would prove little", nonEmpty, len(queries))
	}
}

// compareQueries returns queries over the dataset: per organization, every
// groupBy with the filter values its dimension needs, with and without
// partial matches, over the whole span and over one month; and the paying
// organization grouped by organizations.
func compareQueries(d *Dataset, s Shape, paying string) []costexplorer.Query {
	start, end := s.Start.Month(), (s.Start+costexplorer.Day(s.Days)-1).Month()+1
	services := slices.Clone(costexplorer.Services)
	slices.Sort(services)
	var out []costexplorer.Query
	for _, o := range d.Orgs {
		var projects, clusters []string
		for _, p := range d.Projects {
			if p.OrgID == o.ID {
				projects = append(projects, p.ID)
			}
		}
		for _, c := range d.Clusters {
			if slices.Contains(projects[:2], c.ProjectID) {
				clusters = append(clusters, c.ID)
			}
		}
		slices.Sort(projects)
		slices.Sort(clusters)
		for _, partial := range []bool{false, true} {
			for _, w := range [][2]costexplorer.Month{{start, end}, {start + 1, start + 2}} {
				base := costexplorer.Query{OrgID: o.ID, Start: w[0], End: w[1], IncludePartialMatches: partial}
				none := base
				bySvc := base
				bySvc.Services, bySvc.GroupBy = services, costexplorer.GroupByServices
				byProj := base
				byProj.Projects, byProj.GroupBy = projects, costexplorer.GroupByProjects
				byClus := base
				byClus.Clusters, byClus.GroupBy = clusters, costexplorer.GroupByClusters
				out = append(out, none, bySvc, byProj, byClus)
			}
		}
	}
	linked := []string{paying, d.Orgs[1].ID, d.Orgs[2].ID}
	slices.Sort(linked)
	out = append(out,
		costexplorer.Query{OrgID: paying, Start: start, End: end, Organizations: linked, GroupBy: costexplorer.GroupByOrganizations},
		costexplorer.Query{OrgID: paying, Start: start, End: end, Organizations: linked[:2], GroupBy: costexplorer.GroupByOrganizations},
		costexplorer.Query{OrgID: paying, Start: start, End: end},
	)
	return out
}

func firstRowDiff(got, want []costexplorer.Row) string {
	for i := range max(len(got), len(want)) {
		switch {
		case i >= len(got):
			return fmt.Sprintf("row %d missing, want %+v", i, want[i])
		case i >= len(want):
			return fmt.Sprintf("row %d = %+v, want none", i, got[i])
		case got[i] != want[i]:
			return fmt.Sprintf("row %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	return "none"
}
