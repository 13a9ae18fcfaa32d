// Package ticker runs the background chores (the auth-state janitor, the
// jobs' sweep, SQLite's checkpointer) on a period, so that each loop stops
// the same way: at once when its context ends, never mid-way through a
// round it has not begun.
package ticker

import (
	"context"
	"time"
)

// Every calls fn once per period d until ctx ends, the first call one
// period after it starts (a chore that is due at start-up is the caller's to
// run before). It returns when ctx ends; a round already running finishes
// first, with the ended ctx to cut it short.
func Every(ctx context.Context, d time.Duration, fn func(context.Context)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fn(ctx)
	}
}
