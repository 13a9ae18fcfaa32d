package storetest

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
)

// invoiceFixture is a store holding four months (January to April 2025) of
// three organizations, the first paying for the other two, ingested in
// overlapping batches, with tags that change every month, details,
// discounts and bill days on some items.
type invoiceFixture struct {
	s      costexplorer.Store
	d      *Dataset
	items  map[costexplorer.LineItemID]costexplorer.LineItem // as sent, InvoiceID set
	paying string
	linked []string // in id order
	months []costexplorer.Month
}

var (
	fixtureStart = costexplorer.DayOf(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	// fixtureNow is mid-April 2025: April is pending, the months before are
	// issued.
	fixtureNow = time.Date(2025, 4, 15, 12, 0, 0, 0, time.UTC)
)

// decorate gives items what an invoice shows of them: the tags of their
// cluster or project in their month, details, and on some a discount or a
// later bill day.
func decorate(items []costexplorer.LineItem) {
	teams := []string{"payments", "search", "platform"}
	for i := range items {
		li := &items[i]
		m := int(li.Month())
		switch {
		case li.ClusterID != "":
			li.Tags = costexplorer.MustTags(map[string][]string{
				"team":        {teams[(int(li.ClusterID[23])+m)%3]},
				"environment": {[]string{"production", "staging"}[m%2]},
			})
			li.Region, li.ReplicaSet, li.Description = "US_EAST_1", "atlas-"+li.ClusterID[:6]+"-shard-0", "Instance "+li.SKU
		case li.ProjectID != "":
			li.Tags = costexplorer.MustTags(map[string][]string{"cost-center": {fmt.Sprintf("cc-%d", m%4)}})
			li.Application = "app-" + li.ProjectID[:4]
		}
		if i%7 == 3 && li.Amount > 0 {
			li.DiscountPercent, li.Discount = 10, li.Amount/9
		}
		switch {
		case i%11 == 5:
			li.BillDate = li.Date + 1
			li.Note = "billed a day late, \"quoted\""
		case i%13 == 6:
			// Billed before the usage day, and billed on it as an invoice
			// CSV states: the bill-date order places each before or
			// among the items of its bill day.
			li.BillDate = li.Date - 1
		case i%13 == 7:
			li.BillDate = li.Date
		}
	}
}

func newInvoiceFixture(t *testing.T, open Opener) *invoiceFixture {
	t.Helper()
	s := open(t)
	d := NewDataset(23, Shape{Orgs: 3, ProjectsPerOrg: 2, ClustersPerProject: 2, Start: fixtureStart, Days: 120})
	dims := d.Dimensions()
	dims.Organizations = slices.Clone(dims.Organizations)
	f := &invoiceFixture{s: s, d: d, items: map[costexplorer.LineItemID]costexplorer.LineItem{}, paying: d.Orgs[0].ID}
	for i := 1; i < 3; i++ {
		dims.Organizations[i].PayingOrgID = f.paying
		f.linked = append(f.linked, d.Orgs[i].ID)
	}
	slices.Sort(f.linked)
	_, err := s.IngestUsage(t.Context(), dims)
	must(t, err)
	all := d.All()
	decorate(all)
	// Overlapping batches: each repeats the end of the one before.
	for start, n := 0, 0; start < len(all); start += n {
		n = 700 + start%500
		from := max(0, start-150)
		_, err := s.IngestUsage(t.Context(), &costexplorer.UsageBatch{Items: slices.Clone(all[from:min(start+n, len(all))])})
		must(t, err)
	}
	for _, li := range all {
		li.InvoiceID = li.Invoice()
		f.items[li.ID] = li
		if !slices.Contains(f.months, li.Month()) {
			f.months = append(f.months, li.Month())
		}
	}
	slices.Sort(f.months)
	return f
}

// sums returns the amounts of the items of org in month m.
func (f *invoiceFixture) sums(org string, m costexplorer.Month) (a costexplorer.InvoiceAmounts, n int) {
	for _, li := range f.items {
		if li.OrgID == org && li.Month() == m {
			a.Add(li.Amount)
			n++
		}
	}
	return a, n
}

func invoiceMonths(invs []*costexplorer.Invoice) []string {
	var out []string
	for _, inv := range invs {
		out = append(out, inv.OrgID[20:]+"/"+inv.Month.String())
	}
	return out
}

func testInvoices(t *testing.T, open Opener) {
	t.Run("AmountsEqualTheItemsAfterSeveralBatches", func(t *testing.T) {
		f := newInvoiceFixture(t, open)
		if len(f.months) != 4 {
			t.Fatalf("fixture spans %v, want four months", f.months)
		}
		for _, o := range f.d.Orgs {
			for _, m := range f.months {
				want, n := f.sums(o.ID, m)
				inv, err := f.s.Invoice(t.Context(), []string{o.ID}, costexplorer.InvoiceID(o.ID, m))
				must(t, err)
				if n == 0 || inv.Amounts != want || inv.OrgID != o.ID || inv.Month != m {
					t.Errorf("%s: org %s %s amounts %+v, want %+v (%d items)", inv, inv.OrgID, inv.Month, inv.Amounts, want, n)
				}
				if inv.Created.IsZero() || inv.Updated.Before(inv.Created) {
					t.Errorf("%s: created %v, updated %v", inv, inv.Created, inv.Updated)
				}
			}
		}
		verify(t, f.s)
	})

	t.Run("SumsByProjectAndServiceEqualTheItems", func(t *testing.T) {
		f := newInvoiceFixture(t, open)
		names := map[string]string{}
		for _, p := range f.d.Projects {
			names[p.ID] = p.Name
		}
		for _, o := range f.d.Orgs {
			for _, m := range f.months {
				id := costexplorer.InvoiceID(o.ID, m)
				sums := map[costexplorer.InvoiceSum]costexplorer.Cents{}
				for _, li := range f.items {
					if li.OrgID == o.ID && li.Month() == m {
						sums[costexplorer.InvoiceSum{ProjectID: li.ProjectID, ProjectName: names[li.ProjectID], Service: li.Service}] += li.Amount
					}
				}
				var want []costexplorer.InvoiceSum
				for k, v := range sums {
					k.Amount = v
					want = append(want, k)
				}
				slices.SortFunc(want, func(a, b costexplorer.InvoiceSum) int {
					return cmp.Or(cmp.Compare(a.ProjectID, b.ProjectID), cmp.Compare(a.Service, b.Service))
				})
				got, err := f.s.InvoiceSums(t.Context(), id)
				must(t, err)
				if len(want) < 2 || !slices.Equal(got, want) {
					t.Errorf("invoice %s sums\n%v\nwant\n%v", id, got, want)
				}
			}
		}
	})

	t.Run("ForeignUnknownAndMalformedIdsAreNotFoundAlike", func(t *testing.T) {
		f := newInvoiceFixture(t, open)
		own := costexplorer.InvoiceID(f.paying, f.months[0])
		foreign := costexplorer.InvoiceID(f.linked[0], f.months[0])
		for _, id := range []string{foreign, costexplorer.DeriveID("no such invoice"), "not-an-id", ""} {
			_, err := f.s.Invoice(t.Context(), []string{f.paying}, id)
			wantCode(t, err, costexplorer.ErrNotFound)
		}
		// A caller who may see several organizations sees each one's.
		for _, id := range []string{own, foreign} {
			_, err := f.s.Invoice(t.Context(), []string{f.paying, f.linked[0]}, id)
			must(t, err)
		}
		_, err := f.s.Invoice(t.Context(), nil, own)
		wantCode(t, err, costexplorer.ErrNotFound)
		// What an unknown invoice holds is nothing.
		unknown := costexplorer.DeriveID("no such invoice")
		sums, err := f.s.InvoiceSums(t.Context(), unknown)
		must(t, err)
		keys, err := f.s.InvoiceTagKeys(t.Context(), unknown)
		must(t, err)
		if len(sums) != 0 || len(keys) != 0 {
			t.Errorf("unknown invoice: sums %v, tag keys %v", sums, keys)
		}
	})

	t.Run("ListSortsFiltersAndPages", func(t *testing.T) {
		f := newInvoiceFixture(t, open)
		org := f.paying[20:]
		list := func(q *costexplorer.InvoiceListQuery) ([]string, int) {
			t.Helper()
			q.OrgID = f.paying
			if q.Page.ItemsPerPage == 0 {
				q.Page = costexplorer.DefaultPage()
			}
			q.SortBy = cmp.Or(q.SortBy, costexplorer.InvoiceSortEndDate)
			q.OrderBy = cmp.Or(q.OrderBy, costexplorer.SortDesc)
			invs, total, err := f.s.Invoices(t.Context(), q, fixtureNow)
			must(t, err)
			return invoiceMonths(invs), total
		}
		day := func(s string) *costexplorer.Day {
			tm, err := time.Parse(time.DateOnly, s)
			must(t, err)
			d := costexplorer.DayOf(tm)
			return &d
		}
		for _, c := range []struct {
			name  string
			q     costexplorer.InvoiceListQuery
			want  []string
			total int
		}{
			{"default: newest first", costexplorer.InvoiceListQuery{}, []string{org + "/2025-04", org + "/2025-03", org + "/2025-02", org + "/2025-01"}, 4},
			{"ascending by start", costexplorer.InvoiceListQuery{SortBy: costexplorer.InvoiceSortStartDate, OrderBy: costexplorer.SortAsc},
				[]string{org + "/2025-01", org + "/2025-02", org + "/2025-03", org + "/2025-04"}, 4},
			{"second page of two", costexplorer.InvoiceListQuery{Page: costexplorer.PageRequest{ItemsPerPage: 2, PageNum: 2, IncludeCount: true}},
				[]string{org + "/2025-02", org + "/2025-01"}, 4},
			{"page past the end", costexplorer.InvoiceListQuery{Page: costexplorer.PageRequest{ItemsPerPage: 3, PageNum: 5, IncludeCount: true}}, nil, 4},
			{"from February", costexplorer.InvoiceListQuery{From: day("2025-02-01")}, []string{org + "/2025-04", org + "/2025-03", org + "/2025-02"}, 3},
			{"to April 1st includes March", costexplorer.InvoiceListQuery{To: day("2025-04-01")}, []string{org + "/2025-03", org + "/2025-02", org + "/2025-01"}, 3},
			{"pending on the 15th of April", costexplorer.InvoiceListQuery{Statuses: []costexplorer.InvoiceStatus{costexplorer.InvoicePending}}, []string{org + "/2025-04"}, 1},
			{"invoiced", costexplorer.InvoiceListQuery{Statuses: []costexplorer.InvoiceStatus{costexplorer.InvoiceInvoiced, costexplorer.InvoiceFree}},
				[]string{org + "/2025-03", org + "/2025-02", org + "/2025-01"}, 3},
			{"paid: none yet", costexplorer.InvoiceListQuery{Statuses: []costexplorer.InvoiceStatus{costexplorer.InvoicePaid}}, nil, 0},
		} {
			got, total := list(&c.q)
			if !slices.Equal(got, c.want) || total != c.total {
				t.Errorf("%s: %v (total %d), want %v (total %d)", c.name, got, total, c.want, c.total)
			}
		}
		invs, total, err := f.s.Invoices(t.Context(), &costexplorer.InvoiceListQuery{OrgID: costexplorer.DeriveID("nobody"),
			SortBy: costexplorer.InvoiceSortEndDate, OrderBy: costexplorer.SortDesc, Page: costexplorer.DefaultPage()}, fixtureNow)
		must(t, err)
		if len(invs) != 0 || total != 0 {
			t.Errorf("unknown organization: %d invoices, total %d", len(invs), total)
		}
	})

	t.Run("StatusesFollowRecordedMetadataAndPayments", func(t *testing.T) {
		f := newInvoiceFixture(t, open)
		jan, feb := f.months[0], f.months[1]
		janInv, err := f.s.Invoice(t.Context(), []string{f.paying}, costexplorer.InvoiceID(f.paying, jan))
		must(t, err)
		paidAt := fixtureNow.Add(-20 * 24 * time.Hour).Truncate(time.Second)
		pay := costexplorer.Payment{ID: costexplorer.DeriveID("payment", "jan"), Created: paidAt, Updated: paidAt, Status: costexplorer.PaymentPaid,
			Currency: "USD", UnitPrice: "1.00", Subtotal: janInv.Subtotal(), AmountBilled: janInv.AmountBilled() + 123, AmountPaid: janInv.AmountBilled() + 123}
		meta := []costexplorer.Invoice{
			{ID: janInv.ID, OrgID: f.paying, Month: jan, SalesTax: 123, StartingBalance: -500, Payments: []costexplorer.Payment{pay},
				Refunds: []costexplorer.Refund{{PaymentID: pay.ID, Amount: 100, Created: paidAt.Add(time.Hour), Reason: "goodwill"}}},
			{ID: costexplorer.InvoiceID(f.paying, feb), OrgID: f.paying, Month: feb, RecordedStatus: costexplorer.InvoiceFailed},
		}
		_, err = f.s.IngestUsage(t.Context(), &costexplorer.UsageBatch{Invoices: meta})
		must(t, err)
		got, err := f.s.Invoice(t.Context(), []string{f.paying}, janInv.ID)
		must(t, err)
		if got.SalesTax != 123 || got.StartingBalance != -500 || got.Amounts != janInv.Amounts ||
			len(got.Payments) != 1 || !got.Payments[0].Created.Equal(paidAt) || got.Payments[0].AmountPaid != pay.AmountPaid || got.Payments[0].Status != costexplorer.PaymentPaid ||
			len(got.Refunds) != 1 || got.Refunds[0].Reason != "goodwill" || got.Refunds[0].Amount != 100 || got.Refunds[0].PaymentID != pay.ID {
			t.Fatalf("recorded invoice = %+v", got)
		}
		if !got.Updated.After(janInv.Updated) {
			t.Errorf("updated %v did not move past %v when payments were recorded", got.Updated, janInv.Updated)
		}
		if st := got.StatusAt(fixtureNow); st != costexplorer.InvoicePaid {
			t.Errorf("January with its payment is %s, want PAID", st)
		}
		// Recording the same metadata again changes nothing, not even updated.
		version := dataVersion(t, f.s)
		_, err = f.s.IngestUsage(t.Context(), &costexplorer.UsageBatch{Invoices: meta})
		must(t, err)
		again, err := f.s.Invoice(t.Context(), []string{f.paying}, janInv.ID)
		must(t, err)
		if !again.Updated.Equal(got.Updated) || dataVersion(t, f.s) != version {
			t.Errorf("re-recording the same metadata moved updated (%v → %v) or the data version", got.Updated, again.Updated)
		}
		q := &costexplorer.InvoiceListQuery{OrgID: f.paying, SortBy: costexplorer.InvoiceSortEndDate, OrderBy: costexplorer.SortAsc, Page: costexplorer.DefaultPage(),
			Statuses: []costexplorer.InvoiceStatus{costexplorer.InvoicePaid, costexplorer.InvoiceFailed}}
		invs, total, err := f.s.Invoices(t.Context(), q, fixtureNow)
		must(t, err)
		if got := invoiceMonths(invs); total != 2 || !slices.Equal(got, []string{f.paying[20:] + "/2025-01", f.paying[20:] + "/2025-02"}) {
			t.Errorf("PAID or FAILED: %v (total %d)", got, total)
		}
		// Metadata naming another id than the stored invoice's is refused.
		bad := meta[1]
		bad.ID = costexplorer.DeriveID("another invoice")
		_, err = f.s.IngestUsage(t.Context(), &costexplorer.UsageBatch{Invoices: []costexplorer.Invoice{bad}})
		wantCode(t, err, costexplorer.ErrConflict)
		// Metadata may create an invoice before its items, with the id it names.
		may := costexplorer.MakeMonth(2025, 5)
		mayID := costexplorer.DeriveID("atlas invoice number", "may")
		_, err = f.s.IngestUsage(t.Context(), &costexplorer.UsageBatch{Invoices: []costexplorer.Invoice{{ID: mayID, OrgID: f.paying, Month: may}}})
		must(t, err)
		var li costexplorer.LineItem
		for _, id := range slices.SortedFunc(maps.Keys(f.items), func(a, b costexplorer.LineItemID) int { return bytes.Compare(a[:], b[:]) }) {
			if li = f.items[id]; li.OrgID == f.paying {
				break
			}
		}
		li.ID, li.Date, li.InvoiceID, li.Amount = costexplorer.NewLineItemID("may item"), monthDay(may, 3), "", 4200
		_, err = f.s.IngestUsage(t.Context(), &costexplorer.UsageBatch{Items: []costexplorer.LineItem{li}})
		must(t, err)
		mayInv, err := f.s.Invoice(t.Context(), []string{f.paying}, mayID)
		must(t, err)
		if mayInv.Amounts.Charges != 4200 {
			t.Errorf("May's invoice, created by its metadata, has charges %s after its first item, want 42.00", mayInv.Amounts.Charges)
		}
		// An invoice id that is another month's invoice cannot name a new one.
		_, err = f.s.IngestUsage(t.Context(), &costexplorer.UsageBatch{Invoices: []costexplorer.Invoice{{ID: mayID, OrgID: f.paying, Month: may + 1}}})
		wantCode(t, err, costexplorer.ErrConflict)
		verify(t, f.s)
	})

	t.Run("UpdatedMovesWhenItemsArrive", func(t *testing.T) {
		f := newInvoiceFixture(t, open)
		id := costexplorer.InvoiceID(f.paying, f.months[3])
		before, err := f.s.Invoice(t.Context(), []string{f.paying}, id)
		must(t, err)
		li := costexplorer.LineItem{ID: costexplorer.NewLineItemID("late credit"), OrgID: f.paying, Service: costexplorer.Service("Credits"),
			SKU: "CREDIT", Unit: "credits", Date: monthDay(f.months[3], 20), Quantity: 1, Amount: -250}
		_, err = f.s.IngestUsage(t.Context(), &costexplorer.UsageBatch{Items: []costexplorer.LineItem{li}})
		must(t, err)
		after, err := f.s.Invoice(t.Context(), []string{f.paying}, id)
		must(t, err)
		if !after.Updated.After(before.Updated) || after.Amounts.Credits != before.Amounts.Credits+250 || after.Amounts.Charges != before.Amounts.Charges {
			t.Errorf("after a credit: %+v, before: %+v", after, before)
		}
		// Re-ingesting it changes nothing.
		_, err = f.s.IngestUsage(t.Context(), &costexplorer.UsageBatch{Items: []costexplorer.LineItem{li}})
		must(t, err)
		again, err := f.s.Invoice(t.Context(), []string{f.paying}, id)
		must(t, err)
		if again.Amounts != after.Amounts || !again.Updated.Equal(after.Updated) {
			t.Errorf("a duplicate moved the invoice: %+v, was %+v", again, after)
		}
	})

	t.Run("LinkedInvoicesOfAPayingOrganization", func(t *testing.T) {
		f := newInvoiceFixture(t, open)
		m := f.months[2]
		inv, err := f.s.Invoice(t.Context(), []string{f.paying}, costexplorer.InvoiceID(f.paying, m))
		must(t, err)
		wantLinked := func(what string, inv *costexplorer.Invoice) {
			t.Helper()
			var got []string
			for _, l := range inv.Linked {
				if want, _ := f.sums(l.OrgID, l.Month); l.Month != inv.Month || l.Amounts != want {
					t.Errorf("%s: linked %s of %s has %+v, want %s and %+v", what, l, l.Month, l.Amounts, inv.Month, want)
				}
				got = append(got, l.OrgID)
			}
			if !slices.Equal(got, f.linked) {
				t.Errorf("%s: linked organizations %v, want %v", what, got, f.linked)
			}
		}
		wantLinked("Invoice", inv)
		q := &costexplorer.InvoiceListQuery{OrgID: f.paying, ViewLinkedInvoices: true, SortBy: costexplorer.InvoiceSortEndDate, OrderBy: costexplorer.SortDesc, Page: costexplorer.DefaultPage()}
		invs, _, err := f.s.Invoices(t.Context(), q, fixtureNow)
		must(t, err)
		for _, inv := range invs {
			wantLinked("Invoices "+inv.Month.String(), inv)
		}
		q.ViewLinkedInvoices = false
		invs, _, err = f.s.Invoices(t.Context(), q, fixtureNow)
		must(t, err)
		for _, inv := range invs {
			if len(inv.Linked) != 0 {
				t.Errorf("viewLinkedInvoices=false: %s has %d linked invoices", inv, len(inv.Linked))
			}
		}
		own, err := f.s.Invoice(t.Context(), []string{f.linked[0]}, costexplorer.InvoiceID(f.linked[0], m))
		must(t, err)
		if len(own.Linked) != 0 {
			t.Errorf("a linked organization's invoice lists %d linked invoices", len(own.Linked))
		}
		pending, err := f.s.PendingInvoice(t.Context(), f.paying, fixtureNow)
		must(t, err)
		wantLinked("PendingInvoice", pending)
	})

	t.Run("PendingInvoiceIsTheCurrentMonths", func(t *testing.T) {
		f := newInvoiceFixture(t, open)
		inv, err := f.s.PendingInvoice(t.Context(), f.linked[1], fixtureNow)
		must(t, err)
		if inv.Month != costexplorer.MonthOf(fixtureNow) || inv.OrgID != f.linked[1] {
			t.Errorf("pending invoice %s of %s %s, want April's of %s", inv, inv.OrgID, inv.Month, f.linked[1])
		}
		_, err = f.s.PendingInvoice(t.Context(), f.linked[1], fixtureNow.AddDate(0, 2, 0))
		wantCode(t, err, costexplorer.ErrNotFound)
		_, err = f.s.PendingInvoice(t.Context(), costexplorer.DeriveID("nobody"), fixtureNow)
		wantCode(t, err, costexplorer.ErrNotFound)
	})

	t.Run("LinesStreamEveryItemInAStableOrder", func(t *testing.T) {
		f := newInvoiceFixture(t, open)
		org, m := f.d.Orgs[1], f.months[1]
		names := map[string]string{}
		for _, p := range f.d.Projects {
			names[p.ID] = p.Name
		}
		for _, c := range f.d.Clusters {
			names[c.ID] = c.Name
		}
		stream := func() []costexplorer.InvoiceLine {
			var out []costexplorer.InvoiceLine
			must(t, f.s.InvoiceLines(t.Context(), costexplorer.InvoiceID(org.ID, m), func(l *costexplorer.InvoiceLine) error {
				out = append(out, *l)
				return nil
			}))
			return out
		}
		lines := stream()
		_, n := f.sums(org.ID, m)
		if len(lines) != n || n == 0 {
			t.Fatalf("%d lines streamed, want %d", len(lines), n)
		}
		for _, l := range lines {
			if want := f.items[l.ID]; l.LineItem != want || l.OrgName != org.Name || l.ProjectName != names[l.ProjectID] || l.ClusterName != names[l.ClusterID] {
				t.Fatalf("line %+v, want %+v with names %q %q %q", l, want, org.Name, names[l.ProjectID], names[l.ClusterID])
			}
		}
		// Grouped by project and cluster, each group by day then id.
		seen := map[[2]string]bool{}
		for i, l := range lines {
			g := [2]string{l.ProjectID, l.ClusterID}
			if i > 0 {
				p := lines[i-1]
				if pg := [2]string{p.ProjectID, p.ClusterID}; pg != g {
					if seen[g] {
						t.Fatalf("line %d: the items of project %q cluster %q are not together", i, l.ProjectID, l.ClusterID)
					}
				} else if cmp.Or(cmp.Compare(p.Date, l.Date), bytes.Compare(p.ID[:], l.ID[:])) >= 0 {
					t.Fatalf("line %d: %s %s after %s %s", i, l.Date, l.ID, p.Date, p.ID)
				}
			}
			seen[g] = true
		}
		if again := stream(); !slices.Equal(again, lines) {
			t.Error("a second stream of the invoice differs from the first")
		}
		sentinel := fmt.Errorf("stop")
		calls := 0
		err := f.s.InvoiceLines(t.Context(), costexplorer.InvoiceID(org.ID, m), func(*costexplorer.InvoiceLine) error { calls++; return sentinel })
		if calls != 1 || err == nil {
			t.Errorf("an error of fn: %d calls, error %v; want 1 call and the error", calls, err)
		}
		must(t, f.s.InvoiceLines(t.Context(), costexplorer.DeriveID("no such invoice"), func(*costexplorer.InvoiceLine) error {
			t.Fatal("an unknown invoice streamed a line")
			return nil
		}))
	})

	t.Run("TagsDetailsAndDiscountsRoundTrip", func(t *testing.T) {
		f := newInvoiceFixture(t, open)
		stored := lineItems(t, f.s)
		var tagged, discounted, late int
		for id, want := range f.items {
			if got := stored[id]; got != want {
				t.Fatalf("stored %+v, want %+v", got, want)
			}
			tagged += b2i(!want.Tags.IsZero())
			discounted += b2i(want.Discount > 0)
			late += b2i(want.BillDate != 0)
		}
		if tagged == 0 || discounted == 0 || late == 0 {
			t.Fatalf("fixture has %d tagged, %d discounted, %d late-billed items; want some of each", tagged, discounted, late)
		}
		// Tags are as they were on the usage day: a cluster's team differs
		// from one month to the next.
		teams := map[string]bool{}
		for _, li := range f.items {
			if li.ClusterID == f.d.Clusters[0].ID {
				teams[li.Tags.Values("team")[0]] = true
			}
		}
		if len(teams) < 2 {
			t.Errorf("cluster 0 carried teams %v over four months, want its history", teams)
		}
		for _, m := range f.months {
			keys, err := f.s.InvoiceTagKeys(t.Context(), costexplorer.InvoiceID(f.paying, m))
			must(t, err)
			if want := []string{"cost-center", "environment", "team"}; !slices.Equal(keys, want) {
				t.Errorf("%s: tag keys %v, want %v", m, keys, want)
			}
		}
	})

	t.Run("SearchFiltersSortsAndPages", func(t *testing.T) {
		f := newInvoiceFixture(t, open)
		org, m := f.d.Orgs[2], f.months[2]
		invoiceID := costexplorer.InvoiceID(org.ID, m)
		var mine []costexplorer.LineItem
		var orgClusters, orgProjects []string
		for _, li := range f.items {
			if li.OrgID == org.ID && li.Month() == m {
				mine = append(mine, li)
			}
		}
		for _, p := range f.d.Projects {
			if p.OrgID == org.ID {
				orgProjects = append(orgProjects, p.ID)
			}
		}
		for _, c := range f.d.Clusters {
			if slices.Contains(orgProjects, c.ProjectID) {
				orgClusters = append(orgClusters, c.ID)
			}
		}
		day := func(n int) *costexplorer.Day { d := monthDay(m, n); return &d }
		sorted := func(ids ...string) []string { return slices.Sorted(slices.Values(ids)) }
		searches := []costexplorer.LineItemSearch{
			{},
			{IncludeZeroCents: true, SortField: costexplorer.SortUsageDates, SortOrder: costexplorer.SortAscending},
			{ClusterIDs: sorted(orgClusters[1]), SortField: costexplorer.SortTotalPriceCents, SortOrder: costexplorer.SortDescending},
			{ClusterIDs: sorted(orgClusters[0], f.d.Clusters[0].ID), SortField: costexplorer.SortTotalPriceCents, SortOrder: costexplorer.SortAscending},
			{GroupIDs: sorted(orgProjects[0]), Services: []costexplorer.Service{"Backup", "Storage"}},
			{UsageStart: day(5), UsageEnd: day(9), SortField: costexplorer.SortBillDates, SortOrder: costexplorer.SortAscending},
			{BillStart: day(10), BillEnd: day(10), IncludeZeroCents: true},
			{GroupIDs: sorted(f.d.Projects[0].ID)}, // another organization's project: nothing
			{Services: []costexplorer.Service{"Support", "Credits"}},
			// Filters of keys only, counted from the invoice's item counts.
			{ClusterIDs: sorted(orgClusters[2]), Services: []costexplorer.Service{"Clusters", "Backup"}, IncludeZeroCents: true},
			{GroupIDs: sorted(orgProjects...), ClusterIDs: sorted(orgClusters[0], orgClusters[3])},
		}
		for i, s := range searches {
			s.SortField = cmp.Or(s.SortField, costexplorer.SortBillDates)
			s.SortOrder = cmp.Or(s.SortOrder, costexplorer.SortDescending)
			var want []costexplorer.LineItem
			for _, li := range mine {
				if s.Matches(&li) {
					want = append(want, li)
				}
			}
			slices.SortFunc(want, func(a, b costexplorer.LineItem) int { return s.Compare(&a, &b) })
			if i != 7 && len(want) == 0 {
				t.Fatalf("search %d matches nothing in the fixture", i)
			}
			for _, page := range []costexplorer.PageRequest{{ItemsPerPage: 500, PageNum: 1, IncludeCount: true}, {ItemsPerPage: 7, PageNum: 2, IncludeCount: true}, {ItemsPerPage: 3, PageNum: 1}, {ItemsPerPage: 5, PageNum: 9}} {
				lines, total, err := f.s.SearchLineItems(t.Context(), invoiceID, &s, page)
				must(t, err)
				off := min(page.Offset(), len(want))
				wantPage := want[off:min(off+page.ItemsPerPage, len(want))]
				wantTotal := len(want)
				if !page.IncludeCount {
					wantTotal = 0
				}
				if total != wantTotal || len(lines) != len(wantPage) {
					t.Fatalf("search %d %+v page %+v: %d lines, total %d; want %d, total %d", i, s, page, len(lines), total, len(wantPage), wantTotal)
				}
				for j, l := range lines {
					if l.LineItem != wantPage[j] || l.OrgName != org.Name {
						t.Fatalf("search %d page %+v line %d = %+v, want %+v", i, page, j, l.LineItem, wantPage[j])
					}
				}
			}
		}
		lines, total, err := f.s.SearchLineItems(t.Context(), costexplorer.DeriveID("no such invoice"), &costexplorer.LineItemSearch{}, costexplorer.DefaultPage())
		must(t, err)
		if len(lines) != 0 || total != 0 {
			t.Errorf("unknown invoice: %d lines, total %d", len(lines), total)
		}
	})
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// monthDay returns day n (1-based) of m.
func monthDay(m costexplorer.Month, n int) costexplorer.Day {
	return costexplorer.DayOf(m.Start()) + costexplorer.Day(n-1)
}
