package forecast

import (
	"context"
	"slices"
	"strings"

	"github.com/costexplorer/costexplorer"
)

// Usage answers q: it reads the daily totals of q's groups through ev, one
// DAILY UsageQuery over the days from q.Since (or the oldest day the method
// reads, whichever is later) to q.AsOf, and forecasts each group. A group
// with nothing spent in the forecast day's month and nothing forecast is
// left out (a cluster deleted months ago); the total (no GroupBy) is always
// answered. The errors are ev's.
func Usage(ctx context.Context, ev costexplorer.UsageEvaluator, q *costexplorer.UsageForecastQuery) (*costexplorer.UsageForecast, error) {
	o := Options{Ahead: costexplorer.ForecastMonths, Coverage: costexplorer.ForecastCoverage}
	start := max(q.Since, History(q.AsOf, o))
	out := &costexplorer.UsageForecast{AsOf: q.AsOf, Coverage: o.withDefaults().Coverage}
	if start >= q.AsOf {
		return out, nil
	}
	rows, err := ev.EvaluateUsage(ctx, &costexplorer.UsageQuery{OrgID: q.OrgID, Granularity: costexplorer.Daily,
		Start: start, End: q.AsOf, GroupBy: q.GroupBy, Filter: q.Filter, Metrics: []costexplorer.Metric{costexplorer.MetricAmount}})
	if err != nil {
		return nil, err
	}
	type group struct {
		key    []costexplorer.UsageGroup
		series Series
	}
	n := int(q.AsOf - start)
	byKey := map[string]*group{}
	var groups []*group
	if len(q.GroupBy) == 0 {
		// The total is answered even when nothing was spent.
		g := &group{series: Series{Start: start, Days: make([]costexplorer.Cents, n)}}
		byKey[""], groups = g, append(groups, g)
	}
	for i := range rows {
		r := &rows[i]
		ids := make([]string, len(r.Groups))
		for j, g := range r.Groups {
			ids[j] = g.ID
		}
		k := strings.Join(ids, "\x00")
		g := byKey[k]
		if g == nil {
			g = &group{key: r.Groups, series: Series{Start: start, Days: make([]costexplorer.Cents, n)}}
			byKey[k] = g
			groups = append(groups, g)
		}
		if i := int(r.Start - start); i >= 0 && i < n {
			g.series.Days[i] += r.Amount
		}
	}
	slices.SortFunc(groups, func(a, b *group) int {
		return costexplorer.CompareUsageRows(&costexplorer.UsageRow{Groups: a.key}, &costexplorer.UsageRow{Groups: b.key})
	})
	for _, g := range groups {
		ms := Forecast(g.series, q.AsOf, o)
		res := costexplorer.GroupForecast{Groups: map[costexplorer.Dimension]costexplorer.UsageGroup{}, Months: make([]costexplorer.MonthForecast, len(ms))}
		for j, d := range q.GroupBy {
			res.Groups[d] = g.key[j]
		}
		zero := true
		for j, m := range ms {
			res.Months[j] = costexplorer.MonthForecast{Month: m.Month, Amount: m.Point, Lower: m.Lower, Upper: m.Upper, ActualToDate: m.Actual}
			zero = zero && m == Month{Month: m.Month}
		}
		if !zero || len(q.GroupBy) == 0 {
			out.Results = append(out.Results, res)
		}
	}
	return out, nil
}
