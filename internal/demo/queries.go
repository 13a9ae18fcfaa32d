package demo

import (
	"fmt"
	"slices"

	"github.com/costexplorer/costexplorer"
)

// ReferenceQuery is one of the reference queries Q1–Q4 of DESIGN §4.
type ReferenceQuery struct {
	Name  string
	About string
	Query costexplorer.Query
}

// Dims collects what the reference queries are picked from: the
// organizations, projects and clusters of generated batches, each once, in
// the order they come, and the line items of each organization. The zero
// Dims is ready to collect.
type Dims struct {
	Orgs     []*costexplorer.Organization
	Projects []*costexplorer.Project
	Clusters []*costexplorer.Cluster
	OrgItems map[string]int64

	seenOrg, seenProject, seenCluster map[string]bool
}

// Add collects the dimensions and counts the line items of b.
func (d *Dims) Add(b *costexplorer.UsageBatch) {
	if d.seenOrg == nil {
		d.seenOrg, d.seenProject, d.seenCluster = map[string]bool{}, map[string]bool{}, map[string]bool{}
	}
	if d.OrgItems == nil {
		d.OrgItems = map[string]int64{}
	}
	d.Orgs = appendUnseen(d.Orgs, d.seenOrg, b.Organizations, func(o *costexplorer.Organization) string { return o.ID })
	d.Projects = appendUnseen(d.Projects, d.seenProject, b.Projects, func(p *costexplorer.Project) string { return p.ID })
	d.Clusters = appendUnseen(d.Clusters, d.seenCluster, b.Clusters, func(c *costexplorer.Cluster) string { return c.ID })
	for i := range b.Items {
		d.OrgItems[b.Items[i].OrgID]++
	}
}

// appendUnseen appends to dst a copy of each of src whose id is not in seen,
// and marks it seen.
func appendUnseen[T any](dst []*T, seen map[string]bool, src []T, id func(*T) string) []*T {
	for i := range src {
		if v := &src[i]; !seen[id(v)] {
			seen[id(v)] = true
			c := *v
			dst = append(dst, &c)
		}
	}
	return dst
}

// ReferenceQueries returns Q1–Q4 on the dataset of d, whose paying
// organization is paying and whose last month is last, as the bench
// module's `benchrun` and the benchmarks of the engine and of the stores
// run them. "The largest organization" is the one with the most line items
// of its own (the smaller id on a tie; in the demo data, the paying
// organization, so that its queries also cover its linked organizations, as
// the contract says). Every query names its whole scope in the
// organizations filter, which changes nothing in its result, so that a
// caller can add an id that matches nothing to make a distinct query with
// the same answer. Q2 takes all the organization's projects, Q3 the first
// five of them (in generation order) that have clusters, and their
// clusters.
func ReferenceQueries(d *Dims, paying string, last costexplorer.Month) []ReferenceQuery {
	largest := d.Orgs[0].ID
	for _, o := range d.Orgs {
		if d.OrgItems[o.ID] > d.OrgItems[largest] || d.OrgItems[o.ID] == d.OrgItems[largest] && o.ID < largest {
			largest = o.ID
		}
	}
	scope := func(org string) []string {
		s := []string{org}
		for _, o := range d.Orgs {
			if o.PayingOrgID == org {
				s = append(s, o.ID)
			}
		}
		slices.Sort(s)
		return s
	}
	var projects []string // the largest organization's, in generation order
	for _, p := range d.Projects {
		if p.OrgID == largest {
			projects = append(projects, p.ID)
		}
	}
	clustersOf := map[string][]string{}
	for _, c := range d.Clusters {
		clustersOf[c.ProjectID] = append(clustersOf[c.ProjectID], c.ID)
	}
	var five, their []string
	for _, p := range projects {
		if len(five) < 5 && len(clustersOf[p]) > 0 {
			five = append(five, p)
			their = append(their, clustersOf[p]...)
		}
	}
	sorted := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
	services := slices.Clone(costexplorer.Services)
	slices.Sort(services)
	return []ReferenceQuery{
		{"Q1", "largest organization, 6 months, group by services",
			costexplorer.Query{OrgID: largest, Start: last - 5, End: last + 1, Organizations: scope(largest), Services: services, GroupBy: costexplorer.GroupByServices}},
		{"Q2", fmt.Sprintf("one organization, 18 months, group by projects (all its %d projects)", len(projects)),
			costexplorer.Query{OrgID: largest, Start: last - 17, End: last + 1, Organizations: scope(largest), Projects: sorted(projects), GroupBy: costexplorer.GroupByProjects}},
		{"Q3", fmt.Sprintf("one organization, 3 months, 5 projects, group by clusters (their %d clusters)", len(their)),
			costexplorer.Query{OrgID: largest, Start: last - 2, End: last + 1, Organizations: scope(largest), Projects: sorted(five), Clusters: sorted(their), GroupBy: costexplorer.GroupByClusters}},
		{"Q4", fmt.Sprintf("paying organization with its %d linked organizations, 18 months, group by organizations", len(scope(paying))-1),
			costexplorer.Query{OrgID: paying, Start: last - 17, End: last + 1, Organizations: scope(paying), GroupBy: costexplorer.GroupByOrganizations}},
	}
}
