package web

import (
	"context"

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
	if s.cfg.UsageQueries == nil || q.End-1 != current {
		return nil, nil
	}
	fq, err := costexplorer.ParseUsageForecastRequest(q.OrgID, nil, costexplorer.QueryLimits{Now: s.cfg.Now(), HistoryMonths: s.cfg.HistoryMonths})
	if err != nil {
		return nil, err
	}
	return s.totalForecast(ctx, fq, filterOf(q))
}

// filterForecast returns the forecast of the total of the items filter
// passes (every item when nil), made today: this month and the ones after.
func (s *Server) filterForecast(ctx context.Context, orgID string, filter *costexplorer.Filter) ([]costexplorer.MonthForecast, error) {
	fq, err := costexplorer.ParseUsageForecastRequest(orgID, nil, costexplorer.QueryLimits{Now: s.cfg.Now(), HistoryMonths: s.cfg.HistoryMonths})
	if err != nil {
		return nil, err
	}
	return s.totalForecast(ctx, fq, filter)
}

// totalForecast runs fq with filter and returns the months of its total.
func (s *Server) totalForecast(ctx context.Context, fq *costexplorer.UsageForecastQuery, filter *costexplorer.Filter) ([]costexplorer.MonthForecast, error) {
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
