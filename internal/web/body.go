package web

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/costexplorer/costexplorer"
)

// URL parameters of the explorer. Every filter is in the URL, so a view can
// be bookmarked and shared.
const (
	paramFrom    = "from"    // first month, YYYY-MM
	paramTo      = "to"      // last month (inclusive), YYYY-MM
	paramOrg     = "org"     // repeated
	paramProject = "project" // repeated
	paramCluster = "cluster" // repeated
	paramService = "service" // repeated
	paramGroupBy = "groupBy" // organizations, projects, clusters, services or none
	paramPartial = "partial" // "1": include partially matching charges
)

// defaultMonths is the default range: the last six months, this one included.
const defaultMonths = 6

// groupByNone is the groupBy parameter value for no grouping.
const groupByNone = "none"

// defaultGroupBy is the grouping of a first visit.
const defaultGroupBy = string(costexplorer.GroupByServices)

// maxShownBody bounds the API request body the page shows (a fill of every
// cluster can be long).
const maxShownBody = 16 << 10

// filters are the explorer's URL parameters, as given.
type filters struct {
	From, To string
	Orgs     []string
	Projects []string
	Clusters []string
	Services []string
	GroupBy  string
	Partial  bool
}

func parseFilters(q url.Values, current costexplorer.Month, history int) filters {
	f := filters{
		From:     strings.TrimSpace(q.Get(paramFrom)),
		To:       strings.TrimSpace(q.Get(paramTo)),
		Orgs:     nonEmpty(q[paramOrg]),
		Projects: nonEmpty(q[paramProject]),
		Clusters: nonEmpty(q[paramCluster]),
		Services: nonEmpty(q[paramService]),
		GroupBy:  strings.TrimSpace(q.Get(paramGroupBy)),
		Partial:  q.Get(paramPartial) != "" && q.Get(paramPartial) != "0",
	}
	if f.To == "" {
		f.To = current.String()
	}
	if f.From == "" {
		from := max(current-defaultMonths+1, current-costexplorer.Month(history)+1)
		f.From = from.String()
	}
	if f.GroupBy == "" {
		f.GroupBy = defaultGroupBy
	}
	return f
}

func nonEmpty(vs []string) []string {
	var out []string
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// buildBody turns the filters into the request body the page sends through
// costexplorer.ParseQueryRequest, so that its validation is the API's. When the group-by
// dimension has no values selected, it is filled with every value of that
// dimension in scope (narrowed by the other selections), because the
// contract requires a filter value in the grouped dimension; the notice says
// so on the page.
func buildBody(f filters, sc *scope) (body *costexplorer.QueryRequestBody, notices []string, err error) {
	from, err := costexplorer.ParseMonth(f.From)
	if err != nil {
		return nil, nil, costexplorer.FieldError(costexplorer.ErrInvalidDateFormat, "from", fmt.Sprintf("The first month %q is not a month (YYYY-MM).", f.From))
	}
	to, err := costexplorer.ParseMonth(f.To)
	if err != nil {
		return nil, nil, costexplorer.FieldError(costexplorer.ErrInvalidDateFormat, "to", fmt.Sprintf("The last month %q is not a month (YYYY-MM).", f.To))
	}
	body = &costexplorer.QueryRequestBody{
		StartDate:             from.Date(),
		EndDate:               (to + 1).Date(),
		Organizations:         f.Orgs,
		Projects:              f.Projects,
		Clusters:              f.Clusters,
		IncludePartialMatches: f.Partial,
	}
	for _, s := range f.Services {
		body.Services = append(body.Services, costexplorer.Service(s))
	}
	if f.GroupBy != groupByNone {
		body.GroupBy = costexplorer.GroupBy(f.GroupBy)
	}

	projectsOf := func() []*costexplorer.Project {
		if len(f.Orgs) == 0 {
			return sc.projects
		}
		var ps []*costexplorer.Project
		for _, p := range sc.projects {
			if slices.Contains(f.Orgs, p.OrgID) {
				ps = append(ps, p)
			}
		}
		return ps
	}
	var what, among string
	var n int
	switch costexplorer.GroupBy(f.GroupBy) {
	case costexplorer.GroupByOrganizations:
		if len(f.Orgs) == 0 {
			for _, o := range sc.orgs {
				body.Organizations = append(body.Organizations, o.ID)
			}
			what, n, among = "organizations", len(sc.orgs), "you can see"
		}
	case costexplorer.GroupByProjects:
		if len(f.Projects) == 0 {
			for _, p := range projectsOf() {
				body.Projects = append(body.Projects, p.ID)
			}
			what, n, among = "projects", len(body.Projects), scopeWords(f)
		}
	case costexplorer.GroupByClusters:
		if len(f.Clusters) == 0 {
			var projects []string
			if len(f.Projects) > 0 {
				projects = f.Projects
			} else {
				for _, p := range projectsOf() {
					projects = append(projects, p.ID)
				}
			}
			for _, c := range sc.clusters {
				if slices.Contains(projects, c.ProjectID) {
					body.Clusters = append(body.Clusters, c.ID)
				}
			}
			what, n, among = "clusters", len(body.Clusters), scopeWords(f)
		}
	case costexplorer.GroupByServices:
		if len(f.Services) == 0 {
			for _, s := range costexplorer.Services {
				body.Services = append(body.Services, s)
			}
			what, n, among = "services", len(costexplorer.Services), ""
		}
	}
	if what != "" {
		if n == 0 {
			return nil, nil, costexplorer.FieldError(costexplorer.ErrValidation, "groupBy",
				fmt.Sprintf("There are no %s %s to group by. Choose another grouping or other filters.", what, cmp.Or(among, "in scope")))
		}
		if n > costexplorer.DefaultMaxFilterValues {
			return nil, nil, costexplorer.FieldError(costexplorer.ErrValidation, "groupBy",
				fmt.Sprintf("Grouping by %s would name all %d %s %s, more than the %d a query may name. Select some %s, or narrow the scope first.",
					what, n, what, cmp.Or(among, "in scope"), costexplorer.DefaultMaxFilterValues, what))
		}
		s := fmt.Sprintf("No %s were selected to group by, so all %d %s", what, n, what)
		if among != "" {
			s += " " + among
		}
		notices = append(notices, s+" are used.")
	}
	// Values outside the scope are kept, as the API keeps them: they match
	// nothing, which the page points out.
	var outside int
	for _, id := range f.Orgs {
		if sc.org[id] == nil {
			outside++
		}
	}
	for _, id := range f.Projects {
		if sc.project[id] == nil {
			outside++
		}
	}
	for _, id := range f.Clusters {
		if sc.cluster[id] == nil {
			outside++
		}
	}
	if outside > 0 {
		notices = append(notices, fmt.Sprintf("%d selected filter value(s) are not among your organizations, projects or clusters; they match no usage.", outside))
	}
	return body, notices, nil
}

// scopeWords says which part of the scope a fill was taken from.
func scopeWords(f filters) string {
	switch {
	case len(f.Projects) > 0:
		return "of the selected projects"
	case len(f.Orgs) > 0:
		return "of the selected organizations"
	}
	return "you can see"
}
