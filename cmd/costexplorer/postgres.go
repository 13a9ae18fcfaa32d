package main

import (
	"context"
	"fmt"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/postgres"
)

// openPostgres opens the PostgreSQL store named by dsn (postgres://…),
// applying pending migrations. Pool settings come from the DSN
// (pool_max_conns=…); errors name the database without its password.
func openPostgres(ctx context.Context, dsn string, m *Main) (costexplorer.Store, error) {
	db, err := postgres.Open(ctx, dsn, postgres.Options{Now: m.Now})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", redactDSN(dsn), err)
	}
	return db, nil
}
