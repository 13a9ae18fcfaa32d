package main

import (
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/client"
)

const forecastHelp = `The forecast of the current month's end and of the next three months, in total or per group
of one dimension (organizations, projects, clusters, services, skus or tag:KEY), each with an 80 %
prediction interval (docs/forecast.md: trend and weekly seasonality of the daily totals). The
month-end forecast is what was spent before --as-of (SPENT) plus the forecast of the days left.

` + filterHelp + `

--as-of is the day the forecast is made (default: the server's today); the days before it are
known, that day itself is still accruing.

The table has a row per group and month, the groups with the largest forecast month end first.
json is the API's body; csv has one line per group and month, amounts in dollars.`

// forecastArgs are the parsed flags of `costexplorer forecast`.
type forecastArgs struct {
	conn    connFlags
	org     string
	groupBy string
	filters stringList
	asOf    string
	output  string
}

func runForecast(ctx context.Context, m *Main, args []string) error {
	var a forecastArgs
	fs := m.newFlagSet("forecast", "forecast --org ORG [--group-by DIM] [--filter EXPR] [--as-of YYYY-MM-DD] [--output table|json|csv]",
		"costexplorer forecast --org ORG",
		"costexplorer forecast --org ORG --group-by services --filter 'tag:environment=production'",
		"costexplorer forecast --org ORG --group-by services --output csv > forecast.csv",
		"costexplorer forecast --org ORG --group-by tag:team --as-of 2026-11-10 --output json | jq .")
	a.conn.register(fs, "org", &a.org)
	fs.StringVar(&a.groupBy, "group-by", "", "one dimension: organizations, projects, clusters, services, skus or tag:KEY (default: the total)")
	fs.Var(&a.filters, "filter", "filter expression, e.g. 'tag:environment=production and services=Clusters' (repeatable)")
	fs.StringVar(&a.asOf, "as-of", "", "the forecast day YYYY-MM-DD (default: the server's today)")
	fs.StringVar(&a.output, "output", "table", "output: table, json (the API's body) or csv")
	conn, err := a.conn.parse(m, args, forecastHelp)
	if err != nil {
		return err
	}
	req, err := a.request()
	if err != nil {
		return err
	}
	c, err := m.newClient(conn)
	if err != nil {
		return err
	}
	f, err := c.ForecastUsage(ctx, a.org, req)
	if err != nil {
		return m.clientError(err)
	}
	switch a.output {
	case "json":
		var b []byte
		if b, err = json.Marshal(f); err == nil {
			_, err = fmt.Fprintf(m.Stdout, "%s\n", b)
		}
	case "csv":
		err = writeForecastCSV(m.Stdout, req.GroupBy, f)
	default:
		err = renderForecast(m.Stdout, req.GroupBy, f)
	}
	return classify(err)
}

// request builds the API request of the flags.
func (a *forecastArgs) request() (client.UsageForecastRequest, error) {
	var req client.UsageForecastRequest
	if err := checkOrgOutput(a.org, a.output); err != nil {
		return req, err
	}
	var err error
	if a.groupBy != "" {
		if req.GroupBy, err = parseEach("--group-by", []string{a.groupBy}, costexplorer.ParseDimension); err != nil {
			return req, err
		}
	}
	filters, err := parseEach("--filter", a.filters, costexplorer.ParseFilterText)
	if err != nil {
		return req, err
	}
	req.Filter = costexplorer.AndFilters(filters)
	req.AsOf = a.asOf
	return req, nil
}

// checkOrgOutput checks the flags every reporting command shares: an
// organization, and an output of table, json or csv.
func checkOrgOutput(org, output string) error {
	if err := checkOrg(org); err != nil {
		return err
	}
	switch output {
	case "table", "json", "csv":
		return nil
	}
	return usageErrorf("--output must be table, json or csv")
}

// checkOrg checks that a client command has an organization, from --org or
// the connection settings.
func checkOrg(org string) error {
	if org == "" {
		return usageErrorf("--org is required (or set COSTEXPLORER_ORG_ID)")
	}
	return nil
}

// forecastLabel is how a result's group reads: its name (its id when the
// name is empty, "(none)" for usage without a value), or TOTAL.
func forecastLabel(dims []costexplorer.Dimension, r *client.GroupForecast) string {
	if len(dims) == 0 {
		return "TOTAL"
	}
	g := r.Groups[dims[0]]
	return cmp.Or(g.Name, g.ID, "(none)")
}

// renderForecast writes f as a table: a row per group and month, the
// groups with the largest forecast month end first.
func renderForecast(w io.Writer, dims []costexplorer.Dimension, f *client.UsageForecast) error {
	rs := slices.Clone(f.Results)
	slices.SortStableFunc(rs, func(a, b client.GroupForecast) int {
		if len(a.Months) == 0 || len(b.Months) == 0 {
			return cmp.Compare(len(b.Months), len(a.Months))
		}
		return cmp.Compare(b.Months[0].Amount, a.Months[0].Amount)
	})
	head := ""
	if len(dims) > 0 {
		head = strings.ToUpper(string(dims[0]))
	}
	fmt.Fprintf(w, "Forecast as of %s, %.0f %% prediction intervals.\n\n", f.AsOf, 100*f.Coverage)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s\tMONTH\tSPENT\tFORECAST\tLOW\tHIGH\t\n", head)
	for i := range rs {
		label := forecastLabel(dims, &rs[i])
		for j, mo := range rs[i].Months {
			if j > 0 {
				label = ""
			}
			spent := "-"
			if j == 0 {
				spent = mo.ActualToDate.Grouped("")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", label, mo.Month, spent, mo.Amount.Grouped(""), mo.Lower.Grouped(""), mo.Upper.Grouped(""))
		}
	}
	return tw.Flush()
}

// writeForecastCSV writes f as CSV: a line per group and month, amounts as
// exact dollars.
func writeForecastCSV(w io.Writer, dims []costexplorer.Dimension, f *client.UsageForecast) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"groupId", "groupName", "month", "amount", "lower", "upper", "actualToDate"})
	for i := range f.Results {
		r := &f.Results[i]
		var g costexplorer.UsageGroup
		if len(dims) > 0 {
			g = r.Groups[dims[0]]
		}
		for _, mo := range r.Months {
			_ = cw.Write([]string{g.ID, g.Name, mo.Month.String(), mo.Amount.Dollars(), mo.Lower.Dollars(), mo.Upper.Dollars(), mo.ActualToDate.Dollars()})
		}
	}
	cw.Flush()
	return cw.Error()
}
