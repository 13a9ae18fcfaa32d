package httpapi_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/importer"
	"github.com/costexplorer/costexplorer/internal/sqlite"
)

// TestInvoiceIDOfAnImportedInvoice imports an invoice CSV as Atlas serves
// it, whose summary block gives the invoice its Invoice Number, then asks
// the cost explorer: every row, in JSON and in CSV, names that invoice (the
// one the Invoices API serves, DESIGN §5.1), not the id derived from the
// organization and month.
func TestInvoiceIDOfAnImportedInvoice(t *testing.T) {
	const (
		org     = "5f00000000000000000000a1"
		number  = "6650aa0000000000000000b7" // the file's Invoice Number
		orgName = "Imported Invoices Inc"
	)
	may := costexplorer.MakeMonth(2025, time.May)
	if number == costexplorer.InvoiceID(org, may) {
		t.Fatal("the Invoice Number must differ from the derived id")
	}
	path := filepath.Join(t.TempDir(), "imported.db")
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	file := "Invoice Number," + number + ",\n" +
		"Billing Period,\"May 1, 2025 - June 1, 2025\",\n" +
		"Organization Name," + orgName + ",\n" +
		"Organization ID," + org + ",\n\n" +
		"Date,Usage Date,Description,Organization Name,Organization ID,Project,Project ID,SKU,Cluster,Amount\n" +
		"05/02/2025,05/01/2025,Atlas AWS Cluster M10," + orgName + "," + org + ",checkout,64a1b2c3d4e5f60718293001,ATLAS_AWS_INSTANCE_M10,orders,$12.50\n" +
		"05/03/2025,05/02/2025,Atlas AWS Cluster M10," + orgName + "," + org + ",search,64a1b2c3d4e5f60718293002,ATLAS_AWS_INSTANCE_M10,index,$7.25\n"
	if _, err := importer.Import(context.Background(), db, "invoice.csv", strings.NewReader(file)); err != nil {
		t.Fatalf("import: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	e := newEnv(t, options{path: path, noDemo: true})
	id, secret := e.ServiceAccount(e.t, org, nil, costexplorer.RoleOrgBillingReadOnly)
	e.bearer = e.accessToken(id, secret)
	if inv, err := e.DB.Invoice(context.Background(), []string{org}, number); err != nil || inv.Month != may {
		t.Fatalf("the store's invoice %s: %+v, %v", number, inv, err)
	}

	for _, body := range []string{
		`{"startDate":"2025-05-01","endDate":"2025-06-01"}`,
		`{"startDate":"2025-05-01","endDate":"2025-06-01","groupBy":"organizations","organizations":["` + org + `"]}`,
		`{"startDate":"2025-05-01","endDate":"2025-06-01","groupBy":"services","services":["Clusters"]}`,
	} {
		tok := e.create(org, body)
		var env struct{ Content costexplorer.Result }
		e.waitReady(org, tok).json(t, &env)
		rows := env.Content.UsageDetails
		if len(rows) == 0 {
			t.Fatalf("%s: no rows", body)
		}
		for _, r := range rows {
			if r.InvoiceID != number {
				t.Errorf("%s: row %+v names invoice %s, want the Invoice Number %s", body, r, r.InvoiceID, number)
			}
		}

		req := e.apiRequest("GET", usagePath(org)+"/"+tok, "")
		req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+csv")
		res := e.do(req)
		if res.status != http.StatusOK {
			t.Fatalf("%s as CSV: %d %s", body, res.status, res.body)
		}
		records, err := csv.NewReader(strings.NewReader(string(res.body))).ReadAll()
		if err != nil || len(records) != len(rows)+1 || records[0][1] != "Invoice Id" {
			t.Fatalf("%s as CSV: %v\n%s", body, err, res.body)
		}
		for _, rec := range records[1:] {
			if rec[1] != number {
				t.Errorf("%s as CSV: row %q names invoice %s, want %s", body, rec, rec[1], number)
			}
		}
	}
}
