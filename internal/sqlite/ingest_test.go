package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/sqlite"
	"github.com/costexplorer/costexplorer/internal/storetest"
)

// The INSERTs of new line items run on the ingest connection, prepared once
// a connection: a store closed (which finalizes them) and opened again
// ingests as before, a re-import adds nothing, and a batch of stored and new
// items (the primary key refuses its first chunk) adds exactly the new ones.
func TestIngestAcrossReopen(t *testing.T) {
	ctx := context.Background()
	db, path := open(t)
	d := storetest.NewDataset(3, storetest.Shape{Orgs: 2, ProjectsPerOrg: 3, ClustersPerProject: 2, Start: costexplorer.DayOf(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)), Days: 60})
	if _, err := db.IngestUsage(ctx, d.Dimensions()); err != nil {
		t.Fatal(err)
	}
	// Several full chunks of 256 and a short last one.
	first := d.Items(1000)
	if len(first) < 1000 {
		t.Fatalf("the dataset gave %d items, want 1000", len(first))
	}
	if res, err := db.IngestUsage(ctx, &costexplorer.UsageBatch{Items: first}); err != nil || res.Inserted != len(first) {
		t.Fatalf("first ingest: %+v, %v; want %d inserted", res, err, len(first))
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if res, err := db.IngestUsage(ctx, &costexplorer.UsageBatch{Items: first}); err != nil || res.Inserted != 0 || res.Duplicates != len(first) {
		t.Fatalf("re-import: %+v, %v; want 0 inserted, %d duplicates", res, err, len(first))
	}
	next := d.Items(700)
	if len(next) < 700 {
		t.Fatalf("the dataset gave %d items, want 700", len(next))
	}
	mixed := append(append([]costexplorer.LineItem{}, first[300:]...), next...)
	if res, err := db.IngestUsage(ctx, &costexplorer.UsageBatch{Items: mixed}); err != nil || res.Inserted != len(next) || res.Duplicates != len(first)-300 {
		t.Fatalf("stored and new items: %+v, %v; want %d inserted, %d duplicates", res, err, len(next), len(first)-300)
	}
	more := d.Items(600)
	if res, err := db.IngestUsage(ctx, &costexplorer.UsageBatch{Items: more}); err != nil || res.Inserted != len(more) {
		t.Fatalf("after the conflicts: %+v, %v; want %d inserted", res, err, len(more))
	}
	stats, err := db.UsageStats(ctx)
	if err != nil || stats.LineItems != int64(len(first)+len(next)+len(more)) {
		t.Fatalf("stats %+v, %v; want %d line items", stats, err, len(first)+len(next)+len(more))
	}
	if lines, err := db.Verify(ctx); err != nil || len(lines) != 0 {
		t.Fatalf("Verify = %q, %v", lines, err)
	}
}
