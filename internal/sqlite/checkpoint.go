package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
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
const (
	checkpointEvery = time.Second
	walKeepBytes    = 64 << 20
	walHardBytes    = 512 << 20
)

// checkpointer copies the WAL into the database file in the background (see
// above). Stop ends it.
type checkpointer struct {
	conn     *sql.Conn
	pool     *sql.DB
	wal      string // the -wal file
	frame    int64  // bytes of one WAL frame: page size + 24
	every    time.Duration
	keep     int64
	hard     int64
	cancel   context.CancelFunc
	done     chan struct{}
	stopped  sync.Once
	stopErr  error
	runs     atomic.Int64 // PASSIVE checkpoints that ran (tests)
	truncate atomic.Int64 // TRUNCATE checkpoints that succeeded (tests)
}

// startCheckpointer opens the checkpointer's connection on path and starts
// it with the default thresholds.
func startCheckpointer(ctx context.Context, path string, pageSize int64) (*checkpointer, error) {
	return newCheckpointer(ctx, path, pageSize, checkpointEvery, walKeepBytes, walHardBytes)
}

func newCheckpointer(ctx context.Context, path string, pageSize int64, every time.Duration, keep, hard int64) (*checkpointer, error) {
	// busy_timeout 0: a checkpoint that would wait gives up and comes back
	// at the next tick, except the hard-bound one, which sets its own.
	pool, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(0)")
	if err != nil {
		return nil, err
	}
	pool.SetMaxOpenConns(1)
	conn, err := pool.Conn(ctx)
	if err != nil {
		pool.Close()
		return nil, translate(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{conn: conn, pool: pool, wal: path + "-wal", frame: pageSize + 24,
		every: every, keep: keep, hard: hard, cancel: cancel, done: make(chan struct{})}
	go c.run(runCtx)
	return c, nil
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	t := time.NewTicker(c.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Errors are the next tick's to retry: a checkpoint that fails
		// leaves the log as it was, and every commit stays in it.
		_ = c.checkpoint(ctx)
	}
}

// checkpoint runs one round of the rules above.
func (c *checkpointer) checkpoint(ctx context.Context) error {
	frames, copied, err := c.exec(ctx, "PASSIVE")
	if err != nil {
		return err
	}
	c.runs.Add(1)
	switch {
	case frames > 0 && copied == frames && c.walSize() > c.keep:
		if _, _, err := c.exec(ctx, "TRUNCATE"); err == nil {
			c.truncate.Add(1)
		}
	case frames*c.frame > c.hard:
		if _, err := c.conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", busyTimeout.Milliseconds())); err != nil {
			return err
		}
		_, _, err := c.exec(ctx, "TRUNCATE")
		if _, err2 := c.conn.ExecContext(context.Background(), "PRAGMA busy_timeout = 0"); err == nil {
			err = err2
		}
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
func (c *checkpointer) exec(ctx context.Context, mode string) (frames, copied int64, err error) {
	var busy int
	if err := c.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &frames, &copied); err != nil {
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

// stop ends the goroutine, waits for it and closes its connection. Later
// calls return the first one's error.
func (c *checkpointer) stop() error {
	c.stopped.Do(func() {
		c.cancel()
		<-c.done
		c.stopErr = errors.Join(c.conn.Close(), c.pool.Close())
	})
	return c.stopErr
}
