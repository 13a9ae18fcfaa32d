// Package jobs runs cost-explorer query processes.
//
// A process is a row in the store, not a goroutine: CreateQuery inserts it as
// pending and wakes the local workers; any worker of any replica claims it
// under a lease, evaluates the query, stores the result and marks it done. A
// process accepted before a crash is claimed again once its lease lapses, so
// nothing accepted is lost. A janitor removes expired results.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/costexplorer/costexplorer"
)

// Store is what a Runner needs of the database: the process rows, and the
// data version that a query's token is derived from. Every
// costexplorer.Store satisfies it.
type Store interface {
	costexplorer.ProcessStore
	// DataVersion returns the number that changes whenever usage data changes.
	DataVersion(ctx context.Context) (int64, error)
}

// Config configures a Runner. Zero values take the defaults in parentheses.
type Config struct {
	Store     Store
	Evaluator costexplorer.Evaluator

	Workers       int           // concurrent evaluations per replica (2)
	Lease         time.Duration // how long a claim lasts before another replica may take it over (30 s)
	PollInterval  time.Duration // how often idle workers look for processes created elsewhere (250 ms)
	MinProcessing time.Duration // each process stays "processing" at least this long (0)
	ResultTTL     time.Duration // how long a result is kept (24 h)
	MaxAttempts   int           // claims before a process is marked failed (5)
	JanitorEvery  time.Duration // how often expired results are removed (1 min)
	Now           func() time.Time
	Owner         string // this replica's lease owner name (host-pid-random)

	// ResultCacheBytes bounds the in-memory cache of done results served by
	// Usage, counting the bytes of every form derived from them (Form) (16
	// MiB: with the collector's headroom that is about twice as much
	// resident memory); a negative value turns the cache off.
	ResultCacheBytes int64
	Logger           *slog.Logger

	// Observe, if set, is told the outcome and duration of each process that
	// ends here ("done" or "failed"), for metrics. The duration is that of
	// the last evaluation; 0 for a process given up without evaluating it
	// again.
	Observe func(state costexplorer.ProcessState, d time.Duration)
}

// Runner creates query processes and runs them. It implements
// costexplorer.UsageService.
type Runner struct {
	cfg   Config
	pool  *pool
	cache *resultCache // nil when off

	// running holds the processes this replica's workers are evaluating,
	// by token: until its worker is done with one (its result stored and
	// cached, or the run given up), a GET of it is answered "processing"
	// from here rather than by reading the store — a client polls every
	// few milliseconds while a large query runs.
	runningMu sync.Mutex
	running   map[string]*localRun
}

// localRun is a process a worker of this replica is evaluating; done is
// closed when the worker is done with it.
type localRun struct {
	p    *costexplorer.QueryProcess
	done chan struct{}
}

var _ costexplorer.UsageService = (*Runner)(nil)

// New returns a Runner; call Start to run its workers.
func New(cfg Config) *Runner {
	positive(&cfg.Workers, 2)
	positive(&cfg.Lease, 30*time.Second)
	positive(&cfg.PollInterval, 250*time.Millisecond)
	positive(&cfg.ResultTTL, 24*time.Hour)
	// Graceful restarts hand leases back, which also counts as an attempt;
	// five leaves room for those and still stops a query that crashes every
	// server that claims it.
	positive(&cfg.MaxAttempts, 5)
	positive(&cfg.JanitorEvery, time.Minute)
	identity(&cfg.Now, &cfg.Owner, &cfg.Logger)
	r := &Runner{cfg: cfg, running: map[string]*localRun{}}
	r.pool = &pool{
		workers: cfg.Workers, poll: cfg.PollInterval, janitorEvery: cfg.JanitorEvery,
		runOne: r.runOne, sweep: r.sweep, wake: make(chan struct{}, cfg.Workers),
		release: func(ctx context.Context) error { return cfg.Store.ReleaseLeases(ctx, cfg.Owner) },
	}
	switch {
	case cfg.ResultCacheBytes == 0:
		r.cache = newResultCache(16 << 20)
	case cfg.ResultCacheBytes > 0:
		r.cache = newResultCache(cfg.ResultCacheBytes)
	}
	return r
}

