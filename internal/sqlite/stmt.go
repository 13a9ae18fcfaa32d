package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// stmtCache holds prepared statements of the read pool for the single-row
// reads of the core (sqlstore's Runner.Read, whose query text is constant),
// among them those every authenticated API request runs (the query process,
// the organization, the service account, the token revocation): parsing and
// planning such a statement costs more than running it. database/sql
// re-prepares a cached statement on each pooled connection once.
type stmtCache struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// readRow runs a single-row query on the read pool through a cached
// prepared statement. If preparing fails, it runs the query unprepared, so
// the caller sees the same error it would have seen without the cache.
func (db *DB) readRow(ctx context.Context, query string, args ...any) *sql.Row {
	c := &db.readStmts
	c.mu.Lock()
	st := c.stmts[query]
	c.mu.Unlock()
	if st == nil {
		var err error
		if st, err = db.read.PrepareContext(ctx, query); err != nil {
			return db.read.QueryRowContext(ctx, query, args...)
		}
		c.mu.Lock()
		if prev := c.stmts[query]; prev != nil {
			st.Close()
			st = prev
		} else {
			if c.stmts == nil {
				c.stmts = map[string]*sql.Stmt{}
			}
			c.stmts[query] = st
		}
		c.mu.Unlock()
	}
	return st.QueryRowContext(ctx, args...)
}

// close closes every cached statement.
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for q, st := range c.stmts {
		errs = append(errs, st.Close())
		delete(c.stmts, q)
	}
	return errors.Join(errs...)
}
