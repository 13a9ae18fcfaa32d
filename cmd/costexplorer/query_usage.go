package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/client"
)

// `costexplorer query` on the project's own API (usage:query): what the
// Atlas cost explorer cannot answer — days, tags, two group-bys, filter
// expressions — and a group-by of projects or clusters without naming them.

// ownAPI reports whether the flags ask for what only usage:query answers.
func (a *queryArgs) ownAPI() bool {
	if a.granularity != "" || len(a.filters) > 0 || a.quantity || len(a.groupBy) > 1 || isDay(a.from) || isDay(a.to) {
		return true
	}
	if len(a.groupBy) == 0 {
		return false
	}
	switch client.GroupBy(a.groupBy[0]) {
	case client.GroupByOrganizations, client.GroupByServices:
		return false
	case client.GroupByProjects:
		return len(splitList(a.projects)) == 0
	case client.GroupByClusters:
		return len(splitList(a.clusters)) == 0
	}
	return true
}

// isDay reports whether a --from or --to value is a day (YYYY-MM-DD).
func isDay(s string) bool { return len(s) == len(time.DateOnly) }

// usageQuery builds the usage:query request of the flags, and the query it
// asks for (for the CSV header and the table).
func (a *queryArgs) usageQuery(now time.Time) (client.UsageQueryRequest, *costexplorer.UsageQuery, error) {
	var req client.UsageQueryRequest
	if err := checkOrgOutput(a.org, a.output); err != nil {
		return req, nil, err
	}
	switch strings.ToLower(a.granularity) {
	case "daily":
		req.Granularity = client.Daily
	case "monthly", "":
		req.Granularity = client.Monthly
	default:
		return req, nil, usageErrorf("--granularity must be daily or monthly, not %q", a.granularity)
	}
	start, end, err := dayWindow(a.from, a.to, req.Granularity, now)
	if err != nil {
		return req, nil, err
	}
	req.TimePeriod = client.TimePeriod{Start: start.String(), End: end.String()}
	if req.GroupBy, err = parseEach("--group-by", a.groupBy, costexplorer.ParseDimension); err != nil {
		return req, nil, err
	}
	if len(req.GroupBy) > costexplorer.MaxGroupBy {
		return req, nil, usageErrorf("--group-by may be given at most %d times", costexplorer.MaxGroupBy)
	}
	filters, err := parseEach("--filter", a.filters, costexplorer.ParseFilterText)
	if err != nil {
		return req, nil, err
	}
	for _, l := range []struct {
		dim  costexplorer.Dimension
		vals []string
	}{{costexplorer.DimOrganizations, a.organizations}, {costexplorer.DimProjects, a.projects}, {costexplorer.DimClusters, a.clusters}, {costexplorer.DimServices, a.services}} {
		vals := splitList(l.vals)
		if len(vals) == 0 {
			continue
		}
		leaf := &costexplorer.Filter{Dimension: l.dim, In: vals}
		if a.partial {
			leaf = &costexplorer.Filter{Or: []*costexplorer.Filter{leaf, {Dimension: l.dim, Absent: true}}}
		}
		filters = append(filters, leaf)
	}
	req.Filter = costexplorer.AndFilters(filters)
	if a.quantity {
		req.Metrics = []costexplorer.Metric{costexplorer.MetricAmount, costexplorer.MetricQuantity}
	}
	req.PageSize = costexplorer.MaxUsagePageSize
	q := &costexplorer.UsageQuery{OrgID: a.org, Granularity: req.Granularity, Start: start, End: end, GroupBy: req.GroupBy, Filter: req.Filter, Metrics: req.Metrics}
	return req, q, nil
}

// dayWindow turns --from and --to (days or months, both included) into
// the first day and the day after the last. A month as --from is its first
// day, as --to its last. Defaults: a daily query covers now's month, a
// monthly one the six months up to now's.
func dayWindow(from, to string, g costexplorer.Granularity, now time.Time) (start, end costexplorer.Day, err error) {
	bound := func(flag, s string, last bool) (costexplorer.Day, error) {
		if isDay(s) {
			d, err := costexplorer.ParseDay(s)
			if err != nil {
				return 0, usageErrorf("--%s: %v", flag, err)
			}
			if last {
				d++
			}
			return d, nil
		}
		m, err := costexplorer.ParseMonth(s)
		if err != nil {
			return 0, usageErrorf("--%s: %v (or a day YYYY-MM-DD)", flag, err)
		}
		if last {
			m++
		}
		return costexplorer.DayOf(m.Start()), nil
	}
	current := costexplorer.MonthOf(now)
	end = costexplorer.DayOf((current + 1).Start())
	if to != "" {
		if end, err = bound("to", to, true); err != nil {
			return 0, 0, err
		}
	}
	first := end.Month()
	if costexplorer.DayOf(first.Start()) == end {
		first-- // end is the first of a month: the window ends the month before
	}
	if g == costexplorer.Monthly {
		first -= 5
	}
	start = costexplorer.DayOf(first.Start())
	if from != "" {
		if start, err = bound("from", from, false); err != nil {
			return 0, 0, err
		}
	}
	if start >= end {
		return 0, 0, usageErrorf("--from %s is after --to %s", start, end-1)
	}
	return start, end, nil
}

