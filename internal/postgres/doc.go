// Package postgres is the shared store of costexplorer: [costexplorer.Store]
// on PostgreSQL through jackc/pgx (a pgxpool pool; every call honours its
// context). Several `costexplorer serve` replicas may share one database:
// nothing a replica needs lives outside it.
//
// The rules and the query text it shares with internal/sqlite live in
// internal/sqlstore, which [DB] embeds; this package keeps what is
// PostgreSQL's own: the pool, transactions and their retry, error
// translation, the advisory locks, Verify's checks and the COPY ingest path.
//
// # Layout
//
// The tables are those of internal/sqlite, under the same migration numbers:
// dimensions (organizations, projects, clusters, skus, services) behind
// integer surrogate keys; invoices with their payments and refunds; line
// items keyed by (org_id, invoice_id, project_id, cluster_id, day, id), 0 for
// no project or cluster, so that one invoice is one range of the key and data
// arriving resource by resource appends at the right edge of the key (the
// 16-byte id, last, is the idempotency key), with no other index; a monthly rollup maintained in the
// transaction of every ingest; a one-row usage_state with the data version
// and running totals. Times are BIGINT unix microseconds, as in SQLite.
//
// # Ingest
//
// A batch's line items are resolved to surrogate keys in Go (ids repeated in
// the batch are dropped first) and sorted by the key, and streamed with COPY
// straight into line_items under a savepoint. When the key refuses a stored
// row, the savepoint is rolled back and the items are streamed into a
// session-local staging table instead, and moved with one INSERT … SELECT …
// ORDER BY the key ON CONFLICT on the whole key DO NOTHING RETURNING id, so
// that re-ingesting changes nothing and the rollup gains exactly the rows
// that were new. Ingest
// transactions of all replicas are serialised by a transaction-scoped
// advisory lock, which keeps dimension upserts free of races and deadlocks,
// as SQLite's single writer does; the data version row would serialise them
// at commit anyway.
//
// # Replicas
//
// Query processes are claimed with SELECT … FOR UPDATE SKIP LOCKED, so each
// claim goes to exactly one replica; Digest nonces are single-use through
// their primary key; shared secrets are created with INSERT … ON CONFLICT DO
// NOTHING and read back, so every replica signs with the same JWT key.
//
// # Failures
//
// Driver errors are translated to domain errors: no rows → ErrNotFound,
// unique violations → ErrConflict, and a database that cannot be reached
// (connection refused or lost, administrator shutdown, "the database system
// is starting up", no free connection within the acquire timeout) →
// ErrUnavailable, which the HTTP layer answers with 503. Context errors pass
// through unchanged. The pool reconnects by itself when the database returns.
//
// # Migrations
//
// Numbered files under migrations/ are embedded and applied at [Open] in one
// transaction that first takes an advisory lock, so replicas starting
// together apply each migration exactly once.
package postgres
