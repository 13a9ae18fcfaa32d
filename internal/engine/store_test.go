package engine

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/costexplorer/costexplorer/internal/sqlite"
)

// newTestStore returns an empty SQLite store in a fresh file: the engine is
// tested against the store it reads in production, not a stand-in.
func newTestStore(t testing.TB) ingester {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "costexplorer.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return db
}
