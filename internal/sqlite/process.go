package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/costexplorer/costexplorer"
)

const processColumns = `token, org_id, query, state, COALESCE(lease_owner, ''), lease_expires, attempts,
	result, error, created_at, ready_at, completed_at, expires_at`

func scanProcess(s interface{ Scan(...any) error }) (*costexplorer.QueryProcess, error) {
	var (
		p                                         costexplorer.QueryProcess
		query                                     string
		lease, created, ready, completed, expires sql.NullInt64
	)
	if err := s.Scan(&p.Token, &p.OrgID, &query, &p.State, &p.LeaseOwner, &lease, &p.Attempts,
		&p.Result, &p.Error, &created, &ready, &completed, &expires); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(query), &p.Query); err != nil {
		return nil, fmt.Errorf("process %s: decode query: %w", p.Token, err)
	}
	p.LeaseExpires, p.CreatedAt, p.ReadyAt = fromMicros(lease), fromMicros(created), fromMicros(ready)
	p.CompletedAt, p.ExpiresAt = fromMicros(completed), fromMicros(expires)
	return &p, nil
}

// live reports whether p may still be returned at now: not failed and not
// expired.
func live(p *costexplorer.QueryProcess, now time.Time) bool {
	return p.State != costexplorer.ProcessFailed && (p.ExpiresAt.IsZero() || p.ExpiresAt.After(now))
}

// CreateProcess inserts p unless a live process with its token exists, and
// returns the stored process. An expired or failed process with the same
// token is replaced. "Now" for expiry is p.CreatedAt (the store's clock when
// zero). A token held by another organization is ErrConflict.
func (db *DB) CreateProcess(ctx context.Context, p *costexplorer.QueryProcess) (*costexplorer.QueryProcess, error) {
	if !costexplorer.IsToken(p.Token) {
		return nil, costexplorer.Errorf(costexplorer.ErrValidation, "invalid process token %q", p.Token)
	}
	np := *p
	if np.CreatedAt.IsZero() {
		np.CreatedAt = db.now()
	}
	if np.State == "" {
		np.State = costexplorer.ProcessPending
	}
	query, err := json.Marshal(&np.Query)
	if err != nil {
		return nil, fmt.Errorf("encode query: %w", err)
	}
	var out *costexplorer.QueryProcess
	err = db.writeTx(ctx, func(tx *sql.Tx) error {
		old, err := scanProcess(tx.QueryRowContext(ctx, "SELECT "+processColumns+" FROM processes WHERE token = ?", np.Token))
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case old.OrgID != np.OrgID:
			return costexplorer.Errorf(costexplorer.ErrConflict, "process token %s belongs to another organization", np.Token)
		case live(old, np.CreatedAt):
			out = old
			return nil
		default:
			if _, err := tx.ExecContext(ctx, "DELETE FROM processes WHERE token = ?", np.Token); err != nil {
				return err
			}
		}
		var leaseOwner any
		if np.LeaseOwner != "" {
			leaseOwner = np.LeaseOwner
		}
		out, err = scanProcess(tx.QueryRowContext(ctx, `INSERT INTO processes
			(token, org_id, query, state, lease_owner, lease_expires, attempts, result, error, created_at, ready_at, completed_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+processColumns,
			np.Token, np.OrgID, string(query), string(np.State), leaseOwner, toMicros(np.LeaseExpires), np.Attempts,
			np.Result, np.Error, np.CreatedAt.UnixMicro(), toMicros(np.ReadyAt), toMicros(np.CompletedAt), toMicros(np.ExpiresAt)))
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Process returns the live process of orgID with token, or ErrNotFound (also
// for another organization's token and for an expired process).
func (db *DB) Process(ctx context.Context, orgID, token string, now time.Time) (*costexplorer.QueryProcess, error) {
	p, err := scanProcess(db.readRow(ctx, "SELECT "+processColumns+
		" FROM processes WHERE token = ? AND org_id = ? AND (expires_at IS NULL OR expires_at > ?)", token, orgID, now.UnixMicro()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("query process %s not found", token)
	}
	if err != nil {
		return nil, translate(err)
	}
	return p, nil
}

// ClaimProcess takes the oldest unexpired pending process, or a running one
// whose lease has lapsed, for owner until now+lease. The choice and the
// update are one statement in an IMMEDIATE transaction, so exactly one caller
// in any process gets each claim. ErrNotFound when there is nothing to claim.
func (db *DB) ClaimProcess(ctx context.Context, owner string, now time.Time, lease time.Duration) (*costexplorer.QueryProcess, error) {
	if owner == "" {
		return nil, costexplorer.Errorf(costexplorer.ErrValidation, "a lease owner is required")
	}
	var p *costexplorer.QueryProcess
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		n := now.UnixMicro()
		p, err = scanProcess(tx.QueryRowContext(ctx, `UPDATE processes
			SET state = 'running', lease_owner = ?, lease_expires = ?, attempts = attempts + 1
			WHERE token = (
				SELECT token FROM processes
				WHERE (state = 'pending' OR (state = 'running' AND lease_expires <= ?))
				  AND (expires_at IS NULL OR expires_at > ?)
				ORDER BY created_at, token
				LIMIT 1)
			RETURNING `+processColumns, owner, now.Add(lease).UnixMicro(), n, n))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) || costexplorer.IsNotFound(err) {
		return nil, notFound("no query process to claim")
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// leaseLost explains why owner could not update the process with token:
// ErrNotFound when it is gone, ErrConflict when another owner holds it or it
// is no longer running.
func leaseLost(ctx context.Context, tx *sql.Tx, token, owner string) error {
	var exists bool
	if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM processes WHERE token = ?)", token).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return notFound("query process %s not found", token)
	}
	return costexplorer.Errorf(costexplorer.ErrConflict, "query process %s is not held by %s", token, owner)
}

// FinishProcess stores the result of a process owner holds and marks it done.
// An owner whose lease lapsed may still finish while nobody else has claimed
// the process (the work is done and nobody else is doing it); once another
// owner claimed it, or it is no longer running, the answer is ErrConflict.
func (db *DB) FinishProcess(ctx context.Context, token, owner string, result []byte, now time.Time) error {
	if result == nil {
		result = []byte{}
	}
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE processes
			SET state = 'done', result = ?, error = '', completed_at = ?, lease_owner = NULL, lease_expires = NULL
			WHERE token = ? AND state = 'running' AND lease_owner = ?`, result, now.UnixMicro(), token, owner)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		return leaseLost(ctx, tx, token, owner)
	})
}

