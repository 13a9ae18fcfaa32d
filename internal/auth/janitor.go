package auth

import (
	"context"
	"sync"

	"github.com/costexplorer/costexplorer/internal/ticker"
)

// janitor removes the authentication state that has expired — used Digest
// nonces, revoked access tokens, revoked web sessions — every
// Config.JanitorEvery while it runs. Any number of replicas may run one:
// each deletion is idempotent.
type janitor struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// Start runs the janitor of expired authentication state until Stop is
// called or ctx ends. An Authenticator starts once: later calls do nothing.
func (a *Authenticator) Start(ctx context.Context) {
	j := &a.janitor
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.done != nil {
		return
	}
	ctx, j.cancel = context.WithCancel(ctx)
	j.done = make(chan struct{})
	go func() {
		defer close(j.done)
		a.clean(ctx)
	}()
}

// Stop stops the janitor and waits for it (bounded by ctx).
func (a *Authenticator) Stop(ctx context.Context) error {
	j := &a.janitor
	j.mu.Lock()
	cancel, done := j.cancel, j.done
	j.mu.Unlock()
	if done == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (a *Authenticator) clean(ctx context.Context) {
	ticker.Every(ctx, a.cfg.JanitorEvery, func(ctx context.Context) {
		if err := a.store.DeleteExpiredAuthState(ctx, a.cfg.Now()); err != nil && ctx.Err() == nil {
			a.log.Warn("delete expired auth state", "err", err)
		}
	})
}
