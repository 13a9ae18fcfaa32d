package demo

import (
	"slices"
	"testing"

	"github.com/costexplorer/costexplorer"
)

// TestReferenceQueries collects a small dataset with Dims and checks the
// shape of Q1–Q4: each dimension collected once, every item counted, the
// largest organization the paying one, Q3's projects all with clusters and
// their clusters all Q3's, Q4 the paying organization with its linked ones.
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
	scope := []string{lay.PayingOrg.ID}
	for _, o := range lay.Linked {
		scope = append(scope, o.ID)
	}
	slices.Sort(scope)
	for _, q := range qs {
		if q.Query.OrgID != lay.PayingOrg.ID || !slices.Equal(q.Query.Organizations, scope) {
			t.Errorf("%s: organization %s, scope %v; want the paying organization %s with its linked ones %v",
				q.Name, q.Query.OrgID, q.Query.Organizations, lay.PayingOrg.ID, scope)
		}
	}
	q3 := qs[2].Query
	projectOf := map[string]string{}
	for _, c := range d.Clusters {
		projectOf[c.ID] = c.ProjectID
	}
	withClusters := map[string]bool{}
	for _, c := range q3.Clusters {
		if !slices.Contains(q3.Projects, projectOf[c]) {
			t.Errorf("Q3 cluster %s of project %s, not one of Q3's", c, projectOf[c])
		}
		withClusters[projectOf[c]] = true
	}
	if len(q3.Projects) != 5 || len(withClusters) != 5 {
		t.Errorf("Q3: %d projects, %d of them with clusters; want 5 and 5", len(q3.Projects), len(withClusters))
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
