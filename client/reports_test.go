package client_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/client"
)

// TestGenerateInvoiceReport generates an invoice's FOCUS report through the
// preview: the file arrives whole, gzip-compressed, with the columns of the
// version asked for; a bad version and an unknown invoice are APIErrors.
func TestGenerateInvoiceReport(t *testing.T) {
	s := shared
	c, _ := newClient(t, s, client.WithServiceAccount(s.ClientID, s.ClientSecret))
	inv := costexplorer.InvoiceID(s.Org, costexplorer.MonthOf(s.Clock.Now())-1)
	header := func(req client.ReportGenerationRequest) string {
		t.Helper()
		var file bytes.Buffer
		n, err := c.GenerateInvoiceReport(t.Context(), s.Org, inv, req, &file)
		if err != nil || n != int64(file.Len()) {
			t.Fatalf("GenerateInvoiceReport(%+v) = %d, %v", req, n, err)
		}
		zr, err := gzip.NewReader(&file)
		if err != nil {
			t.Fatal(err)
		}
		csv, err := io.ReadAll(zr)
		if err != nil || bytes.Count(csv, []byte("\r\n")) < 2 {
			t.Fatalf("generated %d bytes (%v): %.200s", len(csv), err, csv)
		}
		h, _, _ := strings.Cut(string(csv), "\r\n")
		return h
	}
	if h := header(client.ReportGenerationRequest{}); !strings.HasPrefix(h, "BilledCost,BillingAccountId,") || !strings.Contains(h, "ContractApplied") {
		t.Errorf("default header %q, want FOCUS 1.3", h)
	}
	if h := header(client.ReportGenerationRequest{ReportType: "FOCUS", ReportFormat: "CSV", Version: "1.2"}); strings.Contains(h, "ContractApplied") {
		t.Errorf("1.2 header %q has a 1.3 column", h)
	}

	var apiErr *client.APIError
	_, err := c.GenerateInvoiceReport(t.Context(), s.Org, inv, client.ReportGenerationRequest{Version: "0.5"}, io.Discard)
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.ErrorCode != "VALIDATION_ERROR" {
		t.Errorf("unsupported version: %v", err)
	}
	_, err = c.GenerateInvoiceReport(t.Context(), s.Org, strings.Repeat("0", 24), client.ReportGenerationRequest{}, io.Discard)
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.ErrorCode != "RESOURCE_NOT_FOUND" {
		t.Errorf("unknown invoice: %v", err)
	}
}

// TestAssociatedInvoices reads a month's associated invoices of the paying
// organization, with and without its linked organizations (its owner's API
// key may see them), and a month out of bounds.
func TestAssociatedInvoices(t *testing.T) {
	s := shared
	c, _ := newClient(t, s, client.WithDigest(s.PublicKey, s.PrivateKey))
	m := costexplorer.MonthOf(s.Clock.Now()) - 1
	opts := client.AssociatedInvoicesOptions{Month: int(m.Num()), Year: m.Year()}
	own, err := c.AssociatedInvoices(t.Context(), s.Org, opts)
	if err != nil || len(own.AssociatedInvoices) != 1 || own.AssociatedInvoices[0].InvoiceID != costexplorer.InvoiceID(s.Org, m) ||
		own.Year != m.String()[:4] || own.Month != m.String()[5:] {
		t.Fatalf("AssociatedInvoices(%+v) = %+v, %v", opts, own, err)
	}
	opts.IncludeLinkedOrgs = true
	all, err := c.AssociatedInvoices(t.Context(), s.Org, opts)
	if err != nil || len(all.AssociatedInvoices) != 1+len(s.Layout.Linked) {
		t.Fatalf("with linked organizations: %+v, %v", all, err)
	}
	now, err := c.AssociatedInvoices(t.Context(), s.Org, client.AssociatedInvoicesOptions{})
	if cur := costexplorer.MonthOf(s.Clock.Now()); err != nil || now.Month != cur.String()[5:] {
		t.Errorf("current month: %+v, %v", now, err)
	}
	var apiErr *client.APIError
	_, err = c.AssociatedInvoices(t.Context(), s.Org, client.AssociatedInvoicesOptions{Year: 1999})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.ErrorCode != "INVALID_QUERY_PARAMETER" {
		t.Errorf("year 1999: %v", err)
	}
}
