package sqlite

import (
	"context"
	"database/sql"
	"os"
	"strconv"
	"testing"
	"time"

	"modernc.org/sqlite"

	"github.com/costexplorer/costexplorer"
)

// TestWriteCacheGrowsOnIngest checks that the write connection keeps a small
// page cache until the process ingests (a query-only server stays small),
// and the ingest-sized one from the first ingest on.
func TestWriteCacheGrowsOnIngest(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t, "cache.db")
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
	_, err := db.IngestUsage(ctx, &costexplorer.UsageBatch{
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

// TestInterruptedWriteConnectionIsClosed checks that a write connection
// given up after an interrupt (its context ended) is really
// closed, although an ingest had prepared statements on it: SQLite keeps a
// closed connection open, with its files, until its statements are
// finalized. The store's files then stay held by its live connections
// only: one write-ahead log descriptor each.
func TestInterruptedWriteConnectionIsClosed(t *testing.T) {
	ctx := context.Background()
	db, path := openTemp(t, "interrupt.db")
	ingest := func(first int) {
		t.Helper()
		org := costexplorer.Organization{ID: "5f0000000000000000000001", Name: "Org"}
		b := &costexplorer.UsageBatch{Organizations: []costexplorer.Organization{org}}
		for i := range 2 * insertChunk {
			b.Items = append(b.Items, costexplorer.LineItem{ID: costexplorer.NewLineItemID(strconv.Itoa(first + i)), OrgID: org.ID,
				Service: costexplorer.ServiceSupport, SKU: "MDB_SUPPORT", Date: costexplorer.DayOf(time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)),
				Quantity: 1, Unit: "month", Amount: 100})
		}
		if _, err := db.IngestUsage(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	writeConn := func() any {
		t.Helper()
		var c any
		if err := db.writeTx(ctx, func(conn *sql.Conn, _ *sql.Tx) error {
			return conn.Raw(func(dc any) error { c = dc; return nil })
		}); err != nil {
			t.Fatal(err)
		}
		return c
	}

	ingest(0)
	if len(db.rawStmts.stmts) == 0 {
		t.Fatal("the ingest prepared no statement on the write connection: the test proves nothing")
	}
	// The context ends while the transaction commits, after its last
	// statement began: nothing clears the interrupt the driver delivers
	// then, and the pool gives the connection up.
	first := writeConn()
	ictx, cancel := context.WithCancel(ctx)
	defer cancel()
	err := db.writeTx(ictx, func(conn *sql.Conn, tx *sql.Tx) error {
		if err := conn.Raw(func(dc any) error {
			dc.(sqlite.HookRegisterer).RegisterCommitHook(func() int32 {
				cancel()
				time.Sleep(50 * time.Millisecond) // for the driver's interrupt
				return 0
			})
			return nil
		}); err != nil {
			return err
		}
		_, err := tx.ExecContext(ictx, "CREATE TABLE interrupted (x)")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	ingest(2 * insertChunk) // on a new write connection, which prepares its own
	if writeConn() == first {
		t.Fatal("the write connection was not given up after the interrupt: the test proves nothing")
	}
	if got, want := logFDCount(t, path), 1+db.read.Stats().OpenConnections; got != want {
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