// FailProcess marks a process owner holds as failed, under the same rule as
// FinishProcess.
func (db *DB) FailProcess(ctx context.Context, token, owner, message string, now time.Time) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE processes
			SET state = 'failed', error = ?, completed_at = ?, lease_owner = NULL, lease_expires = NULL
			WHERE token = ? AND state = 'running' AND lease_owner = ?`, message, now.UnixMicro(), token, owner)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		return leaseLost(ctx, tx, token, owner)
	})
}

// ReleaseLeases returns the running processes of owner to pending.
func (db *DB) ReleaseLeases(ctx context.Context, owner string) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE processes SET state = 'pending', lease_owner = NULL, lease_expires = NULL
			WHERE state = 'running' AND lease_owner = ?`, owner)
		return err
	})
}

// DeleteExpiredProcesses removes processes that expired before now.
func (db *DB) DeleteExpiredProcesses(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM processes WHERE expires_at < ?", now.UnixMicro())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// ProcessCounts returns the number of processes in each state; every state
// is present, with zero when there are none.
func (db *DB) ProcessCounts(ctx context.Context) (map[costexplorer.ProcessState]int64, error) {
	out := map[costexplorer.ProcessState]int64{
		costexplorer.ProcessPending: 0, costexplorer.ProcessRunning: 0, costexplorer.ProcessDone: 0, costexplorer.ProcessFailed: 0,
	}
	rows, err := db.read.QueryContext(ctx, "SELECT state, COUNT(*) FROM processes GROUP BY state")
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[costexplorer.ProcessState(s)] = n
	}
	return out, translate(rows.Err())
}
