package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// migrationFS holds the numbered migrations, numbered as internal/sqlite's.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// migrate applies the pending migrations (see [sqlstore.Store.Migrate]) in
// one transaction that first takes an advisory lock: replicas starting
// together queue on the lock, and each then sees what the one before applied
// (READ COMMITTED takes a new snapshot per statement). A failed migration
// leaves nothing behind, DDL included.
func (db *DB) migrate(ctx context.Context) error {
	err := db.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))", lockMigrate); err != nil {
			return err
		}
		return db.Migrate(ctx, querier{tx}, migrationFS, func(script string) error {
			// The simple protocol runs a multi-statement script as one.
			_, err := tx.Exec(ctx, script, pgx.QueryExecModeSimpleProtocol)
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
