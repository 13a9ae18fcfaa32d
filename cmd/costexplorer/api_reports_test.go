package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/client"
)

// TestAPIInvoiceReports runs the invoice reports operations from the
// command line and through the client package against a demo server: the
// CLI prints the server's bodies as received, the client's WaitInvoiceReport
// sees the report succeed, and DownloadInvoiceReport fetches a whole gzip
// FOCUS CSV through the signed URL, without credentials.
func TestAPIInvoiceReports(t *testing.T) {
	s := startCLIServer(t)
	env := s.env()
	org := s.creds.OrgID
	inv := costexplorer.InvoiceID(org, costexplorer.MonthOf(cliNow)-1)
	const body = `{"reportType":"FOCUS","reportFormat":"CSV","formatSpecVersion":"1.2"}`
	const json25 = "application/vnd.atlas.2025-03-12+json"

	create := runCLI(t, env, body, "api", "invoices", "createInvoiceReport", "--invoiceId", inv)
	var rep client.InvoiceReport
	if create.code != 0 || json.Unmarshal([]byte(create.stdout), &rep) != nil || rep.State != "PENDING" || rep.FormatSpecVersion != "1.2" {
		t.Fatalf("createInvoiceReport: exit %d, %q %s", create.code, create.stdout, create.stderr)
	}

	c, err := client.New(s.URL, client.WithDigest(s.creds.PublicKey, s.creds.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	done, err := c.WaitInvoiceReport(t.Context(), org, inv, rep.ReportID, 20*time.Millisecond)
	if err != nil || done.State != "SUCCEEDED" || done.DownloadURL == "" || done.ExpiresAt.IsZero() {
		t.Fatalf("WaitInvoiceReport = %+v, %v", done, err)
	}
	for _, alias := range []string{"getInvoiceReport", "getOrgInvoiceReport"} {
		r := runCLI(t, env, "", "api", "invoices", alias, "--invoiceId", inv, "--reportId", rep.ReportID)
		_, raw := s.rawFetch(t, "GET", client.InvoiceReportsPath(org, inv, rep.ReportID), json25, nil)
		if r.code != 0 || r.stdout != string(raw) {
			t.Errorf("%s: exit %d, %q; the server answers %q", alias, r.code, r.stdout, raw)
		}
	}
	for _, alias := range []string{"listInvoiceReports", "listOrgInvoiceReports"} {
		r := runCLI(t, env, "", "api", "invoices", alias, "--invoiceId", inv, "--itemsPerPage", "5")
		_, raw := s.rawFetch(t, "GET", client.InvoiceReportsPath(org, inv, "")+"?itemsPerPage=5", json25, nil)
		if r.code != 0 || r.stdout != string(raw) || !strings.Contains(r.stdout, rep.ReportID) {
			t.Errorf("%s: exit %d, %q; the server answers %q", alias, r.code, r.stdout, raw)
		}
	}
	page, err := c.InvoiceReports(t.Context(), org, inv, client.PageOptions{})
	if err != nil || len(page.Results) != 1 || page.Results[0].ReportID != rep.ReportID || page.Results[0].DownloadURL != "" {
		t.Fatalf("InvoiceReports = %+v, %v", page, err)
	}

	var file bytes.Buffer
	n, err := c.DownloadInvoiceReport(t.Context(), done.DownloadURL, &file)
	if err != nil || n != int64(file.Len()) {
		t.Fatalf("DownloadInvoiceReport: %d, %v", n, err)
	}
	zr, err := gzip.NewReader(&file)
	if err != nil {
		t.Fatal(err)
	}
	csv, err := io.ReadAll(zr)
	if err != nil || !bytes.HasPrefix(csv, []byte("BilledCost,BillingAccountId,")) || bytes.Contains(csv[:bytes.IndexByte(csv, '\n')], []byte("ContractApplied")) {
		t.Fatalf("downloaded %d bytes (%v), want a FOCUS 1.2 CSV: %.200s", len(csv), err, csv)
	}

	// A bad request is the server's 400, printed, with a failing exit status.
	bad := runCLI(t, env, `{"reportType":"FOCUS","reportFormat":"XLSX"}`, "api", "invoices", "createInvoiceReport", "--invoiceId", inv)
	if bad.code == 0 || !strings.Contains(bad.stdout+bad.stderr, "INVALID_ENUM_VALUE") {
		t.Errorf("bad format: exit %d, %q %q", bad.code, bad.stdout, bad.stderr)
	}
	if _, err := c.CreateInvoiceReport(t.Context(), org, strings.Repeat("0", 24), client.InvoiceReportRequest{ReportType: "FOCUS", ReportFormat: "CSV"}); err == nil {
		t.Error("CreateInvoiceReport of an unknown invoice succeeded")
	}
}

// TestAPIGenerateInvoiceReportAndAssociatedInvoices runs the preview
// generateInvoiceReport and getOrgAssociatedInvoices from the command line:
// the gzip file reaches standard output or --output byte for byte as the
// client receives it, the associated invoices print as the server answers
// them (at 2025-03-12 and, with --version preview, at the preview), and
// refusals are the server's errors with a failing exit status and no file.
func TestAPIGenerateInvoiceReportAndAssociatedInvoices(t *testing.T) {
	s := startCLIServer(t)
	env := s.env()
	org := s.creds.OrgID
	inv := costexplorer.InvoiceID(org, costexplorer.MonthOf(cliNow)-1)
	c, err := client.New(s.URL, client.WithDigest(s.creds.PublicKey, s.creds.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if _, err := c.GenerateInvoiceReport(t.Context(), org, inv, client.ReportGenerationRequest{Version: "1.2"}, &want); err != nil {
		t.Fatal(err)
	}
	for _, alias := range []string{"generateInvoiceReport", "generateOrgInvoiceAndDownloadReport"} {
		r := runCLI(t, env, `{"version":"1.2"}`, "api", "invoices", alias, "--invoiceId", inv)
		if r.code != 0 || r.stdout != want.String() {
			t.Errorf("%s: exit %d, %d bytes (want %d) %s", alias, r.code, len(r.stdout), want.Len(), r.stderr)
		}
	}
	dir := t.TempDir()
	body, out := filepath.Join(dir, "body.json"), filepath.Join(dir, "report.csv.gz")
	if err := os.WriteFile(body, []byte(`{"reportType":"FOCUS","reportFormat":"CSV","version":"1.2"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, env, "", "api", "invoices", "generateInvoiceReport", "--invoiceId", inv, "--file", body, "--output", out)
	if got, err := os.ReadFile(out); r.code != 0 || r.stdout != "" || err != nil || !bytes.Equal(got, want.Bytes()) {
		t.Errorf("--output: exit %d %q %s; file %d bytes, %v", r.code, r.stdout, r.stderr, len(got), err)
	}
	bad := filepath.Join(dir, "bad.csv.gz")
	r = runCLI(t, env, `{"version":"2.0"}`, "api", "invoices", "generateInvoiceReport", "--invoiceId", inv, "--output", bad)
	if _, err := os.Stat(bad); r.code == 0 || !strings.Contains(r.stderr, "VALIDATION_ERROR") || err == nil {
		t.Errorf("bad version: exit %d %q; file %v", r.code, r.stderr, err)
	}
	r = runCLI(t, env, `{}`, "api", "invoices", "generateInvoiceReport", "--invoiceId", strings.Repeat("0", 24))
	if r.code == 0 || !strings.Contains(r.stderr, "RESOURCE_NOT_FOUND") || r.stdout != "" {
		t.Errorf("unknown invoice: exit %d %q %q", r.code, r.stdout, r.stderr)
	}

	path := client.AssociatedInvoicesPath(org) + "?includeLinkedOrgs=true&month=5&year=2025"
	for _, v := range []string{"2025-03-12", "preview"} {
		args := []string{"api", "invoices", "getOrgAssociatedInvoices", "--month", "5", "--year", "2025", "--includeLinkedOrgs", "true"}
		if v == "preview" {
			args = append(args, "--version", "preview")
		}
		r := runCLI(t, env, "", args...)
		_, raw := s.rawFetch(t, "GET", path, "application/vnd.atlas."+v+"+json", nil)
		if r.code != 0 || r.stdout != string(raw) || !strings.Contains(r.stdout, costexplorer.InvoiceID(org, costexplorer.MonthOf(cliNow)-1)) {
			t.Errorf("getOrgAssociatedInvoices at %s: exit %d %q %s; the server answers %q", v, r.code, r.stdout, r.stderr, raw)
		}
	}
	r = runCLI(t, env, "", "api", "invoices", "getOrgAssociatedInvoices", "--month", "13")
	if r.code == 0 || !strings.Contains(r.stderr, "INVALID_QUERY_PARAMETER") {
		t.Errorf("month 13: exit %d %q", r.code, r.stderr)
	}
}
