package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
)

// TestWriteCacheGrowsOnIngest checks that the write connection keeps a small
// page cache until the process ingests (a query-only server stays small),
// and the ingest-sized one from the first ingest on.
func TestWriteCacheGrowsOnIngest(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "cache.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cacheKiB := func() int {
		t.Helper()
		var n int
		if err := db.write.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return -n
	}
	if got := cacheKiB(); got != 16384 {
		t.Errorf("after Open: cache %d KiB, want 16384", got)
	}
	org := costexplorer.Organization{ID: "5f0000000000000000000001", Name: "Org"}
	_, err = db.IngestUsage(ctx, &costexplorer.UsageBatch{
		Organizations: []costexplorer.Organization{org},
		Items: []costexplorer.LineItem{{ID: costexplorer.NewLineItemID("x"), OrgID: org.ID, Service: costexplorer.ServiceSupport,
			SKU: "MDB_SUPPORT", Date: costexplorer.DayOf(time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)), Quantity: 1, Unit: "month", Amount: 100}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := cacheKiB(); got != ingestCacheKiB {
		t.Errorf("after an ingest: cache %d KiB, want %d", got, ingestCacheKiB)
	}
}
