package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/ticker"
)

// pool runs the background work of leased rows in the store (query
// processes, invoice reports): workers that claim and run one row at a time
// until there is none, then wait for a wake-up (work created on this
// replica) or the poll interval (work created elsewhere, or a lease that
// lapsed); and a janitor that sweeps expired rows. Stop hands the leases
// still held back, so that another replica takes them over at once.
type pool struct {
	workers      int
	poll         time.Duration
	janitorEvery time.Duration
	runOne       func(ctx context.Context) bool // claims and runs one row; whether it found one
	sweep        func(ctx context.Context)      // removes expired rows
	release      func(ctx context.Context) error

	wake chan struct{}

	mu      sync.Mutex
	cancel  context.CancelFunc
	done    chan struct{}
	started bool
}

// claimed is what a kind of leased work (a query process, an invoice
// report) gives runClaimed: how to claim one row, run it and fail it.
type claimed[T any] struct {
	what, verb  string // "query process", "evaluate": the log messages
	logger      *slog.Logger
	maxAttempts int
	claim       func(ctx context.Context) (T, error)
	// attempts is the row's attempt counter; log its logger.
	attempts func(T) int
	log      func(T) *slog.Logger
	// run does the work and stores its outcome; only an error of the work
	// itself is returned (one storing it is logged).
	run func(ctx context.Context, row T, log *slog.Logger, start time.Time) error
	// fail marks the row failed for good with reason; took is how long its
	// last run lasted (0 when it was not run again).
	fail func(ctx context.Context, row T, reason string, took time.Duration, log *slog.Logger)
	// failNow says whether the error of a run fails the row at once (no
	// other try can succeed), and the reason the row then carries.
	failNow func(err error) (reason string, now bool)
}

// runClaimed claims one row of c's kind and runs it; it reports whether it
// found one. A row past its attempts fails without running; a run that
// fails on its last attempt, or with an error no other try can mend, fails
// the row; otherwise its lease lapses and the row is tried again.
func runClaimed[T any](ctx context.Context, c *claimed[T]) bool {
	row, err := c.claim(ctx)
	if err != nil {
		if !costexplorer.IsNotFound(err) && ctx.Err() == nil {
			c.logger.Warn("claim "+c.what, "err", err)
		}
		return false
	}
	log, n := c.log(row), c.attempts(row)
	if n > c.maxAttempts {
		c.fail(ctx, row, fmt.Sprintf("gave up after %d attempts", n-1), 0, log)
		return true
	}
	start := time.Now()
	if err := c.run(ctx, row, log, start); err != nil {
		if ctx.Err() != nil {
			return false // shutting down: Stop releases the lease
		}
		log.Error(c.verb+" "+c.what, "err", err)
		if reason, now := c.failNow(err); now || n >= c.maxAttempts {
			c.fail(ctx, row, reason, time.Since(start), log)
		}
	}
	return true
}

// positive sets *v to def unless it is positive: the defaults of the
// settings of leased work.
func positive[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// identity fills the clock (time.Now), the lease owner's name
// (DefaultOwner) and the logger (discarding) when they are unset.
func identity(now *func() time.Time, owner *string, logger **slog.Logger) {
	if *now == nil {
		*now = time.Now
	}
	if *owner == "" {
		*owner = DefaultOwner()
	}
	if *logger == nil {
		*logger = slog.New(slog.DiscardHandler)
	}
}

// poke wakes an idle worker, if any.
func (p *pool) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *pool) start(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started {
		return
	}
	p.started = true
	ctx, p.cancel = context.WithCancel(ctx)
	p.done = make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < p.workers; i++ {
		wg.Go(func() { p.work(ctx) })
	}
	wg.Go(func() { ticker.Every(ctx, p.janitorEvery, p.sweep) })
	go func() {
		wg.Wait()
		close(p.done)
	}()
}

// stop stops claiming, waits for the work in flight (bounded by ctx) and
// releases the leases still held.
func (p *pool) stop(ctx context.Context) error {
	p.mu.Lock()
	started, cancel, done := p.started, p.cancel, p.done
	p.mu.Unlock()
	if !started {
		return nil
	}
	cancel()
	select {
	case <-done:
	case <-ctx.Done():
	}
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer rcancel()
	return p.release(rctx)
}

func (p *pool) work(ctx context.Context) {
	t := time.NewTicker(p.poll)
	defer t.Stop()
	for ctx.Err() == nil {
		if p.runOne(ctx) {
			continue // there may be more
		}
		select {
		case <-ctx.Done():
		case <-p.wake:
		case <-t.C:
		}
	}
}
