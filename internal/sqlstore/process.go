package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/costexplorer/costexplorer"
)

const processColumns = `token, org_id, query, state, COALESCE(lease_owner, ''), lease_expires, attempts,
	result, error, created_at, ready_at, completed_at, expires_at`

func scanProcess(r Row) (*costexplorer.QueryProcess, error) {
	// One allocation holds the process and the scan's destinations.
	v := new(struct {
		p                                         costexplorer.QueryProcess
		query, state                              string
		attempts                                  int64
		lease, created, ready, completed, expires Time
	})
	p := &v.p
	if err := r.Scan(&p.Token, &p.OrgID, &v.query, &v.state, &p.LeaseOwner, &v.lease, &v.attempts,
		&p.Result, &p.Error, &v.created, &v.ready, &v.completed, &v.expires); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(v.query), &p.Query); err != nil {
		return nil, fmt.Errorf("process %s: decode query: %w", p.Token, err)
	}
	var err error
	if p.Result, err = loadedResult(p.Result); err != nil {
		return nil, fmt.Errorf("process %s: %w", p.Token, err)
	}
	p.State, p.Attempts = costexplorer.ProcessState(v.state), int(v.attempts)
	p.LeaseExpires, p.CreatedAt, p.ReadyAt = v.lease.Time, v.created.Time, v.ready.Time
	p.CompletedAt, p.ExpiresAt = v.completed.Time, v.expires.Time
	return p, nil
}

// live reports whether p may still be returned at now: not failed and not
// expired.
func live(p *costexplorer.QueryProcess, now time.Time) bool {
	return p.State != costexplorer.ProcessFailed && (p.ExpiresAt.IsZero() || p.ExpiresAt.After(now))
}

