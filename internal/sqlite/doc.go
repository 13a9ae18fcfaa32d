// Package sqlite is the embedded store of costexplorer: [costexplorer.Store]
// on one SQLite file through the pure-Go driver modernc.org/sqlite (no cgo).
//
// The rules and the query text it shares with internal/postgres live in
// internal/sqlstore, which [DB] embeds; this package keeps what is SQLite's
// own: opening, the two pools and their transactions, error translation, the
// statement cache, Verify's checks, backups and the ingest path.
//
// # Layout
//
// Dimension tables (organizations, projects, clusters, skus, services) hold
// the 24-hex Atlas ids and names behind small integer surrogate keys. Line
// items are a WITHOUT ROWID table clustered by (organization, invoice,
// project, cluster, day, id): one invoice's items are one range, and the
// 16-byte id, the idempotency key, comes last, so that items arriving
// resource by resource land near each other rather than at random. They
// carry only integers and REALs, their tags and descriptive fields as keys
// of dictionaries (tag_sets, item_details), NULL when absent: about 58 bytes
// a row before b-tree slack (68 bytes an item on disk in the ingest
// benchmark). Nothing else indexes them, because queries read the monthly
// rollup and the invoices' amounts, which every ingest updates in its own
// transaction.
//
// # Concurrency
//
// The file is in WAL mode. Writes go through a single connection whose
// transactions begin IMMEDIATE, so writers of one process queue in Go and
// writers of several processes queue on SQLite's write lock (under
// busy_timeout) rather than failing with SQLITE_BUSY on lock upgrade. Reads
// use a separate pool of query_only connections that never wait for writers.
//
// # Migrations
//
// Numbered files under migrations/ are embedded and applied at [Open] in one
// transaction, recorded in schema_migrations. internal/postgres uses the
// same numbers for the same changes.
package sqlite
