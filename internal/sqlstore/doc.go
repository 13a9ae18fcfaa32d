// Package sqlstore is the SQL core shared by internal/sqlite and
// internal/postgres: the rules of the store and the query text, written once
// over a small [Querier], run through the [Runner] each dialect provides, with
// the fragments that differ carried by a [Dialect].
//
// # What lives here
//
//   - The decisions: claim rules and lease checks of query processes, link
//     rules of organizations, credential encoding (roles and access lists as
//     JSON arrays), organization filters and paging, process state
//     transitions, the creation of shared secrets and single-use nonces, the
//     invoices (ingest_invoice.go: each item's invoice, created by its first
//     item, the tag-set and details dictionaries, the invoices' amounts
//     moved in the planning pass that moves the rollup, recorded metadata;
//     invoice.go: the reads of costexplorer.InvoiceStore), and the
//     verification report (rollup cells, running totals, invoice amounts).
//   - The query text, with '?' placeholders; the PostgreSQL adapter rebinds
//     them to $n ([Rebind]). Where the engines' SQL differs the text takes a
//     fragment from the Dialect: MAX or GREATEST, LIMIT -1 or ALL, FOR UPDATE
//     and FOR UPDATE SKIP LOCKED (empty in SQLite, whose writes run in one
//     IMMEDIATE transaction on a single connection), the flag encoding.
//   - Row scanning: times are unix microseconds in both stores, NULL for the
//     zero time ([Micros], [Time]); surrogate keys are read as int64 whatever
//     their column width ([Dims], [CellKey]).
//   - Migrations' bookkeeping ([Store.Init]); each dialect embeds its own
//     numbered scripts, numbered alike.
//
// # What stays in each dialect
//
// Opening (files and pragmas, the pgx pool and its timeouts), transaction
// plumbing ([Runner]: which pool or connection, IMMEDIATE or REPEATABLE READ
// READ ONLY, retry of a transaction that never began), error translation
// (driver errors to costexplorer codes: [Dialect.Translate]), the locks
// ([Dialect.LockData], [Dialect.LockSchema]: PostgreSQL's advisory locks, none
// in SQLite), prepared-statement caching for the hot reads (SQLite's
// stmt.go, behind [Runner.Read]; pgx caches per connection), the checks of
// Verify that each engine does best, and the bulk ingest path (COPY vs
// prepared multi-row inserts).
//
// The dialect's DB embeds *Store, so the methods here are the store's
// methods; a dialect method of the same name would take precedence, and
// none does except Verify, which runs the dialect's checks through
// [Store.VerifyWith].
//
// # Adding a store method
//
// Adding a store method touches: the domain interface, sqlstore, at most the
// two dialect files that differ, and storetest. Write the method here on
// *Store with '?' placeholders, choose Read, ReadTx, Write or WriteTx for it,
// take any differing fragment from the Dialect (add a field to both dialect
// values when a new one is needed), and specify its behaviour in
// internal/storetest, which runs against both stores.
package sqlstore
