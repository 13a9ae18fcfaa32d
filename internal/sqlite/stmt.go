package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// stmtCache holds prepared statements of the read pool: those of the
// single-row reads of the core (sqlstore's Runner.Read, whose query text is
// constant), among them those every authenticated API request runs (the
// query process, the organization, the service account, the token
// revocation): parsing and planning such a statement costs more than running
// it. database/sql re-prepares a cached statement on each pooled connection
// once. (Ingests cache theirs on the ingest connection: see
// [DB.ingestTx].)
type stmtCache struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// readRow runs a single-row query on the read pool through a cached
// prepared statement. If preparing fails, it runs the query unprepared, so
// the caller sees the same error it would have seen without the cache.
func (db *DB) readRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := db.readStmts.prepare(ctx, db.read, query)
	if err != nil {
		return db.read.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// lookup returns the statement of query if it is cached, else nil.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stmts[query]
}

// prepare returns the statement of query, prepared on pool the first time.
func (c *stmtCache) prepare(ctx context.Context, pool *sql.DB, query string) (*sql.Stmt, error) {
	if st := c.lookup(query); st != nil {
		return st, nil
	}
	st, err := pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev := c.stmts[query]; prev != nil {
		st.Close()
		return prev, nil
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[query] = st
	return st, nil
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
