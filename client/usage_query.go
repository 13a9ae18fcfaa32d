package client

import (
	"context"
	"iter"
)

// The project's own usage queries (POST
// /api/costexplorer/v1/orgs/{orgId}/usage:query, not part of Atlas): daily
// or monthly periods, tags, two group-bys and filter expressions, answered
// at once, a page at a time.

// UsageQueryPath returns the path of usage:query for orgID.
func UsageQueryPath(orgID string) string {
	return ownPath(orgID, "usage:query")
}

// QueryUsage returns one page of the answer to req for orgID: the page
// after req.Next, at most req.PageSize rows (the server's default when 0).
// A bad request is an *APIError with status 400 naming the field.
func (c *Client) QueryUsage(ctx context.Context, orgID string, req UsageQueryRequest) (*UsageAnswer, error) {
	return callOwn[UsageAnswer](ctx, c, UsageQueryPath(orgID), req)
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
