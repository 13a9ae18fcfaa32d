package web

import (
	"context"
	"slices"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/forecast"
)

// The explorer's forecast: when the window ends with the current month, the
// chart draws the forecast of the total of its filters (the API's
// usage:forecast for the same scope, docs/forecast.md) dashed over the
// current month's column and over the months that follow, each with its
// 80 % band.

// forecastOf returns the forecast of the total of q's filters made today,
// or nil when the page has no evaluator or q's window does not end with
// the current month.
func (s *Server) forecastOf(ctx context.Context, q *costexplorer.Query, current costexplorer.Month) ([]costexplorer.MonthForecast, error) {
	if q.End-1 != current {
		return nil, nil
	}
	return s.forecastTotal(ctx, q.OrgID, filterOf(q))
}

// forecastTotal returns the forecast made today of the total of orgID's
// items that filter passes: the month of today, then the months after
// it; nil when the page has no evaluator.
func (s *Server) forecastTotal(ctx context.Context, orgID string, filter *costexplorer.Filter) ([]costexplorer.MonthForecast, error) {
	if s.cfg.UsageQueries == nil {
		return nil, nil
	}
	fq, err := costexplorer.ParseUsageForecastRequest(orgID, nil, costexplorer.QueryLimits{Now: s.cfg.Now(), HistoryMonths: s.cfg.HistoryMonths})
	if err != nil {
		return nil, err
	}
	fq.Filter = filter
	f, err := forecast.Usage(ctx, s.cfg.UsageQueries, fq)
	if err != nil || len(f.Results) == 0 {
		return nil, err
	}
	return f.Results[0].Months, nil
}

// filterOf is the filter expression of an Atlas query's filters: each
// non-empty list a leaf, all of them together, and with
// includePartialMatches an item without a value for a dimension passing
// that dimension's leaf (a support charge has no project).
func filterOf(q *costexplorer.Query) *costexplorer.Filter {
	var and []*costexplorer.Filter
	add := func(d costexplorer.Dimension, in []string) {
		if len(in) == 0 {
			return
		}
		leaf := &costexplorer.Filter{Dimension: d, In: in}
		if q.IncludePartialMatches {
			leaf = &costexplorer.Filter{Or: []*costexplorer.Filter{leaf, {Dimension: d, Absent: true}}}
		}
		and = append(and, leaf)
	}
	services := make([]string, len(q.Services))
	for i, s := range q.Services {
		services[i] = string(s)
	}
	add(costexplorer.DimOrganizations, q.Organizations)
	add(costexplorer.DimProjects, q.Projects)
	add(costexplorer.DimClusters, q.Clusters)
	add(costexplorer.DimServices, services)
	switch len(and) {
	case 0:
		return nil
	case 1:
		return and[0]
	}
	return &costexplorer.Filter{And: and}
}

// chartForecast is a month's forecast as the chart draws it: the band of
// the 80 % interval and a dashed column up to the point forecast. The
// cents are exact: the browser test reads them from data attributes.
type chartForecast struct {
	X, W                       string
	PointY, LowY, BandH, ColH  string
	Cents, LowCents, HighCents int64
	Label, LabelY              string
	Title                      string
}

// forecastMark lays out forecast f of the period named long whose column
// is centred at cx, barW wide, on the value axis y, over a stack whose top
// is up.
func forecastMark(f *costexplorer.MonthForecast, long string, cx, barW float64, y func(costexplorer.Cents) float64, up costexplorer.Cents) *chartForecast {
	return &chartForecast{
		X: num(cx - barW/2), W: num(barW),
		PointY: num(y(f.Amount)), ColH: num(y(0) - y(f.Amount)),
		LowY: num(y(f.Upper)), BandH: num(y(f.Lower) - y(f.Upper)),
		Cents: int64(f.Amount), LowCents: int64(f.Lower), HighCents: int64(f.Upper),
		Label: formatCompact(f.Amount), LabelY: num(y(max(f.Upper, up)) - 6),
		Title: "Forecast, " + long + ": " + f.Amount.Grouped("$") + " (80 % interval " +
			f.Lower.Grouped("$") + " to " + f.Upper.Grouped("$") + ")",
	}
}

// withForecast attaches the forecasts fc to the month periods ps of
// months, and appends a future period for each forecast month after them.
func withForecast(ps []chartPeriod, months []costexplorer.Month, fc []costexplorer.MonthForecast) []chartPeriod {
	for i := range fc {
		f := &fc[i]
		if j := slices.Index(months, f.Month); j >= 0 {
			ps[j].Forecast = f
			continue
		}
		if len(months) > 0 && f.Month > months[len(months)-1] {
			p := monthPeriods([]costexplorer.Month{f.Month})[0]
			p.Link, p.Forecast, p.Future = "", f, true
			ps = append(ps, p)
		}
	}
	return ps
}

// forecastCard is the forecast month end on the month-to-date card.
type forecastCard struct {
	End, Lower, Upper moneyCell
}

// forecastCardOf returns the month-end forecast of the filter for the
// month-to-date card; nil without an evaluator.
func (s *Server) forecastCardOf(ctx context.Context, orgID string, filter *costexplorer.Filter) (*forecastCard, error) {
	fc, err := s.forecastTotal(ctx, orgID, filter)
	if err != nil || len(fc) == 0 {
		return nil, err
	}
	return &forecastCard{End: cell(fc[0].Amount), Lower: cell(fc[0].Lower), Upper: cell(fc[0].Upper)}, nil
}
