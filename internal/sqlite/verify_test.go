package sqlite_test

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer/internal/storetest"
)

// line_items carries no FOREIGN KEY clauses (0 stands for "no project or
// cluster"), so Verify must find broken references itself.
func TestVerifyReportsBrokenLineItemReferences(t *testing.T) {
	for _, c := range []struct {
		name, set, want string
	}{
		{"MissingOrganization", "org_id = 999999", "its organization does not exist"},
		{"MissingProject", "project_id = 999999", "its project does not exist"},
		{"MissingCluster", "cluster_id = 999999", "its cluster does not exist"},
		{"MissingSKU", "sku_id = 999999", "its SKU does not exist"},
		{"ProjectOfAnotherOrganization", "project_id = (SELECT p.id FROM projects p WHERE p.org_id <> line_items.org_id LIMIT 1)",
			"its project belongs to another organization"},
		{"ClusterOfAnotherProject", "cluster_id = (SELECT c.id FROM clusters c WHERE c.project_id <> line_items.project_id LIMIT 1)",
			"its cluster belongs to another project"},
		{"ClusterWithoutProject", "project_id = 0", "its cluster belongs to another project"},
	} {
		t.Run(c.name, func(t *testing.T) {
			db, path := open(t)
			storetest.SmallData(t, db)
			conn, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			var id string
			if err := conn.QueryRow("SELECT hex(id) FROM line_items WHERE cluster_id <> 0 LIMIT 1").Scan(&id); err != nil {
				t.Fatal(err)
			}
			res, err := conn.Exec("UPDATE line_items SET "+c.set+" WHERE hex(id) = ?", id)
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				t.Fatalf("tampered with %d rows, want 1", n)
			}
			lines, err := db.Verify(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if want := "line item " + id + ": " + c.want; !slices.Contains(lines, want) {
				t.Fatalf("Verify = %q; want it to contain %q", lines, want)
			}
		})
	}
}

// Invoice amounts are kept by ingest, not recomputed on read: Verify
// recomputes them from the line items and reports where they drift, and a
// line item filed under another organization's invoice.
func TestVerifyReportsInvoiceDrift(t *testing.T) {
	for _, c := range []struct {
		name, tamper, want string
	}{
		{"Charges", "UPDATE invoices SET charges_cents = charges_cents + 1 WHERE id = (SELECT MIN(id) FROM invoices)", "its line items sum to"},
		{"Credits", "UPDATE invoices SET credits_cents = credits_cents + 1 WHERE id = (SELECT MIN(id) FROM invoices)", "its line items sum to"},
		{"ItemOfAnotherOrganization", "UPDATE line_items SET invoice_id = (SELECT i.id FROM invoices i WHERE i.org_id <> line_items.org_id LIMIT 1)" +
			" WHERE id = (SELECT id FROM line_items LIMIT 1)", "holds line items of another organization"},
	} {
		t.Run(c.name, func(t *testing.T) {
			lines := verifyAfterTampering(t, c.tamper)
			if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, c.want) }) {
				t.Fatalf("Verify = %q; want a line containing %q", lines, c.want)
			}
		})
	}
}

// verifyAfterTampering opens a store of small data that Verify finds clean,
// runs the tamper statements on the file over a separate connection, and
// returns what Verify reports then.
func verifyAfterTampering(t *testing.T, tamper ...string) []string {
	t.Helper()
	db, path := open(t)
	storetest.SmallData(t, db)
	if lines, err := db.Verify(context.Background()); err != nil || len(lines) != 0 {
		t.Fatalf("Verify = %q, %v before tampering", lines, err)
	}
	conn, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range tamper {
		if _, err := conn.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	lines, err := db.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return lines
}
