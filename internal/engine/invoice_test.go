package engine

import (
	"context"
	"testing"

	"github.com/costexplorer/costexplorer"
)

// Invoices imported with their Atlas Invoice Number, or synced, keep that id
// (DESIGN §5.1): the cost explorer's invoiceId must name the same invoice as
// the Invoices API, never the id derived from the organization and month.

var (
	importedMay = costexplorer.DeriveID("engine test", "Invoice Number of Paying Corp, May")
	syncedJune  = costexplorer.DeriveID("engine test", "synced invoice of Linked Labs, June")
)

// exampleWithInvoices is the example batch with Paying Corp's May imported
// from an invoice file (its items name the invoice) and Linked Labs' June
// named by the batch's invoice metadata, as a sync records it.
func exampleWithInvoices() *costexplorer.UsageBatch {
	b := exampleBatch()
	for i := range b.Items {
		if li := &b.Items[i]; li.OrgID == orgP.ID && li.Month() == may {
			li.InvoiceID = importedMay
		}
	}
	b.Invoices = []costexplorer.Invoice{{ID: syncedJune, OrgID: orgL.ID, Month: june}}
	return b
}

// wantInvoice is the invoice id of org's month in the example with invoices.
func wantInvoice(orgID string, m costexplorer.Month) string {
	switch {
	case orgID == orgP.ID && m == may:
		return importedMay
	case orgID == orgL.ID && m == june:
		return syncedJune
	}
	return costexplorer.InvoiceID(orgID, m)
}

func TestInvoiceIDIsTheStoresInvoice(t *testing.T) {
	st := newTestStore(t)
	ingest(t, st, exampleWithInvoices())
	e := New(st, Options{})
	for _, gb := range []costexplorer.GroupBy{
		costexplorer.GroupByOrganizations, costexplorer.GroupByProjects, costexplorer.GroupByClusters, costexplorer.GroupByServices, "",
	} {
		// The organization and service views read the per-service table,
		// the others the cells: both carry the store's ids.
		rows, err := e.Evaluate(t.Context(), &costexplorer.Query{OrgID: orgP.ID, Start: may, End: july, GroupBy: gb, IncludePartialMatches: true})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, r := range rows {
			m := may
			if r.UsageDate == june.Date() {
				m = june
			}
			if want := wantInvoice(r.OrganizationID, m); r.InvoiceID != want {
				t.Errorf("groupBy %q: %s %s row names invoice %s, want %s", gb, r.OrganizationName, r.UsageDate, r.InvoiceID, want)
			}
			seen[r.InvoiceID] = true
			// The invoice the row names is the one the Invoices API
			// serves for that organization and month.
			inv, err := st.(costexplorer.InvoiceStore).Invoice(t.Context(), []string{r.OrganizationID}, r.InvoiceID)
			if err != nil {
				t.Fatalf("groupBy %q: %s %s row's invoice %s: %v", gb, r.OrganizationName, r.UsageDate, r.InvoiceID, err)
			}
			if inv.Month.Date() != r.UsageDate {
				t.Errorf("groupBy %q: invoice %s is of %s, the row of %s", gb, inv.ID, inv.Month, r.UsageDate)
			}
		}
		if !seen[importedMay] || !seen[syncedJune] {
			t.Errorf("groupBy %q: rows %s name neither the imported nor the synced invoice", gb, dump(rows))
		}
	}
}

func TestInvoiceIDOfNewDataIsRead(t *testing.T) {
	st := newTestStore(t)
	ingest(t, st, exampleBatch())
	e := New(st, Options{})
	q := &costexplorer.Query{OrgID: orgU.ID, Start: may, End: july + 1, GroupBy: costexplorer.GroupByOrganizations}
	before, err := e.Evaluate(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	// Unlinked Inc's July arrives from an invoice file: the data version
	// moves, and the rebuilt snapshot names the file's invoice.
	imported := costexplorer.DeriveID("engine test", "Invoice Number of Unlinked Inc, July")
	ingest(t, st, &costexplorer.UsageBatch{Items: []costexplorer.LineItem{{
		ID: costexplorer.NewLineItemID("example", "july"), InvoiceID: imported, OrgID: orgU.ID, ProjectID: projDelta.ID,
		ClusterID: clusDelta.ID, Service: costexplorer.ServiceClusters, SKU: "ATLAS_AWS_INSTANCE_M10",
		Date: costexplorer.DayOf(july.Start()), Quantity: 1, Unit: "units", Amount: 123,
	}}})
	after, err := e.Evaluate(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != 1 || len(after) != 2 {
		t.Fatalf("rows before %s\nafter %s\nwant May, then May and July", dump(before), dump(after))
	}
	if after[0].InvoiceID != costexplorer.InvoiceID(orgU.ID, may) || after[1].InvoiceID != imported {
		t.Errorf("invoices %s and %s, want the derived %s and the imported %s",
			after[0].InvoiceID, after[1].InvoiceID, costexplorer.InvoiceID(orgU.ID, may), imported)
	}
}

func TestInvoiceIDIsDerivedWhenTheSourceHasNoInvoice(t *testing.T) {
	given := costexplorer.DeriveID("engine test", "the one invoice the source has")
	src := &memSource{
		version: 1,
		orgs:    []*costexplorer.Organization{&orgU},
		rollup: []costexplorer.RollupRow{
			{Month: may, OrgID: orgU.ID, Service: costexplorer.ServiceSupport, Amount: 100},
			{Month: june, OrgID: orgU.ID, Service: costexplorer.ServiceSupport, Amount: 200},
		},
		invoices: []costexplorer.InvoiceRef{
			{OrgID: orgU.ID, Month: may, ID: given},
			{OrgID: orgU.ID, Month: july, ID: costexplorer.DeriveID("engine test", "an invoice without usage")},
			{OrgID: hexID('f', 1), Month: may, ID: costexplorer.DeriveID("engine test", "an organization the engine does not know")},
		},
	}
	rows, err := New(src, Options{}).Evaluate(context.Background(), &costexplorer.Query{OrgID: orgU.ID, Start: may, End: july + 1, GroupBy: costexplorer.GroupByServices})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].InvoiceID != given || rows[1].InvoiceID != costexplorer.InvoiceID(orgU.ID, june) {
		t.Errorf("rows %s: want May in the source's invoice %s, June (no invoice in the source) in the derived %s",
			dump(rows), given, costexplorer.InvoiceID(orgU.ID, june))
	}
}
