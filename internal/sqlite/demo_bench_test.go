package sqlite_test

import (
	"context"
	"flag"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/demo"
)

var demoItems = flag.Int("ingest.demo", 200_000, "demo line items per run of BenchmarkIngestDemo")

// BenchmarkIngestDemo streams the demo dataset (seed 1, 18 months) into a
// fresh store each iteration, in the generator's batches, and reports the
// rate inside IngestUsage only (not the generator) and the bytes on disk per
// line item. Run it with -benchtime=1x -ingest.demo=5000000 for the size of
// BENCHMARKS.md.
func BenchmarkIngestDemo(b *testing.B) {
	ctx := context.Background()
	now := time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)
	for range b.N {
		db, path := open(b)
		var (
			inserted     int
			elapsed, cpu time.Duration
		)
		err := demo.Generate(ctx, demo.Config{Seed: 1, LineItems: *demoItems, Months: 18, Now: now}, func(batch *costexplorer.UsageBatch) error {
			start, startCPU := time.Now(), cpuTime()
			res, err := db.IngestUsage(ctx, batch)
			elapsed += time.Since(start)
			cpu += cpuTime() - startCPU
			inserted += res.Inserted
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(inserted)/elapsed.Seconds(), "items/s")
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(max(inserted, 1)), "cpu-ns/item")
		reportStorage(b, db, path, inserted)
	}
}
