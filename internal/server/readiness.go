package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/engine"
)

// readinessTimeout bounds the store round trips of one /readyz, so that a
// hung database answers 503 rather than a probe timeout.
const readinessTimeout = 2 * time.Second

// readiness is the /readyz check: the store answers a ping; the migrated
// schema answers a query (the data version lives in a table the migrations
// create — the store applies them when it opens and refuses to open
// otherwise, so this proves they stay applied on the database this replica
// reaches); and the query engine holds a snapshot. Two indexed round trips
// and an atomic load: cheap enough for a probe every second. The error
// names the failing part for the server log; the client sees only 503
// SERVICE_UNAVAILABLE.
func readiness(store costexplorer.Store, eng *engine.Engine) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, readinessTimeout)
		defer cancel()
		if err := store.Ping(ctx); err != nil {
			return fmt.Errorf("store unreachable: %w", err)
		}
		if _, err := store.DataVersion(ctx); err != nil {
			return fmt.Errorf("store schema: %w", err)
		}
		if eng.Stats().LoadedAt.IsZero() {
			return errors.New("query engine not loaded")
		}
		return nil
	}
}
