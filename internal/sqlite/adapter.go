package sqlite

import (
	"context"
	"database/sql"

	"github.com/costexplorer/costexplorer/internal/sqlstore"
)

// dialect is what SQLite's SQL differs in (see [sqlstore.Dialect]).
var dialect = sqlstore.Dialect{
	Name:        "sqlite",
	Placeholder: sqlstore.Question,
	NoRows:      sql.ErrNoRows,
	Bool:        func(b bool) any { return boolInt(b) },
	Greatest:    "MAX",
	NoLimit:     "-1",
	ExecScript: func(ctx context.Context, q sqlstore.Querier, script string) error {
		_, err := q.Exec(ctx, script)
		return err
	},
	Translate: txErr,
}

// txQuerier runs the core's statements in a transaction.
type txQuerier struct{ tx *sql.Tx }

func (q txQuerier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := q.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (q txQuerier) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := q.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (q txQuerier) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return q.tx.QueryRowContext(ctx, query, args...)
}

// readQuerier runs the core's statements on the read pool; single-row
// queries go through the cache of prepared statements (see stmt.go).
type readQuerier struct{ db *DB }

func (q readQuerier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := q.db.read.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (q readQuerier) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := q.db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (q readQuerier) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return q.db.readRow(ctx, query, args...)
}

// sqlRows gives *sql.Rows the Close of [sqlstore.Rows].
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

// runner is the store's [sqlstore.Runner]: reads on the read pool, writes
// in IMMEDIATE transactions on the write connection.
type runner struct{ db *DB }

func (r runner) Read(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return dialect.Translate(ctx, fn(readQuerier{r.db}))
}

func (r runner) ReadTx(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return r.db.readTx(ctx, func(tx *sql.Tx) error { return fn(txQuerier{tx: tx}) })
}

// StreamTx implements [sqlstore.StreamRunner] on a direct connection
// (direct.go), or on the read pool while none is free.
func (r runner) StreamTx(ctx context.Context, fn func(sqlstore.Querier) error) error {
	ok, err := r.db.direct.readTx(ctx, fn)
	if !ok && err == nil {
		return r.ReadTx(ctx, fn)
	}
	return dialect.Translate(ctx, err)
}

func (r runner) Write(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return r.WriteTx(ctx, fn)
}

func (r runner) WriteTx(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return r.db.writeTx(ctx, func(tx *sql.Tx) error { return fn(txQuerier{tx}) })
}

var (
	_ sqlstore.Querier      = txQuerier{}
	_ sqlstore.Querier      = readQuerier{}
	_ sqlstore.Runner       = runner{}
	_ sqlstore.StreamRunner = runner{}
)
