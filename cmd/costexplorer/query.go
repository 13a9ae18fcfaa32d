package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/client"
)

const queryHelp = `--from and --to are months (YYYY-MM), both included; they become the API's startDate (the first
day of --from) and endDate (the first day of the month after --to). Default: the six months up to
and including the current one.

With --granularity, --filter, --quantity, days (YYYY-MM-DD) in --from or --to, two --group-by, a
group-by of skus or tag:KEY, or --group-by projects or clusters without their ids, query asks the
project's own API (/api/costexplorer/v1 usage:query) instead of the Atlas cost explorer: it answers
at once, by day or month, and may group by up to two dimensions. There, --from and --to may be days
(both included; a month means its first or last day), the default window of a daily query is the
current month, --project, --cluster, --service and --organization become filters (--partial also
lets through items without the dimension), and --output json writes {"results": […], "next": null}
with every page, csv the API's CSV. A daily table lists each day's groups; a monthly one pivots.
` + filterHelp + `

The API needs at least one filter value for the dimension it groups by. When --group-by is given
without values for its dimension, query fills them where it can:
  --group-by organizations   every organization the query of --org covers: the organization
                             itself and, for a paying organization, its linked organizations
                             (found with a first query without grouping over the same window)
  --group-by services        every service name
  --group-by projects        every project the caller can see, or those of --project
  --group-by clusters        every cluster the caller can see, or those of --cluster
Without --group-by the rows are the finest detail: organization / project / cluster / service.

The table has a row per group (largest total first), a column per month, and totals. On a
terminal a progress indicator shows on standard error while the query processes.`

// queryArgs are the parsed flags of `costexplorer query`.
type queryArgs struct {
	conn          connFlags
	org           string
	from, to      string
	groupBy       stringList
	granularity   string
	filters       stringList
	quantity      bool
	projects      stringList
	clusters      stringList
	services      stringList
	organizations stringList
	partial       bool
	output        string
	timeout       time.Duration
}

func runQuery(ctx context.Context, m *Main, args []string) error {
	var a queryArgs
	fs := m.newFlagSet("query", "query --org ORG [--from YYYY-MM] [--to YYYY-MM] [--group-by DIM] [filters] [--output table|json|csv]",
		"costexplorer query --org ORG --from 2025-01 --to 2025-06 --group-by services",
		"costexplorer query --org ORG --group-by projects --project P1 --project P2 --output csv > spend.csv",
		"costexplorer query --org ORG --group-by organizations --organization ORG --organization LINKED_ORG",
		"costexplorer query --org ORG --service Clusters --service Backup --partial --output json | jq .",
		"costexplorer query --org ORG --granularity daily --group-by tag:team --group-by services --filter 'tag:environment=production'")
	a.conn.register(fs, "org", &a.org)
	fs.StringVar(&a.from, "from", "", "first month YYYY-MM (default: five months before --to)")
	fs.StringVar(&a.to, "to", "", "last month YYYY-MM, included (default: the current month)")
	fs.Var(&a.groupBy, "group-by", "group rows by organizations, projects, clusters, services, skus or tag:KEY (at most twice)")
	fs.StringVar(&a.granularity, "granularity", "", "daily or monthly periods (the project's own API)")
	fs.Var(&a.filters, "filter", "filter expression, e.g. 'tag:environment=production and services=Clusters' (repeatable)")
	fs.BoolVar(&a.quantity, "quantity", false, "also sum the items' quantities (the project's own API)")
	fs.Var(&a.projects, "project", "project id filter (repeatable, or comma-separated)")
	fs.Var(&a.clusters, "cluster", "cluster id filter (repeatable, or comma-separated)")
	fs.Var(&a.services, "service", "service name filter, e.g. Clusters (repeatable, or comma-separated)")
	fs.Var(&a.organizations, "organization", "organization id filter (repeatable, or comma-separated)")
	fs.BoolVar(&a.partial, "partial", false, "include partial matches: usage without a value for a filtered dimension (support, credits)")
	fs.StringVar(&a.output, "output", "table", "output: table, json (the API's body) or csv (the API's body)")
	fs.DurationVar(&a.timeout, "timeout", 10*time.Minute, "how long to wait for the result")
	conn, err := a.conn.parse(m, args, queryHelp)
	if err != nil {
		return err
	}
	if a.ownAPI() {
		return m.runUsageQuery(ctx, conn, &a)
	}
	req, err := a.request(m.Now())
	if err != nil {
		return err
	}
	c, err := m.newClient(conn)
	if err != nil {
		return err
	}

	if req.GroupBy == client.GroupByOrganizations && len(req.Organizations) == 0 {
		if req.Organizations, err = m.coveredOrganizations(ctx, c, a.org, req, a.timeout); err != nil {
			return err
		}
	}
	token, err := c.CreateQuery(ctx, a.org, req)
	if err != nil {
		return m.clientError(err)
	}
	wctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	stop := m.progress(token)
	var (
		u   *client.Usage
		csv io.ReadCloser
	)
	if a.output == "csv" {
		csv, err = c.WaitForUsageCSV(wctx, a.org, token)
	} else {
		u, err = c.WaitForUsage(wctx, a.org, token)
	}
	stop()
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return &exitError{code: exitProcessing, err: fmt.Errorf("query %s is still processing after %s; fetch it later with:\n"+
				"  costexplorer api invoices getCostExplorerUsage --orgId %s --token %s", token, a.timeout, a.org, token)}
		}
		return m.clientError(err)
	}
	switch a.output {
	case "csv":
		defer csv.Close()
		_, err = io.Copy(m.Stdout, csv)
	case "json":
		_, err = fmt.Fprintf(m.Stdout, "%s\n", u.Raw)
	default:
		months := make([]costexplorer.Month, 0, req.End-req.Start)
		for mo := req.Start; mo < req.End; mo++ {
			months = append(months, mo)
		}
		err = renderTable(m.Stdout, req.GroupBy, months, u.Rows)
	}
	return classify(err)
}

