package sqlstore_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// TestInvoiceLinesReportAMissingDetailsRow deletes an item details row that
// an invoice's items use: streaming the invoice fails on a dangling key,
// whether its dictionaries are read before the items (the default bound)
// or with them (the bound at 1).
func TestInvoiceLinesReportAMissingDetailsRow(t *testing.T) {
	for _, bound := range []int{0, 1} {
		t.Run(fmt.Sprintf("bound=%d", bound), func(t *testing.T) {
			if bound > 0 {
				defer sqlstore.SetDictBound(bound)()
			}
			path := filepath.Join(t.TempDir(), "costexplorer.db")
			db, err := sqlite.Open(t.Context(), path, sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			d := storetest.NewDataset(42, storetest.Shape{Orgs: 1, ProjectsPerOrg: 1, ClustersPerProject: 2, Start: costexplorer.DayOf(time.Now()) - 10, Days: 10})
			b := d.Dimensions()
			b.Items = d.All()
			for i := range b.Items {
				b.Items[i].Note = fmt.Sprintf("note %d", i)
			}
			if _, err := db.IngestUsage(t.Context(), b); err != nil {
				t.Fatal(err)
			}
			raw, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			var invoice string
			err = raw.QueryRow(`SELECT i.ext_id FROM invoices i JOIN line_items li ON li.invoice_id = i.id GROUP BY i.ext_id ORDER BY COUNT(*) DESC LIMIT 1`).Scan(&invoice)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := raw.Exec(`DELETE FROM item_details WHERE id = (SELECT MAX(li.detail_id) FROM line_items li JOIN invoices i ON i.id = li.invoice_id WHERE i.ext_id = ?)`, invoice); err != nil {
				t.Fatal(err)
			}
			lines := 0
			err = db.InvoiceLines(t.Context(), invoice, func(*costexplorer.InvoiceLine) error { lines++; return nil })
			if err == nil || !strings.Contains(err.Error(), "dangling key") {
				t.Fatalf("InvoiceLines after %d lines: %v, want a dangling key", lines, err)
			}
		})
	}
}
