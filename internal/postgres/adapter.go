package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/costexplorer/costexplorer/internal/sqlstore"
)

// dialect is what PostgreSQL's SQL differs in (see [sqlstore.Dialect]).
var dialect = sqlstore.Dialect{
	Name:        "postgres",
	Placeholder: sqlstore.Dollar,
	NoRows:      pgx.ErrNoRows,
	Bool:        func(b bool) any { return b },
	Greatest:    "GREATEST",
	NoLimit:     "ALL",
	ForUpdate:   " FOR UPDATE",
	SkipLocked:  " FOR UPDATE SKIP LOCKED",
	LockData: func(ctx context.Context, q sqlstore.Querier) error {
		_, err := q.Exec(ctx, "SELECT pg_advisory_xact_lock(?, hashtext(current_schema()))", lockIngest)
		return err
	},
	LockSchema: func(ctx context.Context, q sqlstore.Querier) error {
		_, err := q.Exec(ctx, "SELECT pg_advisory_xact_lock(?, hashtext(current_schema()))", lockMigrate)
		return err
	},
	// The simple protocol runs a multi-statement script as one; the script
	// is passed as written, not rebound.
	ExecScript: func(ctx context.Context, q sqlstore.Querier, script string) error {
		_, err := q.(txQuerier).c.Exec(ctx, script, pgx.QueryExecModeSimpleProtocol)
		return err
	},
	Translate: translate,
}

// pgxQuerier is what pgx.Tx, *pgxpool.Conn and *pgx.Conn have in common.
type pgxQuerier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// querier runs the core's statements on a pgx transaction or connection C,
// rebinding its '?' placeholders. It is used at two types: txQuerier in a
// transaction, connQuerier on a pooled connection, each statement
// committing by itself (a pointer-shaped value: it is passed as a Querier
// without an allocation, on the path of every authenticated request).
type querier[C pgxQuerier] struct{ c C }

type (
	txQuerier   = querier[pgx.Tx]
	connQuerier = querier[*pgxpool.Conn]
)

func (q querier[C]) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := q.c.Exec(ctx, dialect.Bind(query), args...)
	return tag.RowsAffected(), err
}

func (q querier[C]) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := q.c.Query(ctx, dialect.Bind(query), args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func (q querier[C]) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return q.c.QueryRow(ctx, dialect.Bind(query), args...)
}

// runner is the store's [sqlstore.Runner]: single statements on a pooled
// connection (each commits by itself), transactions through tx.
type runner struct{ db *DB }

func (r runner) Read(ctx context.Context, fn func(sqlstore.Querier) error) error {
	c, err := r.db.acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	return dialect.Translate(ctx, fn(connQuerier{c}))
}

func (r runner) ReadTx(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return r.db.readTx(ctx, func(tx pgx.Tx) error { return fn(txQuerier{tx}) })
}

func (r runner) Write(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return r.Read(ctx, fn)
}

func (r runner) WriteTx(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return r.db.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error { return fn(txQuerier{tx}) })
}

var (
	_ sqlstore.Querier = txQuerier{}
	_ sqlstore.Querier = connQuerier{}
	_ sqlstore.Runner  = runner{}
)