// CreateProcess inserts p unless a live process with its token exists, and
// returns the stored process. An expired or failed process with the same
// token is replaced. "Now" for expiry is p.CreatedAt (the store's clock when
// zero). A token held by another organization is ErrConflict. Callers that
// create the same token at once, in any process or on any replica, all get
// the one process stored first.
func (s *Store) CreateProcess(ctx context.Context, p *costexplorer.QueryProcess) (*costexplorer.QueryProcess, error) {
	if !costexplorer.IsToken(p.Token) {
		return nil, costexplorer.Errorf(costexplorer.ErrValidation, "invalid process token %q", p.Token)
	}
	np := *p
	if np.CreatedAt.IsZero() {
		np.CreatedAt = s.now()
	}
	if np.State == "" {
		np.State = costexplorer.ProcessPending
	}
	query, err := json.Marshal(&np.Query)
	if err != nil {
		return nil, fmt.Errorf("encode query: %w", err)
	}
	// The token last, where the UPDATE below needs it too.
	args := []any{np.OrgID, string(query), string(np.State), NullString(np.LeaseOwner), Micros(np.LeaseExpires), np.Attempts,
		storedResult(np.Result), np.Error, np.CreatedAt.UnixMicro(), Micros(np.ReadyAt), Micros(np.CompletedAt), Micros(np.ExpiresAt), np.Token}
	var out *costexplorer.QueryProcess
	err = s.r.WriteTx(ctx, func(q Querier) error {
		// Bounded: a row can only vanish between the two statements if the
		// janitor deleted it, which cannot repeat for a live process.
		for range 3 {
			var err error
			out, err = scanProcess(q.QueryRow(ctx, `INSERT INTO processes
				(org_id, query, state, lease_owner, lease_expires, attempts, result, error, created_at, ready_at, completed_at, expires_at, token)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (token) DO NOTHING RETURNING `+processColumns, args...))
			if !s.d.IsNoRows(err) {
				return err
			}
			old, err := scanProcess(q.QueryRow(ctx, "SELECT "+processColumns+" FROM processes WHERE token = ?"+s.d.ForUpdate, np.Token))
			switch {
			case s.d.IsNoRows(err):
				continue
			case err != nil:
				return err
			case old.OrgID != np.OrgID:
				return costexplorer.Errorf(costexplorer.ErrConflict, "process token %s belongs to another organization", np.Token)
			case live(old, np.CreatedAt):
				out = old
				return nil
			}
			out, err = scanProcess(q.QueryRow(ctx, `UPDATE processes SET
				org_id = ?, query = ?, state = ?, lease_owner = ?, lease_expires = ?, attempts = ?, result = ?,
				error = ?, created_at = ?, ready_at = ?, completed_at = ?, expires_at = ?
				WHERE token = ? RETURNING `+processColumns, args...))
			return err
		}
		return fmt.Errorf("process %s: could not be created", np.Token)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Process returns the live process of orgID with token, or ErrNotFound (also
// for another organization's token and for an expired process).
func (s *Store) Process(ctx context.Context, orgID, token string, now time.Time) (*costexplorer.QueryProcess, error) {
	return one(ctx, s, scanProcess, "query process %s not found", token, "SELECT "+processColumns+
		" FROM processes WHERE token = ? AND org_id = ? AND (expires_at IS NULL OR expires_at > ?)", token, orgID, now.UnixMicro())
}

// ClaimProcess takes the oldest unexpired pending process, or a running one
// whose lease has lapsed, for owner until now+lease. The choice and the
// update are one statement, and exactly one caller in any process or on any
// replica gets each claim: SQLite runs it in an IMMEDIATE transaction that no
// other writer shares; PostgreSQL locks the candidate with FOR UPDATE SKIP
// LOCKED, so concurrent claimers skip rows another is claiming instead of
// waiting for them, and a row whose state changed since the statement's
// snapshot is re-checked before it is taken. ErrNotFound when there is
// nothing to claim.
func (s *Store) ClaimProcess(ctx context.Context, owner string, now time.Time, lease time.Duration) (*costexplorer.QueryProcess, error) {
	return claim(ctx, s, processLease, "pending", processColumns, scanProcess, owner, now, lease)
}

// claim takes, for owner until now+lease, the oldest unexpired row of l's
// table that is pending or running under a lapsed lease, incrementing its
// attempts, and returns it as columns read by scan (see ClaimProcess).
func claim[T any](ctx context.Context, s *Store, l leased, pending, columns string, scan func(Row) (*T, error),
	owner string, now time.Time, lease time.Duration) (*T, error) {
	if owner == "" {
		return nil, costexplorer.Errorf(costexplorer.ErrValidation, "a lease owner is required")
	}
	var v *T
	err := s.r.Write(ctx, func(q Querier) error {
		n := now.UnixMicro()
		var err error
		v, err = scan(q.QueryRow(ctx, "UPDATE "+l.table+`
			SET state = '`+l.running+`', lease_owner = ?, lease_expires = ?, attempts = attempts + 1
			WHERE `+l.key+` = (
				SELECT `+l.key+` FROM `+l.table+`
				WHERE (state = '`+pending+`' OR (state = '`+l.running+`' AND lease_expires <= ?))
				  AND (expires_at IS NULL OR expires_at > ?)
				ORDER BY created_at, `+l.key+`
				LIMIT 1`+s.d.SkipLocked+`)
			RETURNING `+columns, owner, now.Add(lease).UnixMicro(), n, n))
		if s.d.IsNoRows(err) {
			return notFound("no %s to claim", l.what)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// leased names a table of leased work rows (query processes, invoice
// reports): its key column, the word of its running state, and what a row
// is called in errors.
type leased struct{ table, key, running, what string }

var (
	processLease = leased{"processes", "token", "running", "query process"}
	reportLease  = leased{"invoice_reports", "id", "RUNNING", "invoice report"}
)

// endLease runs an UPDATE of l's table that sets set (with its arguments)
// to end owner's lease on the row with key id. An owner whose lease lapsed
// may still end it while nobody else has claimed the row (the work is done
// and nobody else is doing it); once another owner claimed it, or it is no
// longer running, the answer is ErrConflict, and ErrNotFound when the row
// is gone.
func (s *Store) endLease(ctx context.Context, l leased, id, owner, set string, args ...any) error {
	return s.r.Write(ctx, func(q Querier) error {
		n, err := q.Exec(ctx, "UPDATE "+l.table+" SET "+set+", lease_owner = NULL, lease_expires = NULL WHERE "+l.key+
			" = ? AND state = '"+l.running+"' AND lease_owner = ?", append(args, id, owner)...)
		if err != nil {
			return err
		}
		if n == 1 {
			return nil
		}
		var exists bool
		if err := q.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+l.table+" WHERE "+l.key+" = ?)", id).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return notFound("%s %s not found", l.what, id)
		}
		return costexplorer.Errorf(costexplorer.ErrConflict, "%s %s is not held by %s", l.what, id, owner)
	})
}

// releaseLeases returns the running rows of owner in l's table to pending.
func (s *Store) releaseLeases(ctx context.Context, l leased, pending, owner string) error {
	return s.r.Write(ctx, func(q Querier) error {
		_, err := q.Exec(ctx, "UPDATE "+l.table+" SET state = '"+pending+"', lease_owner = NULL, lease_expires = NULL WHERE state = '"+
			l.running+"' AND lease_owner = ?", owner)
		return err
	})
}

// deleteExpired removes the rows of table that expired before now.
func (s *Store) deleteExpired(ctx context.Context, table string, now time.Time) (int64, error) {
	var n int64
	err := s.r.Write(ctx, func(q Querier) error {
		var err error
		n, err = q.Exec(ctx, "DELETE FROM "+table+" WHERE expires_at < ?", now.UnixMicro())
		return err
	})
	return n, err
}

// FinishProcess stores the result of a process owner holds and marks it done.
// An owner whose lease lapsed may still finish while nobody else has claimed
// the process (the work is done and nobody else is doing it); once another
// owner claimed it, or it is no longer running, the answer is ErrConflict.
func (s *Store) FinishProcess(ctx context.Context, token, owner string, result []byte, now time.Time) error {
	if result == nil {
		result = []byte{}
	}
	return s.endLease(ctx, processLease, token, owner, "state = 'done', result = ?, error = '', completed_at = ?", storedResult(result), now.UnixMicro())
}

// FailProcess marks a process owner holds as failed, under the same rule as
// FinishProcess.
func (s *Store) FailProcess(ctx context.Context, token, owner, message string, now time.Time) error {
	return s.endLease(ctx, processLease, token, owner, "state = 'failed', error = ?, completed_at = ?", message, now.UnixMicro())
}

// ReleaseLeases returns the running processes of owner to pending.
func (s *Store) ReleaseLeases(ctx context.Context, owner string) error {
	return s.releaseLeases(ctx, processLease, "pending", owner)
}

// DeleteExpiredProcesses removes processes that expired before now.
func (s *Store) DeleteExpiredProcesses(ctx context.Context, now time.Time) (int64, error) {
	return s.deleteExpired(ctx, "processes", now)
}

// ProcessCounts returns the number of processes in each state; every state
// is present, with zero when there are none.
func (s *Store) ProcessCounts(ctx context.Context) (map[costexplorer.ProcessState]int64, error) {
	out := map[costexplorer.ProcessState]int64{
		costexplorer.ProcessPending: 0, costexplorer.ProcessRunning: 0, costexplorer.ProcessDone: 0, costexplorer.ProcessFailed: 0,
	}
	err := s.r.Read(ctx, func(q Querier) error {
		return Each(ctx, q, "SELECT state, COUNT(*) FROM processes GROUP BY state", func(r Row) error {
			var st string
			var n int64
			if err := r.Scan(&st, &n); err != nil {
				return err
			}
			out[costexplorer.ProcessState(st)] = n
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
