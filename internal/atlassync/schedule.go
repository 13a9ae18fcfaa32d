package atlassync

import (
	"context"
	"sync"
	"time"

	"github.com/costexplorer/costexplorer/internal/ticker"
)

// LeaseName is the store lease that lets one replica at a time run the
// scheduled sync.
const LeaseName = "atlas-sync"

// LeaseStore is the named lease of the store (costexplorer.SyncStore).
type LeaseStore interface {
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// Scheduler runs a sync every Every in a serving process, on one replica
// at a time: the replica that holds the store's lease runs it, and keeps the
// lease between runs by renewing it every Check; a replica that stops hands
// it back, and one that dies lets it lapse after Check×3, when another
// replica takes it (and syncs at once).
type Scheduler struct {
	// Config is the sync of each run.
	Config Config
	Leases LeaseStore
	// Holder names this replica in the lease.
	Holder string
	// Every is the time between the starts of two runs (6 h when 0).
	Every time.Duration
	// Check is how often the lease is taken or renewed (1 min when 0, at
	// most Every).
	Check time.Duration
	// Observe, when set, receives the outcome of every run (metrics).
	Observe func(rep *Report, err error)

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Start starts the schedule in the background; Stop ends it.
func (s *Scheduler) Start(ctx context.Context) {
	if s.Every <= 0 {
		s.Every = 6 * time.Hour
	}
	if s.Check <= 0 {
		s.Check = time.Minute
	}
	s.Check = min(s.Check, s.Every)
	ctx, s.cancel = context.WithCancel(ctx)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.loop(ctx)
	}()
}

// Stop cancels a run in progress (the invoice being brought over is rolled
// back), waits for the loop within ctx, and hands the lease back so that
// another replica takes over at once.
func (s *Scheduler) Stop(ctx context.Context) error {
	if s.cancel == nil {
		return nil
	}
	s.cancel()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.Leases.ReleaseLease(context.WithoutCancel(ctx), LeaseName, s.Holder)
}

func (s *Scheduler) loop(ctx context.Context) {
	log := s.Config.Logger
	var last time.Time // start of this replica's last run; zero: none while holding
	held := false
	tick := time.NewTicker(s.Check)
	defer tick.Stop()
	for {
		ok, err := s.Leases.AcquireLease(ctx, LeaseName, s.Holder, 3*s.Check)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			if log != nil {
				log.Warn("sync: lease", "err", err)
			}
		case !ok:
			held, last = false, time.Time{}
		default:
			if !held {
				held, last = true, time.Time{}
			}
			if last.IsZero() || time.Since(last) >= s.Every {
				last = time.Now()
				s.run(ctx)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// run runs one sync, renewing the lease while it lasts.
func (s *Scheduler) run(ctx context.Context) {
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	go ticker.Every(rctx, s.Check, func(ctx context.Context) {
		if ok, err := s.Leases.AcquireLease(ctx, LeaseName, s.Holder, 3*s.Check); err == nil && !ok {
			stop() // another replica took over: this one stops
		}
	})
	rep, err := Run(rctx, s.Config)
	if log := s.Config.Logger; log != nil {
		if err != nil {
			log.Error("sync failed", "source", s.Config.Source, "err", err)
		} else {
			log.Info("sync done", "source", s.Config.Source, "invoices", rep.Synced, "unchanged", rep.Unchanged,
				"items", rep.Items, "restated", rep.Restated, "requests", rep.Requests, "duration", rep.Duration)
		}
	}
	if s.Observe != nil {
		s.Observe(rep, err)
	}
}
