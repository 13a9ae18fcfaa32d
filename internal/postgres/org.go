package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/costexplorer/costexplorer/internal/sqlstore"
)

// Organizations live in internal/sqlstore. lockData, linkOrg and
// bumpDataVersion give ingest.go the core's rules on its pgx.Tx.

// lockData takes the ingest lock for the rest of tx (see
// [sqlstore.Dialect.LockData]).
func lockData(ctx context.Context, tx pgx.Tx) error {
	return dialect.LockData(ctx, querier{tx})
}

func linkOrg(ctx context.Context, tx pgx.Tx, payingID, linkedID string) error {
	return sqlstore.LinkOrg(ctx, dialect, querier{tx}, payingID, linkedID)
}

func bumpDataVersion(ctx context.Context, tx pgx.Tx) (int64, error) {
	return sqlstore.BumpDataVersion(ctx, querier{tx})
}
