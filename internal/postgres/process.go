package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/costexplorer/costexplorer"
)

const processColumns = `token, org_id, query, state, COALESCE(lease_owner, ''), lease_expires, attempts,
	result, error, created_at, ready_at, completed_at, expires_at`

func scanProcess(s pgx.Row) (*costexplorer.QueryProcess, error) {
	var (
		p                                         costexplorer.QueryProcess
		query, state                              string
		attempts                                  int32
		lease, created, ready, completed, expires *int64
	)
	if err := s.Scan(&p.Token, &p.OrgID, &query, &state, &p.LeaseOwner, &lease, &attempts,
		&p.Result, &p.Error, &created, &ready, &completed, &expires); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(query), &p.Query); err != nil {
		return nil, fmt.Errorf("process %s: decode query: %w", p.Token, err)
	}
	p.State, p.Attempts = costexplorer.ProcessState(state), int(attempts)
	p.LeaseExpires, p.CreatedAt, p.ReadyAt = fromMicros(lease), fromMicros(created), fromMicros(ready)
	p.CompletedAt, p.ExpiresAt = fromMicros(completed), fromMicros(expires)
	return &p, nil
}

// live reports whether p may still be returned at now: not failed and not
// expired.
func live(p *costexplorer.QueryProcess, now time.Time) bool {
	return p.State != costexplorer.ProcessFailed && (p.ExpiresAt.IsZero() || p.ExpiresAt.After(now))
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// CreateProcess inserts p unless a live process with its token exists, and
// returns the stored process. An expired or failed process with the same
// token is replaced. "Now" for expiry is p.CreatedAt (the store's clock when
// zero). A token held by another organization is ErrConflict. Replicas that
// create the same token at once all get the one process stored first.
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
	args := []any{np.Token, np.OrgID, string(query), string(np.State), nullString(np.LeaseOwner), toMicros(np.LeaseExpires), int32(np.Attempts),
		np.Result, np.Error, np.CreatedAt.UnixMicro(), toMicros(np.ReadyAt), toMicros(np.CompletedAt), toMicros(np.ExpiresAt)}
	var out *costexplorer.QueryProcess
	err = db.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		// Bounded: a row can only vanish between the two statements if the
		// janitor deleted it, which cannot repeat for a live process.
		for range 3 {
			var err error
			out, err = scanProcess(tx.QueryRow(ctx, `INSERT INTO processes
				(token, org_id, query, state, lease_owner, lease_expires, attempts, result, error, created_at, ready_at, completed_at, expires_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
				ON CONFLICT (token) DO NOTHING RETURNING `+processColumns, args...))
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			old, err := scanProcess(tx.QueryRow(ctx, "SELECT "+processColumns+" FROM processes WHERE token = $1 FOR UPDATE", np.Token))
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				continue
			case err != nil:
				return err
			case old.OrgID != np.OrgID:
				return costexplorer.Errorf(costexplorer.ErrConflict, "process token %s belongs to another organization", np.Token)
			case live(old, np.CreatedAt):
				out = old
				return nil
			}
			out, err = scanProcess(tx.QueryRow(ctx, `UPDATE processes SET
				org_id = $2, query = $3, state = $4, lease_owner = $5, lease_expires = $6, attempts = $7, result = $8,
				error = $9, created_at = $10, ready_at = $11, completed_at = $12, expires_at = $13
				WHERE token = $1 RETURNING `+processColumns, args...))
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
func (db *DB) Process(ctx context.Context, orgID, token string, now time.Time) (*costexplorer.QueryProcess, error) {
	var p *costexplorer.QueryProcess
	err := db.run(ctx, func(c *pgxpool.Conn) error {
		var err error
		p, err = scanProcess(c.QueryRow(ctx, "SELECT "+processColumns+
			" FROM processes WHERE token = $1 AND org_id = $2 AND (expires_at IS NULL OR expires_at > $3)", token, orgID, now.UnixMicro()))
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("query process %s not found", token)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// ClaimProcess takes the oldest unexpired pending process, or a running one
// whose lease has lapsed, for owner until now+lease. The candidate is locked
// with FOR UPDATE SKIP LOCKED: concurrent claimers on any replica skip rows
// another is claiming instead of waiting for them, and a row whose state
// changed since the statement's snapshot is re-checked before it is taken, so
// exactly one caller gets each claim. ErrNotFound when there is nothing to
// claim.
func (db *DB) ClaimProcess(ctx context.Context, owner string, now time.Time, lease time.Duration) (*costexplorer.QueryProcess, error) {
	if owner == "" {
		return nil, costexplorer.Errorf(costexplorer.ErrValidation, "a lease owner is required")
	}
	var p *costexplorer.QueryProcess
	err := db.run(ctx, func(c *pgxpool.Conn) error {
		n := now.UnixMicro()
		var err error
		p, err = scanProcess(c.QueryRow(ctx, `UPDATE processes
			SET state = 'running', lease_owner = $1, lease_expires = $2, attempts = attempts + 1
			WHERE token = (
				SELECT token FROM processes
				WHERE (state = 'pending' OR (state = 'running' AND lease_expires <= $3))
				  AND (expires_at IS NULL OR expires_at > $3)
				ORDER BY created_at, token
				LIMIT 1
				FOR UPDATE SKIP LOCKED)
			RETURNING `+processColumns, owner, now.Add(lease).UnixMicro(), n))
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("no query process to claim")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// leaseLost explains why owner could not update the process with token:
// ErrNotFound when it is gone, ErrConflict when another owner holds it or it
// is no longer running.
func leaseLost(ctx context.Context, c *pgxpool.Conn, token, owner string) error {
	var exists bool
	if err := c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM processes WHERE token = $1)", token).Scan(&exists); err != nil {
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
	return db.run(ctx, func(c *pgxpool.Conn) error {
		tag, err := c.Exec(ctx, `UPDATE processes
			SET state = 'done', result = $1, error = '', completed_at = $2, lease_owner = NULL, lease_expires = NULL
			WHERE token = $3 AND state = 'running' AND lease_owner = $4`, result, now.UnixMicro(), token, owner)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			return nil
		}
		return leaseLost(ctx, c, token, owner)
	})
}

// FailProcess marks a process owner holds as failed, under the same rule as
// FinishProcess.
func (db *DB) FailProcess(ctx context.Context, token, owner, message string, now time.Time) error {
	return db.run(ctx, func(c *pgxpool.Conn) error {
		tag, err := c.Exec(ctx, `UPDATE processes
			SET state = 'failed', error = $1, completed_at = $2, lease_owner = NULL, lease_expires = NULL
			WHERE token = $3 AND state = 'running' AND lease_owner = $4`, message, now.UnixMicro(), token, owner)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			return nil
		}
		return leaseLost(ctx, c, token, owner)
	})
}

// ReleaseLeases returns the running processes of owner to pending.
func (db *DB) ReleaseLeases(ctx context.Context, owner string) error {
	return db.run(ctx, func(c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, `UPDATE processes SET state = 'pending', lease_owner = NULL, lease_expires = NULL
			WHERE state = 'running' AND lease_owner = $1`, owner)
		return err
	})
}

// DeleteExpiredProcesses removes processes that expired before now.
func (db *DB) DeleteExpiredProcesses(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := db.run(ctx, func(c *pgxpool.Conn) error {
		tag, err := c.Exec(ctx, "DELETE FROM processes WHERE expires_at < $1", now.UnixMicro())
		n = tag.RowsAffected()
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
	err := db.run(ctx, func(c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, "SELECT state, COUNT(*) FROM processes GROUP BY state")
		if err != nil {
			return err
		}
		var s string
		var n int64
		_, err = pgx.ForEachRow(rows, []any{&s, &n}, func() error { out[costexplorer.ProcessState(s)] = n; return nil })
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
