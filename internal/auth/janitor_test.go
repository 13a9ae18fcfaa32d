package auth

import (
	"context"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
)

// TestJanitorRemovesExpiredAuthState checks that the started janitor
// forgets a used nonce once it has expired (the same pair is then accepted
// by the store again), that it keeps a live one, and that Stop stops it.
func TestJanitorRemovesExpiredAuthState(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.JanitorEvery = 10 * time.Millisecond })
	now := f.clock.Now()
	if err := f.db.UseNonce(f.ctx, "expiring", 1, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := f.db.UseNonce(f.ctx, "live", 1, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	f.auth.Start(context.Background())
	t.Cleanup(func() { f.auth.Stop(context.Background()) })
	f.clock.Advance(2 * time.Minute)
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := f.db.UseNonce(f.ctx, "expiring", 1, now.Add(time.Hour))
		if err == nil {
			break
		}
		if costexplorer.ErrorCode(err) != costexplorer.ErrConflict {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the expired nonce was not removed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := f.db.UseNonce(f.ctx, "live", 1, now.Add(time.Hour)); costexplorer.ErrorCode(err) != costexplorer.ErrConflict {
		t.Errorf("live nonce: %v, want it still used (CONFLICT)", err)
	}
	if err := f.auth.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}
