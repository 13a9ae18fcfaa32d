package bench

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/demo"
)

// RefQuery is one of the reference queries of DESIGN §4 (see
// [demo.ReferenceQueries]), as our query and as the equivalent SQL.
type RefQuery demo.ReferenceQuery

// Queries returns Q1–Q4 on d, as [demo.ReferenceQueries] picks them.
func (d *Dataset) Queries() []RefQuery {
	var qs []RefQuery
	for _, q := range demo.ReferenceQueries(&d.Dims, d.Layout.PayingOrg.ID, costexplorer.MonthOf(d.Config.Now)) {
		qs = append(qs, RefQuery(q))
	}
	return qs
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
	if raw {
		return r.sqlOn("line_items", "date_trunc('month', usage_date)::DATE", "usage_date")
	}
	return r.sqlOn("rollup", "month", "month")
}

// sqlOn returns the query over a table of text ids, with month the
// expression of a row's month and date the column its date range bounds.
func (r *RefQuery) sqlOn(table, month, date string) string {
	q := &r.Query
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

// DuckForm is one way of asking DuckDB a reference query over the line
// items: a table layout (Duck.BuildLayouts) and a shape of SQL.
type DuckForm struct {
	Name  string // short, for reports
	About string
	table string
	keys  string // "": text ids; "join": integer keys, ids resolved in the SQL; "literal": integer keys sent as literals
	month string // "trunc": date_trunc('month', usage_date); "int": year × 12 + month, made a DATE after grouping; "col": the rollup's month column
}

// DuckForms are the forms the benchmark tries; the anchor of a query is the
// fastest of them in the same run. The first is the form of earlier runs.
var DuckForms = []DuckForm{
	{"text, as loaded, date_trunc", "line_items in the generator's order (organization by organization, resource by resource), 24-hex text ids, IN lists of ids, grouped by date_trunc('month', usage_date): the form of earlier runs",
		"line_items", "", "trunc"},
	{"text, as loaded", "the same table and filters, grouped by year(usage_date) * 12 + month(usage_date), made a DATE after grouping",
		"line_items", "", "int"},
	{"text, by day", "items_by_day: the same columns ordered as a billing feed arrives (by day, then organization, project, cluster, service); integer month",
		"items_by_day", "", "int"},
	{"keys, by day, ids resolved in SQL", "items_keyed: by day, integer dimension keys; ids mapped to keys by sub-queries on the dimension tables, keys back to ids by joins after grouping; integer month",
		"items_keyed", "join", "int"},
	{"keys, by day, keys as literals", "items_keyed: by day, integer dimension keys; the client sends lists of keys (its cached dimensions), keys back to ids by joins after grouping; integer month",
		"items_keyed", "literal", "int"},
	{"keys, as loaded, keys as literals", "items_keyed_loaded: the keyed columns in the generator's order (organization by organization); keys as literals; integer month",
		"items_keyed_loaded", "literal", "int"},
}

// RollupForms are the forms tried over DuckDB's monthly rollup table; the
// first is the form of earlier runs (RefQuery.SQL(false)).
var RollupForms = []DuckForm{
	{"rollup, text", "rollup: month, 24-hex text ids, service, cents, sorted by month, organization, project, cluster, service; IN lists of ids: the form of earlier runs",
		"rollup", "", "col"},
	{"rollup, keys as literals", "rollup_keyed: the same rows and order with integer dimension keys; the client sends lists of keys, keys back to ids by joins after grouping",
		"rollup_keyed", "literal", "col"},
}

// keyDim describes a dimension of the line items: its text column, and its
// key column and dimension table in the keyed layout.
type keyDim struct{ text, col, table, alias string }

var (
	dimOrg     = keyDim{"org", "org_k", "orgs", "o"}
	dimProject = keyDim{"project", "project_k", "projects", "p"}
	dimCluster = keyDim{"cluster", "cluster_k", "clusters", "c"}
	dimService = keyDim{"service", "service_k", "services", "s"}
)

// FormSQL returns the query in form f on d (d's keys are read by the
// "literal" form: BuildLayouts must have run).
func (r *RefQuery) FormSQL(f DuckForm, d *Duck) string {
	switch {
	case f.keys == "" && f.month == "trunc":
		return r.sqlOn(f.table, "date_trunc('month', usage_date)::DATE", "usage_date")
	case f.keys == "" && f.month == "col":
		return r.sqlOn(f.table, "month", "month")
	}
	date := "usage_date"
	if f.month == "col" {
		date = "month"
	}
	q := &r.Query
	services := make([]string, len(q.Services))
	for i, v := range q.Services {
		services[i] = string(v)
	}
	in := func(dim keyDim, ids []string) string {
		switch f.keys {
		case "":
			return dim.text + " IN " + sqlList(ids)
		case "join":
			return dim.col + " IN (SELECT k FROM " + dim.table + " WHERE id IN " + sqlList(ids) + ")"
		}
		var ks []string
		for _, id := range ids {
			if k, ok := d.keys[dim.table][id]; ok {
				ks = append(ks, fmt.Sprint(k))
			}
		}
		if len(ks) == 0 {
			ks = []string{"NULL"} // matches nothing
		}
		return dim.col + " IN (" + strings.Join(ks, ", ") + ")"
	}
	dims := []keyDim{dimOrg}
	switch q.GroupBy {
	case costexplorer.GroupByProjects:
		dims = append(dims, dimProject)
	case costexplorer.GroupByClusters:
		dims = append(dims, dimProject, dimCluster)
	case costexplorer.GroupByServices:
		dims = append(dims, dimService)
	}
	where := []string{in(dimOrg, q.Organizations),
		fmt.Sprintf("%s >= DATE '%s' AND %s < DATE '%s'", date, q.Start.Date(), date, q.End.Date())}
	if len(q.Projects) > 0 {
		where = append(where, in(dimProject, q.Projects))
	}
	if len(q.Clusters) > 0 {
		where = append(where, in(dimCluster, q.Clusters))
	}
	if len(services) > 0 {
		where = append(where, in(dimService, services))
	}
	inner := []string{"date_trunc('month', usage_date)::DATE AS month"}
	outer := []string{"f.month"}
	switch f.month {
	case "int":
		inner[0] = "year(usage_date) * 12 + month(usage_date) - 1 AS month"
		outer[0] = "make_date((f.month // 12)::INTEGER, (f.month % 12 + 1)::INTEGER, 1) AS month"
	case "col":
		inner[0] = "month"
	}
	var joins []string
	for _, dim := range dims {
		if f.keys == "" {
			inner = append(inner, dim.text)
			outer = append(outer, "f."+dim.text)
			continue
		}
		inner = append(inner, dim.col)
		outer = append(outer, dim.alias+".id AS "+dim.text)
		joins = append(joins, fmt.Sprintf(" LEFT JOIN %s %s ON %s.k = f.%s", dim.table, dim.alias, dim.alias, dim.col))
	}
	return fmt.Sprintf("SELECT %s, f.cents::BIGINT AS cents FROM (SELECT %s, SUM(cents) AS cents FROM %s WHERE %s GROUP BY ALL) f%s ORDER BY ALL",
		strings.Join(outer, ", "), strings.Join(inner, ", "), f.table, strings.Join(where, " AND "), strings.Join(joins, ""))
}
