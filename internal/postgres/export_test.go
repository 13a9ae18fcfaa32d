package postgres

import "github.com/jackc/pgx/v5/pgxpool"

// Pool returns the store's connection pool, for tests of its connections.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }
