package storetest

import (
	"context"
	"flag"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/demo"
	"github.com/costexplorer/costexplorer/internal/engine"
)

// DemoItems is the -ingest.demo flag of the stores' BenchmarkIngestDemo:
// run them with -benchtime=1x -ingest.demo=5000000 for the size of
// BENCHMARKS.md.
var DemoItems = flag.Int("ingest.demo", 200_000, "demo line items per run of BenchmarkIngestDemo")

// IngestDemo streams the demo dataset (seed 1, 18 months, *DemoItems line
// items, the clock pinned) into s in the generator's batches, the workload of
// each store's BenchmarkIngestDemo, and returns how many items it inserted.
// Each batch's IngestUsage runs inside measure, so that the benchmark times
// the store alone, not the generator.
func IngestDemo(tb testing.TB, s costexplorer.Store, measure func(ingest func())) int {
	tb.Helper()
	ctx := context.Background()
	now := time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)
	inserted := 0
	err := demo.Generate(ctx, demo.Config{Seed: 1, LineItems: *DemoItems, Months: 18, Now: now}, func(batch *costexplorer.UsageBatch) error {
		var (
			res costexplorer.IngestResult
			err error
		)
		measure(func() { res, err = s.IngestUsage(ctx, batch) })
		inserted += res.Inserted
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return inserted
}

// ReportDailyBuild loads an engine over s and reports how long its daily
// snapshot took to build from the store (engine.Stats.DailyLoadDuration:
// the dimensions, ScanDailyRollup and the columns), and its cells per item
// inserted.
func ReportDailyBuild(b *testing.B, s costexplorer.Store, inserted int) {
	b.Helper()
	e := engine.New(s, engine.Options{})
	if err := e.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	st := e.Stats()
	b.ReportMetric(st.DailyLoadDuration.Seconds(), "daily-build-s")
	b.ReportMetric(float64(st.DailyCells)/float64(max(inserted, 1)), "cells/item")
}
