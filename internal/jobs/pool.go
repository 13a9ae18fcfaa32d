package jobs

import (
	"context"
	"log/slog"
	"sync"
	"time"

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
