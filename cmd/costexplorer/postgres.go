package main

import (
	"context"
	"errors"

	"github.com/costexplorer/costexplorer"
)

// openPostgres opens the PostgreSQL store.
func openPostgres(ctx context.Context, dsn string, m *Main) (costexplorer.Store, error) {
	return nil, errors.New("the PostgreSQL store is not built yet")
}
