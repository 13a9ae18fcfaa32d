package costexplorer

import (
	"context"
	"time"
)

// ProcessState is the state of a query process.
type ProcessState string

// Query process states. A process is pending until a worker claims it
// (running, under a lease), then done with a result or failed.
const (
	ProcessPending ProcessState = "pending"
	ProcessRunning ProcessState = "running"
	ProcessDone    ProcessState = "done"
	ProcessFailed  ProcessState = "failed"
)

// QueryProcess is a cost-explorer query being (or having been) computed. It is
// a database row, so a process accepted by one server is finished by whichever
// replica claims it, even after a crash.
//
// ReadyAt is the earliest time the result may be shown (creation plus the
// server's minimum processing time). Result holds the JSON body of the ready
// result ([Result]).
type QueryProcess struct {
	Token        string
	OrgID        string
	Query        Query
	State        ProcessState
	LeaseOwner   string
	LeaseExpires time.Time
	Attempts     int
	Result       []byte
	Error        string
	CreatedAt    time.Time
	ReadyAt      time.Time
	CompletedAt  time.Time
	ExpiresAt    time.Time
}

// Ready reports whether p has a result that may be shown at now.
func (p *QueryProcess) Ready(now time.Time) bool {
	return p.State == ProcessDone && !now.Before(p.ReadyAt)
}

// QueryStatus is what the caller of a query sees of its process at a moment.
// Its values are the words the API documentation and the web page use.
type QueryStatus string

// Query statuses.
const (
	QueryProcessing QueryStatus = "processing"
	QueryReady      QueryStatus = "ready"
	QueryFailed     QueryStatus = "failed"
)

// Status returns what a caller sees of p at now: failed, ready (done and
// past ReadyAt, see Ready), or processing — which covers pending, running,
// and done before ReadyAt, the server's minimum processing time.
func (p *QueryProcess) Status(now time.Time) QueryStatus {
	switch {
	case p.State == ProcessFailed:
		return QueryFailed
	case p.Ready(now):
		return QueryReady
	}
	return QueryProcessing
}

// ProcessStore keeps query processes.
type ProcessStore interface {
	// CreateProcess inserts p unless a live process with its token exists, and
	// returns the stored process (the existing one when there is one). An
	// expired or failed process with the same token is replaced by p.
	CreateProcess(ctx context.Context, p *QueryProcess) (*QueryProcess, error)

	// Process returns the live process of orgID with token, or ErrNotFound
	// (also for a token of another organization, and for an expired one).
	Process(ctx context.Context, orgID, token string, now time.Time) (*QueryProcess, error)

	// ClaimProcess takes the oldest pending process, or a running one whose
	// lease has lapsed, for owner until now+lease, incrementing its attempts.
	// Exactly one caller, across all replicas, gets each claim. It returns
	// ErrNotFound when there is nothing to claim.
	ClaimProcess(ctx context.Context, owner string, now time.Time, lease time.Duration) (*QueryProcess, error)

	// FinishProcess stores the result of a process owner holds and marks it
	// done. It returns ErrConflict if owner no longer holds the lease.
	FinishProcess(ctx context.Context, token, owner string, result []byte, now time.Time) error

	// FailProcess marks a process owner holds as failed with a message for the
	// log. It returns ErrConflict if owner no longer holds the lease.
	FailProcess(ctx context.Context, token, owner, message string, now time.Time) error

	// ReleaseLeases returns the running processes of owner to pending (on
	// graceful shutdown), so another replica can claim them at once.
	ReleaseLeases(ctx context.Context, owner string) error

	// DeleteExpiredProcesses removes processes whose ExpiresAt is before now
	// and returns how many it removed.
	DeleteExpiredProcesses(ctx context.Context, now time.Time) (int64, error)

	// ProcessCounts returns the number of processes in each state.
	ProcessCounts(ctx context.Context) (map[ProcessState]int64, error)
}
