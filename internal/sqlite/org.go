package sqlite

import (
	"context"
	"database/sql"

	"github.com/costexplorer/costexplorer/internal/sqlstore"
)

// Organizations live in internal/sqlstore. linkOrg and bumpDataVersion give
// ingest.go the core's rules on its *sql.Tx.

func linkOrg(ctx context.Context, tx *sql.Tx, payingID, linkedID string) error {
	return sqlstore.LinkOrg(ctx, dialect, txQuerier{tx}, payingID, linkedID)
}

func bumpDataVersion(ctx context.Context, tx *sql.Tx) (int64, error) {
	return sqlstore.BumpDataVersion(ctx, txQuerier{tx})
}
