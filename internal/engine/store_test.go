package engine

import "testing"

// newTestStore returns an empty store to ingest into.
func newTestStore(t testing.TB) ingester {
	t.Helper()
	return &memSource{}
}