// runUsageQuery runs `costexplorer query` on usage:query and writes every
// page of the answer.
func (m *Main) runUsageQuery(ctx context.Context, conn *connection, a *queryArgs) error {
	req, q, err := a.usageQuery(m.Now())
	if err != nil {
		return err
	}
	c, err := m.newClient(conn)
	if err != nil {
		return err
	}
	var cw *costexplorer.UsageCSVWriter
	if a.output == "csv" {
		if cw, err = costexplorer.NewUsageCSVWriter(m.Stdout, q); err != nil {
			return classify(err)
		}
	}
	var results []client.UsageResult
	for r, err := range c.AllUsage(ctx, a.org, req) {
		if err != nil {
			return m.clientError(err)
		}
		// Pages are at most MaxUsagePageSize rows; CSV goes out a row at a
		// time, the other outputs need the whole answer.
		if cw != nil {
			if err := cw.Write((&client.UsageAnswer{Results: []client.UsageResult{r}}).Rows(q)); err != nil {
				return classify(err)
			}
			continue
		}
		results = append(results, r)
	}
	switch a.output {
	case "csv":
		err = cw.Flush()
	case "json":
		if results == nil {
			results = []client.UsageResult{}
		}
		var b []byte
		b, err = json.Marshal(client.UsageAnswer{Results: results})
		if err == nil {
			_, err = fmt.Fprintf(m.Stdout, "%s\n", b)
		}
	default:
		err = renderUsageTable(m.Stdout, q, (&client.UsageAnswer{Results: results}).Rows(q))
	}
	return classify(err)
}

// groupLabel is what the table shows of a row's groups.
func groupLabel(q *costexplorer.UsageQuery, r *costexplorer.UsageRow) (key, label string) {
	var keys, labels []string
	for i, d := range q.GroupBy {
		g := r.Groups[i]
		name := g.Name
		if name == "" {
			name = "(no " + strings.TrimSuffix(strings.TrimPrefix(string(d), costexplorer.TagPrefix), "s") + ")"
		}
		keys, labels = append(keys, g.ID), append(labels, name)
	}
	return strings.Join(keys, "\x00"), strings.Join(labels, " / ")
}

// groupHeader is the table's heading of the group column.
func groupHeader(q *costexplorer.UsageQuery) string {
	if len(q.GroupBy) == 0 {
		return "TOTAL"
	}
	var h []string
	for _, d := range q.GroupBy {
		h = append(h, strings.ToUpper(string(d)))
	}
	return strings.Join(h, " / ")
}

// renderUsageTable writes a usage:query answer as a table. A monthly one
// pivots as the Atlas query's table does (a row per group, a column per
// month); a daily one lists each day's groups, largest first, with the
// day's total, then the window's total.
func renderUsageTable(w io.Writer, q *costexplorer.UsageQuery, rows []costexplorer.UsageRow) error {
	if q.Granularity == costexplorer.Monthly {
		var cols []string
		for mo := q.Start.Month(); costexplorer.DayOf(mo.Start()) < q.End; mo++ {
			cols = append(cols, mo.String())
		}
		p := newPivot(groupHeader(q), cols)
		for i := range rows {
			key, label := groupLabel(q, &rows[i])
			p.add(key, label, rows[i].Start.Month().String(), rows[i].Amount)
		}
		return p.write(w)
	}
	cells := [][]string{{"DAY", groupHeader(q), "AMOUNT"}}
	var total costexplorer.Cents
	for i := 0; i < len(rows); {
		day := rows[i].Start
		j := i
		var dayTotal costexplorer.Cents
		for ; j < len(rows) && rows[j].Start == day; j++ {
			dayTotal += rows[j].Amount
		}
		sorted := slices.Clone(rows[i:j])
		slices.SortStableFunc(sorted, func(a, b costexplorer.UsageRow) int { return cmp.Compare(b.Amount, a.Amount) })
		for k := range sorted {
			_, label := groupLabel(q, &sorted[k])
			if len(q.GroupBy) == 0 {
				label = ""
			}
			cells = append(cells, []string{day.String(), label, sorted[k].Amount.Grouped("")})
		}
		if len(q.GroupBy) > 0 {
			cells = append(cells, []string{day.String(), "(day total)", dayTotal.Grouped("")})
		}
		total += dayTotal
		i = j
	}
	cells = append(cells, []string{"TOTAL", "", total.Grouped("")})
	return writeCells(w, 2, cells)
}
