package bench

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/costexplorer/costexplorer"
)

// RefQuery is one of the reference queries of DESIGN §4, as our query and as
// the equivalent SQL.
type RefQuery struct {
	Name  string
	About string
	Query costexplorer.Query
}

// Queries returns Q1–Q4 on d. "The largest organization" is the one with the
// most line items of its own (in the demo data, the paying organization, so
// that its queries also cover its linked organizations, as the contract
// says). Every query names its whole scope in the organizations filter, which
// changes nothing in its result, so that Variant can add an id that matches
// nothing to make a distinct query with the same answer.
func (d *Dataset) Queries() []RefQuery {
	largest := d.Orgs[0].ID
	for _, o := range d.Orgs {
		if d.orgItems[o.ID] > d.orgItems[largest] || d.orgItems[o.ID] == d.orgItems[largest] && o.ID < largest {
			largest = o.ID
		}
	}
	paying := d.Layout.PayingOrg.ID
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
	// Q3's five projects: the first five of the organization that have
	// clusters.
	var five, their []string
	for _, p := range projects {
		if len(five) < 5 && len(clustersOf[p]) > 0 {
			five = append(five, p)
			their = append(their, clustersOf[p]...)
		}
	}
	last := costexplorer.MonthOf(d.Config.Now)
	sorted := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
	return []RefQuery{
		{"Q1", "largest organization, 6 months, group by services",
			costexplorer.Query{OrgID: largest, Start: last - 5, End: last + 1, Organizations: scope(largest), Services: sortedServices(), GroupBy: costexplorer.GroupByServices}},
		{"Q2", fmt.Sprintf("one organization, 18 months, group by projects (all its %d projects)", len(projects)),
			costexplorer.Query{OrgID: largest, Start: last - 17, End: last + 1, Organizations: scope(largest), Projects: sorted(projects), GroupBy: costexplorer.GroupByProjects}},
		{"Q3", fmt.Sprintf("one organization, 3 months, 5 projects, group by clusters (their %d clusters)", len(their)),
			costexplorer.Query{OrgID: largest, Start: last - 2, End: last + 1, Organizations: scope(largest), Projects: sorted(five), Clusters: sorted(their), GroupBy: costexplorer.GroupByClusters}},
		{"Q4", fmt.Sprintf("paying organization with its %d linked organizations, 18 months, group by organizations", len(scope(paying))-1),
			costexplorer.Query{OrgID: paying, Start: last - 17, End: last + 1, Organizations: scope(paying), GroupBy: costexplorer.GroupByOrganizations}},
	}
}

func sortedServices() []costexplorer.Service {
	s := slices.Clone(costexplorer.Services)
	slices.Sort(s)
	return s
}

// noMatchID returns the i-th organization id that no dataset holds.
func noMatchID(i int) string { return fmt.Sprintf("ffffffff%016x", i) }

// Variant returns the query with variant i (i > 0) of its organizations
// filter: the same scope plus an id that matches nothing. Its answer is the
// query's, but its token differs, so a server evaluates it afresh.
func (r *RefQuery) Variant(i int) *costexplorer.Query {
	q := r.Query
	q.Organizations = slices.Clone(q.Organizations)
	if i > 0 {
		q.Organizations = append(q.Organizations, noMatchID(i))
		slices.Sort(q.Organizations)
	}
	return &q
}

// Body returns the request body of Variant(i).
func (r *RefQuery) Body(i int) []byte {
	q := r.Variant(i)
	body := map[string]any{
		"startDate":     q.Start.Date(),
		"endDate":       q.End.Date(),
		"organizations": q.Organizations,
		"groupBy":       q.GroupBy,
	}
	if len(q.Projects) > 0 {
		body["projects"] = q.Projects
	}
	if len(q.Clusters) > 0 {
		body["clusters"] = q.Clusters
	}
	if len(q.Services) > 0 {
		body["services"] = q.Services
	}
	b, err := json.Marshal(body)
	if err != nil {
		panic(err) // strings and lists of strings always marshal
	}
	return b
}

// SQL returns the equivalent DuckDB query over the raw line items (raw) or
// over the rollup table. Both tables hold 24-hex text ids, NULL for an absent
// project or cluster; a filter on a dimension then excludes the items
// without it, which is the contract's includePartialMatches=false. Groups are
// the result rows of the contract: month × organization × the groupBy
// dimension (a cluster row also carries its project).
func (r *RefQuery) SQL(raw bool) string {
	q := &r.Query
	table, month, date := "rollup", "month", "month"
	if raw {
		table, month, date = "line_items", "date_trunc('month', usage_date)::DATE", "usage_date"
	}
	group := []string{month + " AS month", "org"}
	switch q.GroupBy {
	case costexplorer.GroupByProjects:
		group = append(group, "project")
	case costexplorer.GroupByClusters:
		group = append(group, "project", "cluster")
	case costexplorer.GroupByServices:
		group = append(group, "service")
	}
	where := []string{
		"org IN " + sqlList(q.Organizations),
		fmt.Sprintf("%s >= DATE '%s' AND %s < DATE '%s'", date, q.Start.Date(), date, q.End.Date()),
	}
	if len(q.Projects) > 0 {
		where = append(where, "project IN "+sqlList(q.Projects))
	}
	if len(q.Clusters) > 0 {
		where = append(where, "cluster IN "+sqlList(q.Clusters))
	}
	if len(q.Services) > 0 {
		s := make([]string, len(q.Services))
		for i, v := range q.Services {
			s[i] = string(v)
		}
		where = append(where, "service IN "+sqlList(s))
	}
	return fmt.Sprintf("SELECT %s, SUM(cents)::BIGINT AS cents FROM %s WHERE %s GROUP BY ALL ORDER BY ALL",
		strings.Join(group, ", "), table, strings.Join(where, " AND "))
}

// sqlList renders strings as a SQL list of literals (ids and service names
// hold no quotes, but they are escaped anyway).
func sqlList(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
	}
	return "(" + strings.Join(q, ", ") + ")"
}
