package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
)

// A store written before invoices existed (migration 0001 only) opens with
// its line items filed under invoices with derived ids and amounts equal to
// their sums, its daily rollup filled from them (migration 0005), and Verify
// finds nothing to report.
func TestMigration0002FilesStoredItemsUnderInvoices(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	script, err := os.ReadFile(filepath.Join("migrations", "0001_init.sql"))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	org := costexplorer.DeriveID("old org")
	jan := costexplorer.DayOf(time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC))
	for _, q := range []string{
		string(script),
		"CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
		"INSERT INTO schema_migrations VALUES (1, '0001_init.sql', 0)",
		"INSERT INTO organizations (id, ext_id, name, name_lower, created_at) VALUES (1, '" + org + "', 'Old', 'old', 0)",
		"INSERT INTO skus (id, name, service, unit) VALUES (1, 'ATLAS_SUPPORT_PRO', 21, 'months'), (2, 'CREDIT', 22, 'credits')",
	} {
		if _, err := conn.Exec(q); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	for i, it := range []struct {
		day   costexplorer.Day
		sku   int
		cents int64
	}{{jan, 1, 7990}, {jan, 2, -1000}, {jan + 1, 1, 7990}, {jan + 2, 1, 120}} {
		id := costexplorer.NewLineItemID("old", string(rune('a'+i)))
		if _, err := conn.Exec("INSERT INTO line_items VALUES (1, 0, 0, ?, ?, ?, 1, 0, ?)", it.sku, int64(it.day), id[:], it.cents); err != nil {
			t.Fatal(err)
		}
	}
	jm, fm := int64(costexplorer.MakeMonth(2024, 1)), int64(costexplorer.MakeMonth(2024, 2))
	if _, err := conn.Exec("INSERT INTO rollup VALUES (?, 1, 0, 0, 21, 7990), (?, 1, 0, 0, 22, -1000), (?, 1, 0, 0, 21, 8110)", jm, jm, fm); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec("UPDATE usage_state SET line_items = 4, total_cents = 15100, first_day = ?, last_day = ?", int64(jan), int64(jan+2)); err != nil {
		t.Fatal(err)
	}
	conn.Close()

	db := openAt(t, path)
	for _, c := range []struct {
		month costexplorer.Month
		want  costexplorer.InvoiceAmounts
	}{{costexplorer.MakeMonth(2024, 1), costexplorer.InvoiceAmounts{Charges: 7990, Credits: 1000}}, {costexplorer.MakeMonth(2024, 2), costexplorer.InvoiceAmounts{Charges: 8110}}} {
		inv, err := db.Invoice(context.Background(), []string{org}, costexplorer.InvoiceID(org, c.month))
		if err != nil {
			t.Fatalf("%s: %v", c.month, err)
		}
		if inv.Amounts != c.want || inv.Month != c.month {
			t.Errorf("%s: %+v, want %+v", c.month, inv.Amounts, c.want)
		}
	}
	var daily []costexplorer.DailyRollupRow
	if err := db.ScanDailyRollup(context.Background(), func(r *costexplorer.DailyRollupRow) error {
		daily = append(daily, *r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(daily) != 4 || daily[0].Day != jan || daily[0].Amount != 7990 || daily[0].SKU != "ATLAS_SUPPORT_PRO" || daily[0].Items != 1 {
		t.Errorf("daily rollup %+v, want the four items' cells, from %s", daily, jan)
	}
	if lines, err := db.Verify(context.Background()); err != nil || len(lines) != 0 {
		t.Errorf("Verify = %q, %v", lines, err)
	}
}
