package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// openTemp opens a store named name in a directory of the test's, closed
// when the test ends.
func openTemp(t *testing.T, name string) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

// openWithCheckpointer opens a store whose checkpointer runs with small
// thresholds (every 10 ms, keep 1 MiB, hard bound 64 MiB), or none when
// every is 0.
func openWithCheckpointer(t *testing.T, every time.Duration) (*DB, string) {
	t.Helper()
	ctx := context.Background()
	db, path := openTemp(t, "wal.db")
	db.ckpt.stop()
	db.ckpt = nil
	if every > 0 {
		db.ckpt = newCheckpointer(db.read, path, newPageSize, every, 1<<20, 64<<20)
	}
	if _, err := db.write.ExecContext(ctx, "CREATE TABLE burst (b BLOB)"); err != nil {
		t.Fatal(err)
	}
	return db, path
}

// burst commits about 16 MiB in one transaction: the log holds all of it
// when the commit returns.
func burst(t *testing.T, db *DB) {
	t.Helper()
	ctx := context.Background()
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 4096) INSERT INTO burst SELECT randomblob(4000) FROM n")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func walSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path + "-wal")
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestCheckpointerBringsTheLogDown checks that after a burst of writes the
// checkpointer, not a commit, copies the log into the database file and
// brings the WAL file back under its keep size; without the checkpointer
// (the control) the log stays as the burst left it, because auto-checkpoint
// is off.
func TestCheckpointerBringsTheLogDown(t *testing.T) {
	t.Run("ControlNoCheckpointerLogStays", func(t *testing.T) {
		db, path := openWithCheckpointer(t, 0)
		burst(t, db)
		time.Sleep(100 * time.Millisecond) // ten ticks of the other subtest's checkpointer
		if got := walSize(t, path); got < 16<<20 {
			t.Fatalf("WAL %d bytes after a 16 MiB burst without a checkpointer: something else checkpoints", got)
		}
	})
	t.Run("OK", func(t *testing.T) {
		db, path := openWithCheckpointer(t, 10*time.Millisecond)
		burst(t, db)
		deadline := time.Now().Add(30 * time.Second)
		// Both the size and the counter: the goroutine counts the
		// truncation just after making it.
		for walSize(t, path) > 1<<20 || db.ckpt.truncate.Load() == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("WAL still %d bytes 30 s after the burst (%d checkpoints, %d truncations)",
					walSize(t, path), db.ckpt.runs.Load(), db.ckpt.truncate.Load())
			}
			time.Sleep(10 * time.Millisecond)
		}
		// Every row is in the database file, read by a fresh connection.
		var n int
		if err := db.read.QueryRow("SELECT count(*) FROM burst").Scan(&n); err != nil || n != 4096 {
			t.Fatalf("rows = %d, %v; want 4096", n, err)
		}
	})
}

// TestCloseStopsCheckpointer checks that Close ends the checkpointer's
// goroutine (no leak) and may be called again.
func TestCloseStopsCheckpointer(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "close.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := db.ckpt
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.done:
	default:
		t.Fatal("checkpointer still running after Close")
	}
	c.stop() // a second stop returns at once
}

// TestCheckpointerHardBound checks the bound on the log: when a reader pins
// it past walHardBytes (here 8 MiB), one round of the checkpointer waits for
// the reader to leave and truncates the log, where a PASSIVE checkpoint
// alone could copy only what the reader does not need.
func TestCheckpointerHardBound(t *testing.T) {
	ctx := context.Background()
	db, path := openWithCheckpointer(t, 0)
	c := newCheckpointer(db.read, path, newPageSize, time.Hour, 1<<20, 8<<20)
	t.Cleanup(c.stop)
	if _, err := db.write.ExecContext(ctx, "INSERT INTO burst VALUES (x'00')"); err != nil {
		t.Fatal(err)
	}
	reader, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := reader.QueryRowContext(ctx, "SELECT count(*) FROM burst").Scan(&n); err != nil || n != 1 {
		t.Fatalf("reader: %d, %v", n, err)
	}
	burst(t, db)
	conn, err := db.read.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	frames, copied, err := c.exec(ctx, conn, "PASSIVE")
	conn.Close()
	if err != nil || copied >= frames {
		t.Fatalf("PASSIVE with a pinning reader: %d of %d frames copied, %v; want fewer", copied, frames, err)
	}
	released := make(chan struct{})
	go func() {
		time.Sleep(100 * time.Millisecond)
		reader.Rollback()
		close(released)
	}()
	if err := c.checkpoint(ctx); err != nil {
		t.Fatalf("checkpoint past the hard bound: %v", err)
	}
	<-released
	if got := walSize(t, path); got != 0 || c.truncate.Load() != 1 {
		t.Errorf("after the hard-bound round: WAL %d bytes, %d truncations; want 0 and 1", got, c.truncate.Load())
	}
}
