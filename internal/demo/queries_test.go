package demo

import (
	"cmp"
	"slices"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer"
)

// TestReferenceQueries collects a small dataset with Dims and checks the
// shape of Q1–Q4: each dimension collected once, every item counted, Q1–Q3
// on the organization with the most items, Q3's projects all with clusters
// and exactly their clusters, Q4 the paying organization with its linked
// ones.
func TestReferenceQueries(t *testing.T) {
	cfg := testConfig(20_000)
	var d Dims
	if err := Generate(t.Context(), cfg, func(b *costexplorer.UsageBatch) error { d.Add(b); return nil }); err != nil {
		t.Fatal(err)
	}
	lay := Describe(cfg)
	var items int64
	for _, n := range d.OrgItems {
		items += n
	}
	if items != lay.LineItems {
		t.Errorf("counted %d items, generated %d", items, lay.LineItems)
	}
	seen := map[string]bool{}
	for _, id := range slices.Concat(ids(d.Orgs, orgID), ids(d.Projects, projectID), ids(d.Clusters, clusterID)) {
		if seen[id] {
			t.Fatalf("%s collected twice", id)
		}
		seen[id] = true
	}

	qs := ReferenceQueries(&d, lay.PayingOrg.ID, lay.LastDay.Month())
	var names []string
	for _, q := range qs {
		names = append(names, q.Name)
	}
	if !slices.Equal(names, []string{"Q1", "Q2", "Q3", "Q4"}) {
		t.Fatalf("queries %v", names)
	}
	// The most items, the smaller id on a tie.
	largest := slices.MaxFunc(d.Orgs, func(a, b *costexplorer.Organization) int {
		return cmp.Or(cmp.Compare(d.OrgItems[a.ID], d.OrgItems[b.ID]), strings.Compare(b.ID, a.ID))
	}).ID
	// Only the paying organization has linked ones.
	scope := func(org string) []string {
		if org != lay.PayingOrg.ID {
			return []string{org}
		}
		s := []string{org}
		for _, o := range lay.Linked {
			s = append(s, o.ID)
		}
		slices.Sort(s)
		return s
	}
	for i, q := range qs {
		org := largest
		if i == 3 {
			org = lay.PayingOrg.ID
		}
		if q.Query.OrgID != org || !slices.Equal(q.Query.Organizations, scope(org)) {
			t.Errorf("%s: organization %s, scope %v; want %s, scope %v", q.Name, q.Query.OrgID, q.Query.Organizations, org, scope(org))
		}
	}
	if len(lay.Linked) == 0 {
		t.Error("the layout has no linked organizations: Q4's scope is untested")
	}
	// Q3: at most five of the organization's projects, each with clusters,
	// and exactly their clusters.
	q3 := qs[2].Query
	byProject := map[string][]string{}
	for _, c := range d.Clusters {
		byProject[c.ProjectID] = append(byProject[c.ProjectID], c.ID)
	}
	var want []string
	for _, p := range q3.Projects {
		if len(byProject[p]) == 0 {
			t.Errorf("Q3 project %s has no clusters", p)
		}
		want = append(want, byProject[p]...)
	}
	slices.Sort(want)
	if len(q3.Projects) == 0 || len(q3.Projects) > 5 || !slices.Equal(q3.Clusters, want) {
		t.Errorf("Q3: projects %v, clusters %v; want at most five projects and their clusters %v", q3.Projects, q3.Clusters, want)
	}
}

func ids[T any](s []*T, id func(*T) string) []string {
	var out []string
	for _, v := range s {
		out = append(out, id(v))
	}
	return out
}

func orgID(o *costexplorer.Organization) string { return o.ID }
func projectID(p *costexplorer.Project) string  { return p.ID }
func clusterID(c *costexplorer.Cluster) string  { return c.ID }