// DefaultOwner returns a lease owner name unique to this process.
func DefaultOwner() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Owner returns the lease owner name of this runner.
func (r *Runner) Owner() string { return r.cfg.Owner }

// CreateQuery accepts a validated query and returns its token (DESIGN §1.2):
// the same query on the same data returns the same token and, once computed,
// the stored result.
func (r *Runner) CreateQuery(ctx context.Context, q *costexplorer.Query) (string, error) {
	version, err := r.cfg.Store.DataVersion(ctx)
	if err != nil {
		return "", fmt.Errorf("data version: %w", err)
	}
	now := r.cfg.Now().UTC()
	p := &costexplorer.QueryProcess{
		Token:     q.Token(version),
		OrgID:     q.OrgID,
		Query:     *q,
		State:     costexplorer.ProcessPending,
		CreatedAt: now,
		ReadyAt:   now.Add(r.cfg.MinProcessing),
		ExpiresAt: now.Add(r.cfg.ResultTTL),
	}
	stored, err := r.cfg.Store.CreateProcess(ctx, p)
	if err != nil {
		return "", fmt.Errorf("create process: %w", err)
	}
	if stored.State == costexplorer.ProcessPending {
		r.pool.poke()
	}
	return stored.Token, nil
}

// Usage returns the process of orgID with token. Done results are served
// from memory once read (see resultCache); the returned process must not be
// modified.
func (r *Runner) Usage(ctx context.Context, orgID, token string) (*costexplorer.QueryProcess, error) {
	now := r.cfg.Now()
	if p, ok := r.cache.get(orgID, token, now); ok {
		return p, nil
	}
	if run := r.localRun(orgID, token); run != nil && now.Before(run.p.ExpiresAt) {
		return run.p, nil
	}
	p, err := r.cfg.Store.Process(ctx, orgID, token, now)
	if err != nil {
		return nil, err
	}
	r.cache.put(p)
	return p, nil
}

// localRun returns the run of orgID's process token on this replica, if
// one is under way.
func (r *Runner) localRun(orgID, token string) *localRun {
	r.runningMu.Lock()
	defer r.runningMu.Unlock()
	if run, ok := r.running[token]; ok && run.p.OrgID == orgID {
		return run
	}
	return nil
}

