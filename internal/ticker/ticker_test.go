package ticker_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer/internal/ticker"
)

// TestEveryRunsUntilCanceled checks that the chore runs period after period
// and that Every returns once its context ends.
func TestEveryRunsUntilCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var rounds atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		ticker.Every(ctx, time.Millisecond, func(context.Context) {
			if rounds.Add(1) == 3 {
				cancel()
			}
		})
	}()
	<-done
	got := rounds.Load()
	if got < 3 {
		t.Fatalf("rounds = %d, want at least 3 (the third cancels the loop)", got)
	}
}

// TestEveryReturnsAtOnceWhenCanceled checks that an ended context stops the
// loop before its first round.
func TestEveryReturnsAtOnceWhenCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ticker.Every(ctx, time.Hour, func(context.Context) {
		t.Error("a round ran after the context ended")
	})
}
