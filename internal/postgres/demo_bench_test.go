package postgres_test

import (
	"context"
	"flag"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/demo"
	"github.com/costexplorer/costexplorer/internal/postgres"
	"github.com/costexplorer/costexplorer/internal/postgres/pgtest"
)

var demoItems = flag.Int("ingest.demo", 200_000, "demo line items per run of BenchmarkIngestDemo")

// BenchmarkIngestDemo streams the demo dataset (seed 1, 18 months) into a
// fresh schema each iteration, in the generator's batches, and reports the
// rate inside IngestUsage only (not the generator) and the bytes per line
// item of line_items with its indexes. The same workload as internal/sqlite's
// BenchmarkIngestDemo; run it with -benchtime=1x -ingest.demo=5000000 for the
// size of BENCHMARKS.md.
func BenchmarkIngestDemo(b *testing.B) {
	ctx := context.Background()
	now := time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)
	for range b.N {
		dsn := pgtest.Schema(b)
		db := open(b, dsn, postgres.Options{})
		var (
			inserted int
			elapsed  time.Duration
		)
		err := demo.Generate(ctx, demo.Config{Seed: 1, LineItems: *demoItems, Months: 18, Now: now}, func(batch *costexplorer.UsageBatch) error {
			start := time.Now()
			res, err := db.IngestUsage(ctx, batch)
			elapsed += time.Since(start)
			inserted += res.Inserted
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
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
	}
}
