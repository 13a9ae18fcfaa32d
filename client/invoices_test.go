package client_test

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer/client"
)

// TestInvoicesPaging checks that the iterator walks every page and yields
// exactly what one large page holds, in the same order.
func TestInvoicesPaging(t *testing.T) {
	s := shared
	c, cnt := newClient(t, s, client.WithDigest(s.PublicKey, s.PrivateKey))
	ctx := t.Context()
	one, err := c.Invoices(ctx, s.Org, client.InvoiceListOptions{ItemsPerPage: 500})
	if err != nil {
		t.Fatal(err)
	}
	if len(one.Results) < 3 || one.TotalCount != len(one.Results) || one.HasNext() {
		t.Fatalf("one page: %d invoices, totalCount %d, next %v; want every invoice", len(one.Results), one.TotalCount, one.HasNext())
	}
	var ids []string
	for inv, err := range c.AllInvoices(ctx, s.Org, client.InvoiceListOptions{ItemsPerPage: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, inv.ID)
	}
	for i, inv := range one.Results {
		if i >= len(ids) || ids[i] != inv.ID {
			t.Fatalf("iterated %v, want the ids of the one page in order", ids)
		}
	}
	if len(ids) != len(one.Results) {
		t.Errorf("iterated %d invoices, want %d", len(ids), len(one.Results))
	}
	// The Digest challenge, one page of every invoice, then pages of 2.
	if got, want := cnt.count("GET "+client.InvoicesPath(s.Org, "")), 2+(len(one.Results)+1)/2; got != want {
		t.Errorf("list requests = %d, want %d (a challenge, one page of %d, then pages of 2)", got, want, len(one.Results))
	}

	asc, err := c.Invoices(ctx, s.Org, client.InvoiceListOptions{
		SortBy: client.SortByStartDate, OrderBy: client.OrderAsc, HideLinkedInvoices: true,
		FromDate: one.Results[len(one.Results)-1].StartDate, ToDate: one.Results[1].EndDate, OmitCount: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(asc.Results) != len(one.Results)-1 || asc.Results[0].ID != one.Results[len(one.Results)-1].ID || asc.TotalCount != 0 {
		t.Errorf("ascending, dates bounded: %d invoices starting %s, count %d", len(asc.Results), asc.Results[0].ID, asc.TotalCount)
	}
	for _, inv := range asc.Results {
		if len(inv.LinkedInvoices) != 0 {
			t.Errorf("invoice %s has linked invoices with viewLinkedInvoices=false", inv.ID)
		}
	}
}

// TestInvoiceAmountsAndDownloads checks one invoice through every
// operation: its amounts are the sums of its items to the cent, the
// streamed read and the search see the same items, and the CSV streams.
func TestInvoiceAmountsAndDownloads(t *testing.T) {
	s := shared
	c, _ := newClient(t, s, client.WithServiceAccount(s.ClientID, s.ClientSecret))
	ctx := t.Context()
	page, err := c.Invoices(ctx, s.Org, client.InvoiceListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	meta := page.Results[1]
	inv, err := c.Invoice(ctx, s.Org, meta.ID)
	if err != nil {
		t.Fatal(err)
	}
	var sum client.Cents
	for _, li := range inv.LineItems {
		sum += li.TotalPrice
	}
	if len(inv.LineItems) == 0 || sum != inv.Subtotal-inv.Credits || inv.AmountBilled != meta.AmountBilled {
		t.Errorf("%d items sum to %s; subtotal %s, credits %s, billed %s (listed %s)",
			len(inv.LineItems), sum, inv.Subtotal, inv.Credits, inv.AmountBilled, meta.AmountBilled)
	}

	var streamed int
	var streamedSum client.Cents
	head, err := c.StreamInvoice(ctx, s.Org, meta.ID, func(li *client.LineItem) error {
		streamed++
		streamedSum += li.TotalPrice
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if streamed != len(inv.LineItems) || streamedSum != sum || head.AmountBilled != inv.AmountBilled || len(head.LineItems) != 0 ||
		len(head.LinkedInvoices) != len(inv.LinkedInvoices) {
		t.Errorf("streamed %d items (%s), head %+v; want %d items (%s)", streamed, streamedSum, head, len(inv.LineItems), sum)
	}

	var nonZero int
	for _, li := range inv.LineItems {
		if li.TotalPrice != 0 {
			nonZero++
		}
	}
	var searched int
	var searchedSum client.Cents
	for li, err := range c.AllLineItems(ctx, s.Org, meta.ID, client.LineItemQuery{}, client.PageOptions{ItemsPerPage: 500}) {
		if err != nil {
			t.Fatal(err)
		}
		searched++
		searchedSum += li.TotalPrice
	}
	if searched != nonZero || searchedSum != sum {
		t.Errorf("search found %d items (%s), want the %d non-zero ones (%s)", searched, searchedSum, nonZero, sum)
	}

	var csv bytes.Buffer
	n, err := c.InvoiceCSV(ctx, s.Org, meta.ID, &csv)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(csv.Len()) || !strings.HasPrefix(csv.String(), "Invoice Number,"+meta.ID+",\n") {
		t.Errorf("CSV of %d bytes starts %.80q", n, csv.String())
	}
	if rows := strings.Count(csv.String(), "\n"); rows != 6+len(inv.LineItems) {
		t.Errorf("CSV has %d lines, want the 6 of the summary and header plus %d items", rows, len(inv.LineItems))
	}
}

func TestPendingInvoicesAndSKUs(t *testing.T) {
	s := shared
	c, _ := newClient(t, s, client.WithDigest(s.PublicKey, s.PrivateKey))
	ctx := t.Context()
	pending, err := c.PendingInvoices(ctx, s.Org)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || pending[0].StatusName != client.InvoicePending || len(pending[0].LineItems) == 0 {
		t.Errorf("pending = %d invoices, want this month's, PENDING, with its items", len(pending))
	}

	first, err := c.SKUs(ctx, client.PageOptions{ItemsPerPage: 7})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for sku, err := range c.AllSKUs(ctx, client.PageOptions{ItemsPerPage: 7}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if sku.ID == "" || sku.Description == "" {
			t.Errorf("SKU %+v lacks an id or a description", sku)
		}
	}
	if n != first.TotalCount || n <= 7 {
		t.Errorf("iterated %d SKUs, totalCount %d: want several pages of 7, all of them", n, first.TotalCount)
	}
	sku, err := c.SKU(ctx, first.Results[0].ID)
	if err != nil || *sku != first.Results[0] {
		t.Errorf("SKU(%s) = %+v, %v", first.Results[0].ID, sku, err)
	}
}

// TestInvoiceErrors checks that a foreign invoice id is as unknown as a
// missing one, and that every operation reports errors as *APIError.
func TestInvoiceErrors(t *testing.T) {
	s := shared
	c, _ := newClient(t, s, client.WithDigest(s.PublicKey, s.PrivateKey))
	ctx := t.Context()
	other := s.Layout.Others[0].ID
	owner, secret := s.APIKey(t, other, nil, "ORG_OWNER")
	oc, _ := newClient(t, s, client.WithDigest(owner.PublicKey, secret))
	foreign, err := oc.Invoices(ctx, other, client.InvoiceListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(foreign.Results) == 0 {
		t.Fatal("the other organization has no invoices")
	}
	missing := strings.Repeat("0", 24)
	var bodies [][]byte
	for _, id := range []string{foreign.Results[0].ID, missing} {
		_, err := c.Invoice(ctx, s.Org, id)
		var ae *client.APIError
		if !errors.As(err, &ae) || ae.StatusCode != http.StatusNotFound || ae.ErrorCode != "RESOURCE_NOT_FOUND" {
			t.Fatalf("Invoice(%s) err = %v, want 404 RESOURCE_NOT_FOUND", id, err)
		}
		bodies = append(bodies, bytes.ReplaceAll(ae.Body, []byte(id), []byte("ID")))
	}
	if !bytes.Equal(bodies[0], bodies[1]) {
		t.Errorf("a foreign invoice answers\n%s\na missing one\n%s", bodies[0], bodies[1])
	}

	tests := []struct {
		name string
		call func() error
		code string
	}{
		{"CSVUnknown", func() error { _, err := c.InvoiceCSV(ctx, s.Org, missing, &bytes.Buffer{}); return err }, "RESOURCE_NOT_FOUND"},
		{"StreamUnknown", func() error { _, err := c.StreamInvoice(ctx, s.Org, missing, nil); return err }, "RESOURCE_NOT_FOUND"},
		{"SearchBadCluster", func() error {
			_, err := c.SearchLineItems(ctx, s.Org, foreign.Results[0].ID, client.LineItemQuery{ClusterIDs: []string{"nope"}}, client.PageOptions{})
			return err
		}, ""},
		{"ListBadStatus", func() error {
			_, err := c.Invoices(ctx, s.Org, client.InvoiceListOptions{StatusNames: []client.InvoiceStatus{"LATE"}})
			return err
		}, "INVALID_QUERY_PARAMETER"},
		{"SKUUnknown", func() error { _, err := c.SKU(ctx, "NOPE"); return err }, "RESOURCE_NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ae *client.APIError
			if err := tt.call(); !errors.As(err, &ae) || ae.StatusCode < 400 || ae.StatusCode > 499 || (tt.code != "" && ae.ErrorCode != tt.code) {
				t.Errorf("err = %v, want a 4xx *APIError %s", err, tt.code)
			}
		})
	}
}
