package client

import (
	"context"
	"iter"
	"net/url"

	"github.com/costexplorer/costexplorer"
)

// The project's own usage queries (POST
// /api/costexplorer/v1/orgs/{orgId}/usage:query, not part of Atlas): daily
// or monthly periods, tags, two group-bys and filter expressions, answered
// at once, a page at a time.

// Types of usage queries, shared with the costexplorer domain.
type (
	// UsageQueryRequest is the body of a usage query.
	UsageQueryRequest = costexplorer.UsageQueryRequest
	// TimePeriod is a window of days: Start inclusive, End exclusive,
	// written YYYY-MM-DD.
	TimePeriod = costexplorer.TimePeriod
	// Granularity is DAILY or MONTHLY.
	Granularity = costexplorer.Granularity
	// Dimension is a group-by or filter dimension: organizations,
	// projects, clusters, services, skus or tag:KEY.
	Dimension = costexplorer.Dimension
	// Filter is a filter expression (and, or, not, or a leaf testing one
	// dimension with In or Absent).
	Filter = costexplorer.Filter
	// Metric is amount or quantity.
	Metric = costexplorer.Metric
	// UsageAnswer is one page of a usage query's answer.
	UsageAnswer = costexplorer.UsageAnswer
	// UsageResult is one row of an answer: the period's first day, the
	// group per group-by dimension, the amount in dollars and cents.
	UsageResult = costexplorer.UsageResult
)

// The granularities.
const (
	Daily   = costexplorer.Daily
	Monthly = costexplorer.Monthly
)

// UsageQueryPath returns the path of usage:query for orgID.
func UsageQueryPath(orgID string) string {
	return "/api/costexplorer/v1/orgs/" + url.PathEscape(orgID) + "/usage:query"
}

// QueryUsage returns one page of the answer to req for orgID: the page
// after req.Next, at most req.PageSize rows (the server's default when 0).
// A bad request is an *APIError with status 400 naming the field.
func (c *Client) QueryUsage(ctx context.Context, orgID string, req UsageQueryRequest) (*UsageAnswer, error) {
	var a UsageAnswer
	if err := c.callOwn(ctx, UsageQueryPath(orgID), req, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// AllUsage iterates over every row of the answer to req, page after page
// from req.Next, following the server's cursors. It stops at the first
// error, which it yields.
func (c *Client) AllUsage(ctx context.Context, orgID string, req UsageQueryRequest) iter.Seq2[UsageResult, error] {
	return func(yield func(UsageResult, error) bool) {
		for {
			a, err := c.QueryUsage(ctx, orgID, req)
			if err != nil {
				yield(UsageResult{}, err)
				return
			}
			for _, r := range a.Results {
				if !yield(r, nil) {
					return
				}
			}
			if a.Next == nil || *a.Next == "" || len(a.Results) == 0 {
				return
			}
			req.Next = *a.Next
		}
	}
}
