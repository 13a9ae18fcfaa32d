package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/sqlstore"
)

// TestIngestCache checks that the write connection keeps a small page
// cache when the process ingests (a query-only server stays small, and so
// do query processes' writes), and that ingests run on a connection of
// their own with the ingest-sized one.
func TestIngestCache(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t, "cache.db")
	cacheKiB := func(q sqlstore.Querier) int {
		t.Helper()
		var n int
		if err := q.QueryRow(ctx, "PRAGMA cache_size").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return -n
	}
	write := func() int {
		var n int
		if err := db.writeTx(ctx, func(tx *sql.Tx) error { n = cacheKiB(txQuerier{tx}); return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := write(); got != 16384 {
		t.Errorf("after Open: write cache %d KiB, want 16384", got)
	}
	if db.ingest != nil {
		t.Fatal("an ingest connection before any ingest")
	}
	ingestItems(t, db, 0, 1)
	if got := write(); got != 16384 {
		t.Errorf("after an ingest: write cache %d KiB, want 16384", got)
	}
	if got := cacheKiB(directQuerier{db.ingest}); got != ingestCacheKiB {
		t.Errorf("after an ingest: ingest cache %d KiB, want %d", got, ingestCacheKiB)
	}
}

// ingestItems ingests n support charges of one organization, the first
// named by first.
func ingestItems(t *testing.T, db *DB, first, n int) {
	t.Helper()
	org := costexplorer.Organization{ID: "5f0000000000000000000001", Name: "Org"}
	b := &costexplorer.UsageBatch{Organizations: []costexplorer.Organization{org}}
	for i := range n {
		b.Items = append(b.Items, costexplorer.LineItem{ID: costexplorer.NewLineItemID(strconv.Itoa(first + i)), OrgID: org.ID,
			Service: costexplorer.ServiceSupport, SKU: "MDB_SUPPORT", Date: costexplorer.DayOf(time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)),
			Quantity: 1, Unit: "month", Amount: 100})
	}
	if _, err := db.IngestUsage(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

// TestInterruptedIngestConnectionIsClosed checks that an ingest connection
// an interrupt may still reach (its context ended while a statement ran) is
// closed, with its statements finalized (SQLite keeps a closed connection
// open, with its files, until they are), and that the next ingest opens
// another. The store's files then stay held by its live connections only:
// one write-ahead log descriptor each.
func TestInterruptedIngestConnectionIsClosed(t *testing.T) {
	ctx := context.Background()
	db, path := openTemp(t, "interrupt.db")
	ingestItems(t, db, 0, 2*insertChunk)
	first := db.ingest
	if first == nil || len(first.stmts) == 0 {
		t.Fatal("the ingest prepared no statement on an ingest connection: the test proves nothing")
	}
	ictx, cancel := context.WithCancel(ctx)
	defer cancel()
	err := db.ingestTx(ictx, func(q sqlstore.Querier) error {
		rows, err := q.Query(ictx, "SELECT count(*) FROM line_items")
		if err != nil {
			return err
		}
		cancel()
		time.Sleep(50 * time.Millisecond) // for the interrupt, on another goroutine
		rows.Close()
		return rows.Err()
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted transaction: %v, want context.Canceled", err)
	}
	if db.ingest != nil {
		t.Fatal("the interrupted ingest connection was kept")
	}
	ingestItems(t, db, 2*insertChunk, 2*insertChunk) // on a new ingest connection
	if db.ingest == nil || db.ingest == first {
		t.Fatal("no new ingest connection after the interrupt: the test proves nothing")
	}
	// The write connection, the ingest connection and the read pool's.
	if got, want := logFDCount(t, path), 2+db.read.Stats().OpenConnections; got != want {
		t.Errorf("%d descriptors of the write-ahead log open, want %d (one a live connection)", got, want)
	}
	if st, err := db.UsageStats(ctx); err != nil || st.LineItems != 4*insertChunk {
		t.Errorf("after both ingests: %+v, %v; want %d line items", st, err, 4*insertChunk)
	}
}

// logFDCount counts the process's descriptors of path's write-ahead log:
// one a live connection.
func logFDCount(t *testing.T, path string) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd to count file descriptors")
	}
	n := 0
	for _, fd := range fds {
		if l, _ := os.Readlink("/proc/self/fd/" + fd.Name()); l == path+"-wal" {
			n++
		}
	}
	return n
}