// AwaitRun waits until this replica's run of orgID's process token ends,
// for at most d or until ctx ends, and reports whether it ended. It returns
// false at once when no such run is under way here (another replica's, or
// none). A GET of a query about to finish can thus answer with the result
// rather than "processing" and another poll.
func (r *Runner) AwaitRun(ctx context.Context, orgID, token string, d time.Duration) bool {
	run := r.localRun(orgID, token)
	if run == nil {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-run.done:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// Form returns the body named name derived from the result of p, a done
// process that Usage returned (the API's CSV, envelope and gzip bodies), kept
// beside the result in the cache and counted against its bound, so that
// answering a GET is a lookup and a write. build makes it: at once when
// wait is true; otherwise in the background from the second ask on (a
// result read only once, as by a client that polls until it is ready, is
// not worth the work), the answer being "not yet" (ok false) until it is
// built. Concurrent asks share one build. ok is also false when p is not in the cache (too large for it,
// evicted, or the cache is off) or the form was not kept: the caller then
// makes what it needs itself.
func (r *Runner) Form(p *costexplorer.QueryProcess, name string, build func() ([]byte, error), wait bool) (b []byte, ok bool, err error) {
	return r.cache.form(p, name, build, wait)
}

// Start runs the workers and the janitor until Stop is called or ctx ends.
func (r *Runner) Start(ctx context.Context) { r.pool.start(ctx) }

// Stop stops claiming work, waits for evaluations in flight (bounded by
// ctx), and hands the leases this replica still holds back to the pool so
// another replica can finish them at once.
func (r *Runner) Stop(ctx context.Context) error {
	if err := r.pool.stop(ctx); err != nil {
		return fmt.Errorf("release leases: %w", err)
	}
	return nil
}

// runOne claims and runs one process; it reports whether it found one. A
// failed evaluation is tried again until the last attempt.
func (r *Runner) runOne(ctx context.Context) bool {
	return runClaimed(ctx, &claimed[*costexplorer.QueryProcess]{
		what: "query process", verb: "evaluate", logger: r.cfg.Logger, maxAttempts: r.cfg.MaxAttempts,
		claim: func(ctx context.Context) (*costexplorer.QueryProcess, error) {
			return r.cfg.Store.ClaimProcess(ctx, r.cfg.Owner, r.cfg.Now(), r.cfg.Lease)
		},
		attempts: func(p *costexplorer.QueryProcess) int { return p.Attempts },
		log: func(p *costexplorer.QueryProcess) *slog.Logger {
			return r.cfg.Logger.With("token", p.Token[:12], "org", p.OrgID, "attempt", p.Attempts)
		},
		run:     r.run,
		fail:    r.fail,
		failNow: func(err error) (string, bool) { return err.Error(), false },
	})
}

// run evaluates p and stores its result.
func (r *Runner) run(ctx context.Context, p *costexplorer.QueryProcess, log *slog.Logger, start time.Time) error {
	// Known running here until this returns; the done process goes into
	// the cache before it leaves running, so a reader never sees it go back.
	run := &localRun{p: p, done: make(chan struct{})}
	r.runningMu.Lock()
	r.running[p.Token] = run
	r.runningMu.Unlock()
	defer func() {
		r.runningMu.Lock()
		delete(r.running, p.Token)
		r.runningMu.Unlock()
		close(run.done)
	}()
	body, err := r.evaluate(ctx, p)
	if err != nil {
		return err
	}
	finished := r.cfg.Now()
	if err := r.cfg.Store.FinishProcess(ctx, p.Token, r.cfg.Owner, body, finished); err != nil {
		if !errors.Is(err, context.Canceled) {
			log.Warn("finish query process", "err", err)
		}
		return nil
	}
	// The client is polling for it: serve the first read from memory
	// rather than read back the result just written. The process is what
	// the store now holds (times at its microsecond precision).
	done := *p
	done.State, done.Result, done.Error = costexplorer.ProcessDone, body, ""
	done.LeaseOwner, done.LeaseExpires = "", time.Time{}
	done.CompletedAt = time.UnixMicro(finished.UnixMicro()).UTC()
	r.cache.put(&done)
	if r.cfg.Observe != nil {
		r.cfg.Observe(costexplorer.ProcessDone, time.Since(start))
	}
	log.Debug("query process done", "duration", time.Since(start), "bytes", len(body))
	return nil
}

// fail marks p failed; took is how long its last evaluation ran (0 when it
// was not evaluated again).
func (r *Runner) fail(ctx context.Context, p *costexplorer.QueryProcess, msg string, took time.Duration, log *slog.Logger) {
	if err := r.cfg.Store.FailProcess(ctx, p.Token, r.cfg.Owner, msg, r.cfg.Now()); err != nil {
		log.Warn("fail query process", "err", err)
	}
	if r.cfg.Observe != nil {
		r.cfg.Observe(costexplorer.ProcessFailed, took)
	}
}

// evaluate computes the result body of p, recovering from a panic in the
// evaluator so that one bad query cannot take the server down.
func (r *Runner) evaluate(ctx context.Context, p *costexplorer.QueryProcess) (body []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic evaluating query: %v", v)
		}
	}()
	rows, err := r.cfg.Evaluator.Evaluate(ctx, &p.Query)
	if err != nil {
		return nil, err
	}
	if rows == nil {
		rows = []costexplorer.Row{}
	}
	b := appendResult(make([]byte, 0, 64+160*len(rows)), rows)
	if cap(b)-len(b) > len(b)/8 {
		// The result is kept (store, cache): not its spare room.
		b = append([]byte(nil), b...)
	}
	return b, nil
}

// sweep removes expired results.
func (r *Runner) sweep(ctx context.Context) {
	now := r.cfg.Now()
	if n, err := r.cfg.Store.DeleteExpiredProcesses(ctx, now); err != nil {
		r.cfg.Logger.Warn("delete expired query processes", "err", err)
	} else if n > 0 {
		r.cfg.Logger.Info("deleted expired query processes", "count", n)
	}
}
