package costexplorer

import "context"

// Evaluator answers a validated query with its result rows, ordered as
// [CompareRows] orders them. internal/engine implements it over an in-memory
// copy of the monthly rollup.
type Evaluator interface {
	Evaluate(ctx context.Context, q *Query) ([]Row, error)
}

// UsageService creates cost-explorer query processes and returns them.
// internal/jobs implements it on a [ProcessStore] and an [Evaluator].
type UsageService interface {
	// CreateQuery accepts a validated query and returns its token. The same
	// query on the same data returns the same token.
	CreateQuery(ctx context.Context, q *Query) (token string, err error)
	// Usage returns the process of orgID with token: ready (done and past its
	// ReadyAt), still processing, or failed. ErrNotFound for unknown, expired
	// or foreign tokens.
	Usage(ctx context.Context, orgID, token string) (*QueryProcess, error)
}
