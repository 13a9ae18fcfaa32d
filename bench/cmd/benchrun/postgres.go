//go:build postgres

// Built only with -tags postgres (scripts/bench.sh adds it when
// internal/postgres exists and BENCH_PG_DSN is set), so that the benchmark
// builds before the PostgreSQL store does.

package main

import (
	"context"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/postgres"
)

// pgSchema is the schema the benchmark recreates for each size.
const pgSchema = "costexplorer_bench"

func init() {
	openPostgres = func(ctx context.Context, dsn string) (func(*costexplorer.UsageBatch) error, func(context.Context, int64) (*Ingest, error), error) {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return nil, nil, err
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgSchema+" CASCADE; CREATE SCHEMA "+pgSchema); err != nil {
			return nil, nil, err
		}
		db, err := postgres.Open(ctx, withSearchPath(dsn, pgSchema), postgres.Options{})
		if err != nil {
			return nil, nil, err
		}
		sink := func(b *costexplorer.UsageBatch) error {
			_, err := db.IngestUsage(ctx, b)
			return err
		}
		finish := func(ctx context.Context, items int64) (*Ingest, error) {
			defer db.Close()
			st, err := db.UsageStats(ctx)
			if err != nil {
				return nil, err
			}
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				return nil, err
			}
			defer conn.Close(ctx)
			var bytes int64
			err = conn.QueryRow(ctx, `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::BIGINT
				FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
				WHERE n.nspname = $1 AND c.relkind IN ('r', 'm')`, pgSchema).Scan(&bytes)
			if err != nil {
				return nil, err
			}
			return &Ingest{Bytes: bytes, BytesPerItem: float64(bytes) / float64(items), RollupRows: st.RollupRows}, nil
		}
		return sink, finish, nil
	}
}

// withSearchPath returns dsn with its search_path set to schema.
func withSearchPath(dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " search_path=" + schema
}
