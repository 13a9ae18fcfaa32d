package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/costexplorer/costexplorer/internal/ticker"
)

// The write connection runs with SQLite's auto-checkpoint off: left on, the
// commit that pushes the WAL past its threshold copies the whole log into
// the database file and syncs both, tens of milliseconds on the path of
// whatever query or import made that commit (a query process writes its
// result in a transaction: its p99 was that checkpoint). A checkpointer
// goroutine on a connection of its own does the copying instead:
//
//   - every checkpointEvery it runs a PASSIVE checkpoint, which copies what
//     no reader still needs and never waits for, nor blocks, a reader or a
//     writer. Once every frame is copied and no reader is in the log, the
//     writer's next transaction starts the log again from its beginning,
//     and its first commit truncates the file to walKeepBytes
//     (journal_size_limit);
//   - when the log is entirely copied but its file is still larger than
//     walKeepBytes (a burst of writes, then quiet), it tries a TRUNCATE
//     checkpoint without waiting (busy_timeout 0): it succeeds only when no
//     reader or writer is in the way, and then has nothing left to copy;
//   - when the log holds more than walHardBytes (readers keep pinning old
//     frames, or writers never pause long enough for the log to restart),
//     it runs a TRUNCATE checkpoint that waits for readers up to
//     busyTimeout, holding new writers back meanwhile: the bound that keeps
//     the WAL from growing without end, at the cost of a stall that only a
//     pathological load reaches.
//
// An import keeps its speed: a batch dirties pages all over the line-item
// b-tree, and the checkpointer copies them while the next batch is being
// prepared instead of inside the batch's commit.
//
// Once a second: under a stream of Q2-size results (about 40 MB of log a
// second on the reference machine) that is about as many checkpoints as the
// old 32 MiB threshold made, each costing two fsyncs and, in this pure-Go
// SQLite, CPU the queries share; every 200 ms was measured worse (p90 and
// p99 of Q2 end to end), though on a noisy machine.
//
// The WAL file is kept up to 256 MiB (more than a second of Q2-size
// results): a log truncated to nothing has to allocate its blocks again as
// it grows, and those allocations wait for the file system's journal while
// a checkpoint syncs. Truncating at 64 MiB left Q2's p99 at 42-159 ms;
// keeping 256 MiB, 26-75 ms (of six runs of 200 queries each, on the 2 M
// demo; median 15-19 ms).
const (
	checkpointEvery = time.Second
	walKeepBytes    = 256 << 20
	walHardBytes    = 512 << 20
)

// checkpointer copies the WAL into the database file in the background (see
// above). Stop ends it.
type checkpointer struct {
	pool     *sql.DB // the read pool, whose connections it borrows
	wal      string  // the -wal file
	frame    int64   // bytes of one WAL frame: page size + 24
	every    time.Duration
	keep     int64
	hard     int64
	cancel   context.CancelFunc
	done     chan struct{}
	stopped  sync.Once
	runs     atomic.Int64 // PASSIVE checkpoints that ran (tests)
	truncate atomic.Int64 // TRUNCATE checkpoints that succeeded (tests)
}

// startCheckpointer starts the checkpointer of the database at path with
// the default thresholds. Each round borrows a connection of pool (a
// checkpoint is not a write: query_only allows it), so that the store holds
// no more files open than its two pools do.
func startCheckpointer(pool *sql.DB, path string, pageSize int64) *checkpointer {
	return newCheckpointer(pool, path, pageSize, checkpointEvery, walKeepBytes, walHardBytes)
}

func newCheckpointer(pool *sql.DB, path string, pageSize int64, every time.Duration, keep, hard int64) *checkpointer {
	runCtx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{pool: pool, wal: path + "-wal", frame: pageSize + 24,
		every: every, keep: keep, hard: hard, cancel: cancel, done: make(chan struct{})}
	go c.run(runCtx)
	return c
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	ticker.Every(ctx, c.every, func(ctx context.Context) {
		// Errors are the next tick's to retry: a checkpoint that fails
		// leaves the log as it was, and every commit stays in it.
		_ = c.checkpoint(ctx)
	})
}

// checkpoint runs one round of the rules above on a borrowed connection.
func (c *checkpointer) checkpoint(ctx context.Context) (err error) {
	conn, err := c.pool.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// busy_timeout 0 for the round: a checkpoint that would wait gives up
	// and comes back at the next tick, except the hard-bound one, which
	// sets its own. The connection goes back to the readers with theirs,
	// or not at all.
	if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = 0"); err != nil {
		return err
	}
	defer func() {
		if _, rerr := conn.ExecContext(context.Background(), fmt.Sprintf("PRAGMA busy_timeout = %d", busyTimeout.Milliseconds())); rerr != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			err = errors.Join(err, rerr)
		}
	}()
	return c.round(ctx, conn)
}

func (c *checkpointer) round(ctx context.Context, conn *sql.Conn) error {
	frames, copied, err := c.exec(ctx, conn, "PASSIVE")
	if err != nil {
		return err
	}
	c.runs.Add(1)
	switch {
	case frames > 0 && copied == frames && c.walSize() > c.keep:
		if _, _, err := c.exec(ctx, conn, "TRUNCATE"); err == nil {
			c.truncate.Add(1)
		}
	case frames*c.frame > c.hard:
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", busyTimeout.Milliseconds())); err != nil {
			return err
		}
		_, _, err := c.exec(ctx, conn, "TRUNCATE")
		if err == nil {
			c.truncate.Add(1)
		}
		return err
	}
	return nil
}

// exec runs a checkpoint of mode and returns the frames in the log and how
// many of them are in the database file. A checkpoint that could not take
// its locks (SQLITE_BUSY) returns an error.
func (c *checkpointer) exec(ctx context.Context, conn *sql.Conn, mode string) (frames, copied int64, err error) {
	var busy int
	if err := conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &frames, &copied); err != nil {
		return 0, 0, err
	}
	if busy != 0 {
		return frames, copied, errCheckpointBusy
	}
	return frames, copied, nil
}

var errCheckpointBusy = errors.New("sqlite: checkpoint busy")

// walSize is the size of the WAL file, 0 when it does not exist.
func (c *checkpointer) walSize() int64 {
	fi, err := os.Stat(c.wal)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// stop ends the goroutine and waits for it, before the pool closes.
func (c *checkpointer) stop() {
	c.stopped.Do(func() {
		c.cancel()
		<-c.done
	})
}
