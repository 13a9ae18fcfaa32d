package bench

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/demo"
	"github.com/costexplorer/costexplorer/internal/focus"
	"github.com/costexplorer/costexplorer/internal/sqlite"
)

// TestFocusReadsBackInDuckDB exports a demo billing account as FOCUS gzip
// CSV and Parquet and reads both back with DuckDB, a reader that shares no
// code with ours: both files have every row, Σ BilledCost per InvoiceId is
// the store's amount billed of that invoice to the cent, and the item rows
// summed by month, organization, project, cluster and service are the
// store's rollup (what the cost explorer answers from) to the cent.
func TestFocusReadsBackInDuckDB(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "demo.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := demo.Config{Seed: 11, LineItems: 20_000, Months: 4, Now: time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC), BatchSize: 5000}
	if err := demo.Generate(ctx, cfg, func(b *costexplorer.UsageBatch) error { _, err := db.IngestUsage(ctx, b); return err }); err != nil {
		t.Fatal(err)
	}
	layout := demo.Describe(cfg)
	req := focus.Request{OrgID: layout.PayingOrg.ID, From: layout.FirstDay.Month(), To: layout.LastDay.Month()}

	files := map[focus.Format]string{focus.CSV: filepath.Join(dir, "focus.csv.gz"), focus.Parquet: filepath.Join(dir, "focus.parquet")}
	var rows int64
	for format, path := range files {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		req.Format = format
		sum, err := focus.Export(ctx, db, req, f)
		if err == nil {
			err = f.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = sum.Rows
	}

	// What the store says: each invoice's amount billed, and the rollup.
	wantInvoices := map[string]int64{}
	orgs, err := db.LinkedOrganizations(ctx, req.OrgID)
	if err != nil {
		t.Fatal(err)
	}
	for _, org := range append(orgs, req.OrgID) {
		invs, _, err := db.Invoices(ctx, &costexplorer.InvoiceListQuery{OrgID: org, Page: costexplorer.PageRequest{ItemsPerPage: 500, PageNum: 1}}, cfg.Now)
		if err != nil {
			t.Fatal(err)
		}
		for _, inv := range invs {
			if inv.Month >= req.From && inv.Month <= req.To {
				wantInvoices[inv.ID] = int64(inv.AmountBilled())
			}
		}
	}
	wantUsage := map[string]int64{}
	inAccount := map[string]bool{req.OrgID: true}
	for _, o := range orgs {
		inAccount[o] = true
	}
	err = db.ScanRollup(ctx, func(r *costexplorer.RollupRow) error {
		if inAccount[r.OrgID] && r.Month >= req.From && r.Month <= req.To && r.Amount != 0 {
			wantUsage[fmt.Sprintf("%s|%s|%s|%s|%s", r.Month, r.OrgID, r.ProjectID, r.ClusterID, r.Service)] += int64(r.Amount)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	t.Logf("%d rows, %d invoices, %d month/organization/project/cluster/service groups", rows, len(wantInvoices), len(wantUsage))
	duck, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer duck.Close()
	for format, path := range files {
		t.Run(string(format), func(t *testing.T) {
			// The CSV is read as text and cast, so that DuckDB's type guessing
			// plays no part; the Parquet file carries its own types.
			from := fmt.Sprintf("read_csv('%s', header = true, all_varchar = true)", path)
			if format == focus.Parquet {
				from = fmt.Sprintf("read_parquet('%s')", path)
			}
			cents := "CAST(ROUND(SUM(CAST(BilledCost AS DECIMAL(18, 2))) * 100) AS BIGINT)"
			var n int64
			if err := duck.QueryRow("SELECT COUNT(*) FROM " + from).Scan(&n); err != nil || n != rows {
				t.Fatalf("DuckDB reads %d rows (%v), we wrote %d", n, err, rows)
			}
			got := query(t, duck, "SELECT InvoiceId, "+cents+" FROM "+from+" GROUP BY InvoiceId")
			if !maps.Equal(got, wantInvoices) {
				t.Errorf("Σ BilledCost per InvoiceId (DuckDB) = %v\nthe store's amounts billed = %v", got, wantInvoices)
			}
			got = query(t, duck, "SELECT strftime(CAST(ChargePeriodStart AS TIMESTAMP), '%Y-%m') || '|' || x_OrganizationId || '|' || "+
				"COALESCE(SubAccountId, '') || '|' || COALESCE(ResourceId, '') || '|' || ServiceName, "+
				cents+" FROM "+from+" WHERE x_ChargeSubType IS NULL GROUP BY 1 HAVING "+cents+" <> 0")
			if !maps.Equal(got, wantUsage) {
				for _, k := range slices.Sorted(maps.Keys(wantUsage)) {
					if got[k] != wantUsage[k] {
						t.Errorf("%s: DuckDB sums %d cents, the rollup has %d", k, got[k], wantUsage[k])
					}
				}
				t.Fatalf("usage by month, organization, project, cluster and service: DuckDB has %d groups, the rollup %d", len(got), len(wantUsage))
			}
		})
	}
}

// query runs a two-column query (key, cents) and returns it as a map.
func query(t *testing.T, db *sql.DB, q string) map[string]int64 {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
