package sqlstore

import (
	"context"
	"time"

	"github.com/costexplorer/costexplorer"
)

// Querier runs statements on a transaction or a connection of either
// dialect. Query text is written with '?' placeholders; the PostgreSQL
// adapter rebinds them to $1, $2, … (see [Rebind]), so the core writes every
// query once.
type Querier interface {
	// Exec runs a statement and returns the number of rows it affected.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// Query runs a query that returns rows.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// QueryRow runs a query expected to return at most one row; Scan reports
	// the dialect's "no rows" error (see [Dialect.NoRows]) when it returns
	// none.
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Row is one result row: *sql.Row and pgx.Row both are.
type Row interface {
	Scan(dest ...any) error
}

// Rows is a result set being read: pgx.Rows is one, and the SQLite adapter
// wraps *sql.Rows. Close may be called more than once; errors of the
// iteration are reported by Err.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Runner is the transaction plumbing a dialect provides: which connection a
// call runs on, and how its transaction begins and ends. Every method
// translates the error fn returns (and its own) with the dialect's
// translation, so callers see domain errors; fn should return driver errors
// as they are, except for the "no rows" it turns into a more precise
// ErrNotFound.
type Runner interface {
	// Read runs fn for reads that need no snapshot shared between
	// statements (a single query). On SQLite it runs on the read pool and
	// its QueryRow goes through a cache of prepared statements keyed by the
	// query text: pass constant query text only.
	Read(ctx context.Context, fn func(Querier) error) error
	// ReadTx runs fn in a read-only transaction that sees one snapshot
	// throughout.
	ReadTx(ctx context.Context, fn func(Querier) error) error
	// Write runs fn where it may write, for one statement or a statement and
	// a follow-up read that need not be atomic with it. SQLite runs it in an
	// IMMEDIATE transaction on its single write connection; PostgreSQL on a
	// pooled connection where each statement commits by itself.
	Write(ctx context.Context, fn func(Querier) error) error
	// WriteTx runs fn in one write transaction, committed if fn returns nil.
	WriteTx(ctx context.Context, fn func(Querier) error) error
}

// StreamRunner is what a Runner may add for reads of many rows (an
// invoice's line items, streamed): StreamTx runs fn in a read-only
// transaction, as ReadTx does, on a connection made for reading many rows
// fast. Without it such reads run in ReadTx.
type StreamRunner interface {
	StreamTx(ctx context.Context, fn func(Querier) error) error
}

// streamTx runs fn in a read transaction for reads of many rows.
func (s *Store) streamTx(ctx context.Context, fn func(Querier) error) error {
	if r, ok := s.r.(StreamRunner); ok {
		return r.StreamTx(ctx, fn)
	}
	return s.r.ReadTx(ctx, fn)
}

// Store is the part of [costexplorer.Store] that both dialects share: the
// rules and the query text, over a dialect's [Runner]. internal/sqlite and
// internal/postgres embed it and add what differs.
type Store struct {
	d   Dialect
	r   Runner
	now func() time.Time

	services Services
}

// New returns a Store that runs its queries through r, in dialect d. now
// stamps created_at columns left zero by the caller.
func New(d Dialect, r Runner, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{d: d, r: r, now: now}
}

// Dialect returns the store's dialect.
func (s *Store) Dialect() Dialect { return s.d }

// Now returns the store's clock reading.
func (s *Store) Now() time.Time { return s.now() }

// notFound returns an ErrNotFound error with a detail naming what is missing.
func notFound(format string, args ...any) error {
	return costexplorer.Errorf(costexplorer.ErrNotFound, format, args...)
}
