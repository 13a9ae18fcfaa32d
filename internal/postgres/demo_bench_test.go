package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/costexplorer/costexplorer/internal/postgres"
	"github.com/costexplorer/costexplorer/internal/postgres/pgtest"
	"github.com/costexplorer/costexplorer/internal/storetest"
)

// BenchmarkIngestDemo streams the demo dataset (storetest.IngestDemo) into a
// fresh schema each iteration and reports the rate inside IngestUsage only
// (not the generator) and the bytes per line item of line_items with its
// indexes. The same workload as internal/sqlite's BenchmarkIngestDemo; run
// it with -benchtime=1x -ingest.demo=5000000 for the size of BENCHMARKS.md.
func BenchmarkIngestDemo(b *testing.B) {
	ctx := context.Background()
	for range b.N {
		dsn := pgtest.Schema(b)
		db := open(b, dsn, postgres.Options{})
		var elapsed time.Duration
		inserted := storetest.IngestDemo(b, db, func(ingest func()) {
			start := time.Now()
			ingest()
			elapsed += time.Since(start)
		})
		b.ReportMetric(float64(inserted)/elapsed.Seconds(), "items/s")
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		var size int64
		err = conn.QueryRow(ctx, "SELECT pg_total_relation_size('line_items')").Scan(&size)
		conn.Close(ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(size)/float64(max(inserted, 1)), "bytes/item")
		storetest.ReportDailyBuild(b, db, inserted)
	}
}
