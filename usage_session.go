package costexplorer

import "context"

// UsageSession is one ingest taken in chunks: a transaction that grows by
// [UsageSession.Add] and commits once, so that a file of millions of line
// items is ingested all-or-nothing with only a chunk of it in memory. The
// rules are IngestUsage's, and the result of a session is the result of one
// IngestUsage of all its chunks together: a chunk may reference the
// dimensions of an earlier chunk, an item repeated in a later chunk is a
// duplicate, the rollup and the invoices' amounts move once, at Commit.
type UsageSession interface {
	// Add ingests b within the session's transaction. An error ends the
	// session: its transaction is rolled back and the store is unchanged.
	Add(ctx context.Context, b *UsageBatch) error
	// Commit commits the session and reports what all its chunks changed.
	// After an error the store is unchanged.
	Commit(ctx context.Context) (IngestResult, error)
	// Rollback abandons the session (the store is unchanged) if it is still
	// open; after Commit or an error it does nothing. Always call it, as a
	// deferred call: an open session holds the store's write lock.
	Rollback()
}

// UsageSessionStore is a store that ingests in sessions (internal/sqlite
// and internal/postgres are).
type UsageSessionStore interface {
	// BeginUsage opens a session; the session ends, whatever happens, on
	// Commit, on Rollback or when ctx is done.
	BeginUsage(ctx context.Context) (UsageSession, error)
}
