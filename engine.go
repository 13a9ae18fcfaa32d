package costexplorer

import (
	"context"
	"time"
)

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

// EngineStats describes the current snapshot of a query engine
// (internal/engine), for metrics and readiness. Projects and Clusters do not
// count the "absent" entry of charges without a project or cluster.
type EngineStats struct {
	RollupRows    int           // rollup cells held (the per-service sums come on top)
	Segments      int           // (organization, month) runs
	Organizations int           // dictionary sizes: organizations,
	Projects      int           // projects,
	Clusters      int           // clusters
	Services      int           // and services
	Bytes         int64         // approximate memory held by the snapshot
	DataVersion   int64         // the source's data version the snapshot reflects
	LoadedAt      time.Time     // when the snapshot was built (zero before the first load)
	LoadDuration  time.Duration // how long the build took (monotonic clock)

	// The daily rollup, for usage queries (loaded apart; zero before its
	// first load): cells (about one a line item), series (runs of one
	// resource, SKU and tag set in a month), approximate memory held, and
	// how long its build took.
	DailyCells        int
	DailySeries       int
	DailyBytes        int64
	DailyLoadDuration time.Duration
}
