package storetest

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
)

// testInvoiceIDs specifies InvoiceIDs, the (organization, month, id) list
// the cost explorer names its rows' invoiceId from: an invoice keeps the id
// it was created with, whether the items named it (an imported Invoice
// Number), the batch's metadata named it (a sync), or it was derived.
func testInvoiceIDs(t *testing.T, open Opener) {
	t.Run("EmptyStoreHasNone", func(t *testing.T) {
		refs, err := open(t).InvoiceIDs(t.Context())
		must(t, err)
		if len(refs) != 0 {
			t.Errorf("InvoiceIDs of an empty store = %v", refs)
		}
	})

	t.Run("EveryInvoiceWithTheIdItWasCreatedWith", func(t *testing.T) {
		s := open(t)
		jan := costexplorer.MakeMonth(2025, time.January)
		d := NewDataset(31, Shape{Orgs: 3, ProjectsPerOrg: 1, ClustersPerProject: 1, Start: costexplorer.DayOf(jan.Start()), Days: 59})
		o0, o1, o2 := d.Orgs[0].ID, d.Orgs[1].ID, d.Orgs[2].ID
		var (
			imported = costexplorer.DeriveID("storetest", "Invoice Number")
			synced   = costexplorer.DeriveID("storetest", "synced invoice")
			noItems  = costexplorer.DeriveID("storetest", "invoice without items")
		)
		all := d.All()
		// o0's January arrives first as an invoice file with its Invoice
		// Number, but only half of it; the rest comes later in the bare
		// layout, whose items name the derived id, and joins the same
		// invoice.
		var first, later []costexplorer.LineItem
		for i, li := range all {
			switch {
			case li.OrgID == o0 && li.Month() == jan && i%2 == 0:
				li.InvoiceID = imported
				first = append(first, li)
			case li.OrgID == o0 && li.Month() == jan:
				li.InvoiceID = li.Invoice()
				later = append(later, li)
			default:
				first = append(first, li)
			}
		}
		if len(later) == 0 {
			t.Fatal("the dataset gives organization 0 no January items")
		}
		b := withItems(d, first)
		b.Invoices = []costexplorer.Invoice{
			{ID: synced, OrgID: o1, Month: jan + 1},
			{ID: noItems, OrgID: o2, Month: jan + 3},
		}
		_, err := s.IngestUsage(t.Context(), b)
		must(t, err)
		_, err = s.IngestUsage(t.Context(), &costexplorer.UsageBatch{Items: later})
		must(t, err)

		want := []costexplorer.InvoiceRef{
			{OrgID: o0, Month: jan, ID: imported},
			{OrgID: o0, Month: jan + 1, ID: costexplorer.InvoiceID(o0, jan+1)},
			{OrgID: o1, Month: jan, ID: costexplorer.InvoiceID(o1, jan)},
			{OrgID: o1, Month: jan + 1, ID: synced},
			{OrgID: o2, Month: jan, ID: costexplorer.InvoiceID(o2, jan)},
			{OrgID: o2, Month: jan + 1, ID: costexplorer.InvoiceID(o2, jan+1)},
			{OrgID: o2, Month: jan + 3, ID: noItems},
		}
		slices.SortFunc(want, func(a, b costexplorer.InvoiceRef) int {
			return cmp.Or(cmp.Compare(a.OrgID, b.OrgID), cmp.Compare(a.Month, b.Month))
		})
		got, err := s.InvoiceIDs(t.Context())
		must(t, err)
		if !slices.Equal(got, want) {
			t.Fatalf("InvoiceIDs:\n got %v\nwant %v", got, want)
		}
		// Each is the id the Invoices API answers for that organization and
		// month.
		for _, r := range got {
			inv, err := s.Invoice(t.Context(), []string{r.OrgID}, r.ID)
			must(t, err)
			if inv.OrgID != r.OrgID || inv.Month != r.Month {
				t.Errorf("%s: Invoice answers organization %s, %s; InvoiceIDs says %s, %s", r.ID, inv.OrgID, inv.Month, r.OrgID, r.Month)
			}
		}
		verify(t, s)
	})
}