// coveredOrganizations returns the organizations with usage in the window
// of req that a query of org covers (org itself first, then its linked
// organizations), from a query of the same window without grouping.
func (m *Main) coveredOrganizations(ctx context.Context, c *client.Client, org string, req client.QueryRequest, timeout time.Duration) ([]string, error) {
	req.GroupBy, req.Organizations = client.GroupByNone, nil
	token, err := c.CreateQuery(ctx, org, req)
	if err != nil {
		return nil, m.clientError(err)
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stop := m.progress(token)
	u, err := c.WaitForUsage(wctx, org, token)
	stop()
	if err != nil {
		return nil, m.clientError(err)
	}
	orgs := []string{org}
	for _, r := range u.Rows {
		if r.OrganizationID != "" && !slices.Contains(orgs, r.OrganizationID) {
			orgs = append(orgs, r.OrganizationID)
		}
	}
	return orgs, nil
}

// clientError reports a failed client call: an API error is shown with its
// code and detail (and field violations) and exits by its class.
func (m *Main) clientError(err error) error {
	var ae *client.APIError
	if errors.As(err, &ae) {
		msg := ae.Error()
		for _, f := range ae.Fields {
			if f.Description != ae.Detail {
				msg += fmt.Sprintf("\n  %s: %s", f.Field, f.Description)
			}
		}
		return &exitError{code: classifyCode(ae), err: errors.New(msg)}
	}
	return classify(err)
}

// request builds the API request of the flags; now fixes the default window.
func (a *queryArgs) request(now time.Time) (client.QueryRequest, error) {
	var req client.QueryRequest
	if err := checkOrgOutput(a.org, a.output); err != nil {
		return req, err
	}
	if a.timeout <= 0 {
		return req, usageErrorf("--timeout must be positive")
	}
	start, end, err := monthWindow(a.from, a.to, now)
	if err != nil {
		return req, err
	}
	req.Start, req.End = start, end
	req.Organizations = splitList(a.organizations)
	req.Projects = splitList(a.projects)
	req.Clusters = splitList(a.clusters)
	for _, s := range splitList(a.services) {
		req.Services = append(req.Services, client.Service(s))
	}
	req.IncludePartialMatches = a.partial
	var groupBy string
	if len(a.groupBy) > 0 {
		groupBy = a.groupBy[0]
	}
	switch g := client.GroupBy(groupBy); g {
	case client.GroupByNone:
	case client.GroupByOrganizations:
		// Filled by coveredOrganizations when empty.
	case client.GroupByServices:
		if len(req.Services) == 0 {
			req.Services = slices.Clone(costexplorer.Services)
		}
	case client.GroupByProjects:
		if len(req.Projects) == 0 {
			return req, usageErrorf("--group-by projects needs the projects to show: give --project ID (repeatable)")
		}
	case client.GroupByClusters:
		if len(req.Clusters) == 0 {
			return req, usageErrorf("--group-by clusters needs the clusters to show: give --cluster ID (repeatable)")
		}
	default:
		return req, usageErrorf("--group-by must be organizations, projects, clusters or services, not %q", groupBy)
	}
	req.GroupBy = client.GroupBy(groupBy)
	return req, nil
}

// monthWindow turns --from and --to (months, both included) into the API's
// start (inclusive) and end (exclusive) months. Missing bounds default to
// the six months up to and including now's month.
func monthWindow(from, to string, now time.Time) (start, end costexplorer.Month, err error) {
	last := costexplorer.MonthOf(now)
	if to != "" {
		if last, err = costexplorer.ParseMonth(to); err != nil {
			return 0, 0, usageErrorf("--to: %v", err)
		}
	}
	first := last - 5
	if from != "" {
		if first, err = costexplorer.ParseMonth(from); err != nil {
			return 0, 0, usageErrorf("--from: %v", err)
		}
	}
	if first > last {
		return 0, 0, usageErrorf("--from %s is after --to %s", first, last)
	}
	return first, last + 1, nil
}

// splitList flattens repeated and comma-separated flag values.
func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// progress shows a spinner with the elapsed time on standard error while a
// query processes, when standard error is a terminal; the returned function
// stops it and clears the line.
func (m *Main) progress(token string) func() {
	f, ok := m.Stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		start := time.Now()
		frames := `|/-\`
		tick := time.NewTicker(120 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			fmt.Fprintf(f, "\r%c waiting for query %.8s… %.1fs", frames[i%len(frames)], token, time.Since(start).Seconds())
			select {
			case <-done:
				fmt.Fprint(f, "\r\033[K")
				return
			case <-tick.C:
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

// pivot is a table of amounts: a row per group, a column per period, with
// totals.
type pivot struct {
	head   string
	cols   []string
	groups map[string]*tableGroup
	order  []*tableGroup
	colSum map[string]costexplorer.Cents
	grand  costexplorer.Cents
}

// tableGroup is one row of a pivot: a group's amounts per column.
type tableGroup struct {
	key, label string
	cells      map[string]costexplorer.Cents
	total      costexplorer.Cents
}

func newPivot(head string, cols []string) *pivot {
	return &pivot{head: head, cols: cols, groups: map[string]*tableGroup{}, colSum: map[string]costexplorer.Cents{}}
}

// add adds amount to the cell of the group key (shown as label) in column
// col.
func (p *pivot) add(key, label, col string, amount costexplorer.Cents) {
	tg := p.groups[key]
	if tg == nil {
		tg = &tableGroup{key: key, label: label, cells: map[string]costexplorer.Cents{}}
		p.groups[key] = tg
		p.order = append(p.order, tg)
	}
	tg.cells[col] += amount
	tg.total += amount
	p.colSum[col] += amount
	p.grand += amount
}

// write writes the pivot: a row per group, largest total first, a column
// per period, a total column and a total row, amounts as 1,234.56
// right-aligned. A period without usage for a group shows "-".
func (p *pivot) write(w io.Writer) error {
	slices.SortFunc(p.order, func(a, b *tableGroup) int {
		if c := cmp.Compare(b.total, a.total); c != 0 {
			return c
		}
		return strings.Compare(a.label+"\x00"+a.key, b.label+"\x00"+b.key)
	})
	cells := [][]string{append(append([]string{p.head}, p.cols...), "TOTAL")}
	line := func(label string, amounts map[string]costexplorer.Cents, total costexplorer.Cents) {
		row := []string{label}
		for _, c := range p.cols {
			if v, ok := amounts[c]; ok {
				row = append(row, v.Grouped(""))
			} else {
				row = append(row, "-")
			}
		}
		cells = append(cells, append(row, total.Grouped("")))
	}
	for _, tg := range p.order {
		line(tg.label, tg.cells, tg.total)
	}
	line("TOTAL", p.colSum, p.grand)
	return writeCells(w, 1, cells)
}

// groupKey returns the identity and the label of a result row's group. For
// services the rows of several organizations (a paying organization's
// query covers its linked ones) add up under one service.
func groupKey(g client.GroupBy, r *client.Row) (key, label string) {
	or := func(s, alt string) string {
		if s == "" {
			return alt
		}
		return s
	}
	switch g {
	case client.GroupByOrganizations:
		return r.OrganizationID, or(r.OrganizationName, or(r.OrganizationID, "(no organization)"))
	case client.GroupByProjects:
		return r.ProjectID, or(r.ProjectName, or(r.ProjectID, "(no project)"))
	case client.GroupByClusters:
		if r.ClusterID == "" && r.ClusterName == "" {
			return "", "(no cluster)"
		}
		return r.ProjectID + "/" + r.ClusterID, or(r.ProjectName, r.ProjectID) + " / " + or(r.ClusterName, r.ClusterID)
	case client.GroupByServices:
		return string(r.Service), or(string(r.Service), "(no service)")
	}
	var parts []string
	for _, p := range []string{or(r.OrganizationName, r.OrganizationID), or(r.ProjectName, r.ProjectID), or(r.ClusterName, r.ClusterID), string(r.Service)} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join([]string{r.OrganizationID, r.ProjectID, r.ClusterID, string(r.Service)}, "/"), strings.Join(parts, " / ")
}

// renderTable writes the rows of an Atlas query as a pivot of its groups
// and months.
func renderTable(w io.Writer, g client.GroupBy, months []costexplorer.Month, rows []client.Row) error {
	head := map[client.GroupBy]string{
		client.GroupByOrganizations: "ORGANIZATION", client.GroupByProjects: "PROJECT",
		client.GroupByClusters: "PROJECT / CLUSTER", client.GroupByServices: "SERVICE",
	}[g]
	if head == "" {
		head = "ORGANIZATION / PROJECT / CLUSTER / SERVICE"
	}
	cols := make([]string, len(months))
	for i, mo := range months {
		cols[i] = mo.String()
	}
	p := newPivot(head, cols)
	for i := range rows {
		r := &rows[i]
		d, err := time.Parse(time.DateOnly, r.UsageDate)
		if err != nil {
			return fmt.Errorf("row %d: invalid usageDate %q", i, r.UsageDate)
		}
		key, label := groupKey(g, r)
		p.add(key, label, costexplorer.MonthOf(d).String(), r.UsageAmount)
	}
	return p.write(w)
}

// writeCells writes a table whose first row is the heading and last row the
// total: the first left columns left-aligned, the others right-aligned, a
// rule above the total.
func writeCells(w io.Writer, left int, cells [][]string) error {
	width := make([]int, len(cells[0]))
	for _, row := range cells {
		for i, c := range row {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for n, row := range cells {
		if n == len(cells)-1 {
			// A rule above the total row.
			for i, wd := range width {
				if i > 0 {
					b.WriteString("  ")
				}
				b.WriteString(strings.Repeat("-", wd))
			}
			b.WriteString("\n")
		}
		for i, c := range row {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i > 0 {
				b.WriteString("  ")
			}
			if i < left {
				b.WriteString(c)
				if i < len(row)-1 {
					b.WriteString(pad)
				}
				continue
			}
			b.WriteString(pad + c)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
