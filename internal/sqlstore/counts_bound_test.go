package sqlstore_test

import (
	"path/filepath"
	"testing"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/postgres"
	"github.com/costexplorer/costexplorer/internal/postgres/pgtest"
	"github.com/costexplorer/costexplorer/internal/sqlite"
	"github.com/costexplorer/costexplorer/internal/sqlstore"
	"github.com/costexplorer/costexplorer/internal/storetest"
)

// TestConformanceCountsInParts runs the conformance suite on SQLite with
// the item counts added to the table as soon as an ingest holds three:
// every ingest of more than a few resources adds them in parts before its
// commit, and the suite's checks (the counts against a recount of the line
// items among them) must hold as when they are added at once. The suite
// runs its tests one after the other, all under this bound.
func TestConformanceCountsInParts(t *testing.T) {
	defer sqlstore.SetCountsBound(3)()
	storetest.Run(t, openSQLite)
}

// TestConformanceDictionariesPastTheirBound runs the conformance suite on
// SQLite with a transaction and the process's key cache holding the keys of
// one tag set and of one item details at most: the keys of every other are
// read from their tables again, and every item must still get its own.
func TestConformanceDictionariesPastTheirBound(t *testing.T) {
	defer sqlstore.SetDictBound(1)()
	storetest.Run(t, openSQLite)
}

// TestConformanceDictionariesPastTheirBoundPostgreSQL is
// TestConformanceDictionariesPastTheirBound on PostgreSQL (TEST_DATABASE_URL;
// skipped without it).
func TestConformanceDictionariesPastTheirBoundPostgreSQL(t *testing.T) {
	pgtest.URL(t)
	defer sqlstore.SetDictBound(1)()
	storetest.Run(t, func(t *testing.T) costexplorer.Store {
		db, err := postgres.Open(t.Context(), pgtest.Schema(t), postgres.Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// openSQLite opens a store on a new SQLite file, closed when t ends.
func openSQLite(t *testing.T) costexplorer.Store {
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "costexplorer.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
