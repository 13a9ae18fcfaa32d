package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
)

// migrationFS holds the numbered migrations. internal/postgres uses the same
// numbers for the same changes.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// migrate applies the pending migrations (see [sqlstore.Store.Migrate]) in
// one IMMEDIATE transaction, so that processes opening the same file at once
// apply each migration exactly once and a failed migration leaves nothing.
func (db *DB) migrate(ctx context.Context) error {
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		return db.Migrate(ctx, txQuerier{tx}, migrationFS, func(script string) error {
			_, err := tx.ExecContext(ctx, script)
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
