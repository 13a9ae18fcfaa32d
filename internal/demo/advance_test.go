package demo

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/sqlite"
)

// demoState is what the tests compare of a demo store: every line item with
// every field, the rollup, and every invoice of every organization (amounts,
// status on the data's day, payments, tag columns), to the cent.
type demoState struct {
	items    map[costexplorer.LineItemID]string
	rollup   map[string]costexplorer.Cents
	invoices []string
}

func takeState(t *testing.T, db *sqlite.DB, cfg Config) demoState {
	t.Helper()
	ctx := context.Background()
	st := demoState{items: map[costexplorer.LineItemID]string{}, rollup: map[string]costexplorer.Cents{}}
	if err := db.ScanLineItems(ctx, func(li *costexplorer.LineItem) error {
		st.items[li.ID] = fmt.Sprintf("%+v", *li)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.ScanRollup(ctx, func(r *costexplorer.RollupRow) error {
		st.rollup[fmt.Sprint(r.Month, r.OrgID, r.ProjectID, r.ClusterID, r.Service)] = r.Amount
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	l := Describe(cfg)
	for _, o := range append(append([]costexplorer.Organization{l.PayingOrg}, l.Linked...), l.Others...) {
		invs, _, err := db.Invoices(ctx, &costexplorer.InvoiceListQuery{OrgID: o.ID, Page: costexplorer.PageRequest{ItemsPerPage: 500, PageNum: 1}}, cfg.Now)
		if err != nil {
			t.Fatal(err)
		}
		for _, inv := range invs {
			keys, err := db.InvoiceTagKeys(ctx, inv.ID)
			if err != nil {
				t.Fatal(err)
			}
			st.invoices = append(st.invoices, fmt.Sprintf("%s %s %s %s charges %s credits %s payments %+v tags %q",
				inv.ID, inv.OrgID, inv.Month, inv.StatusAt(cfg.Now), inv.Amounts.Charges, inv.Amounts.Credits, inv.Payments, keys))
		}
	}
	slices.Sort(st.invoices)
	return st
}

func sameState(t *testing.T, what string, got, want demoState) {
	t.Helper()
	if len(got.items) != len(want.items) {
		t.Fatalf("%s: %d line items, a fresh demo has %d", what, len(got.items), len(want.items))
	}
	for id, w := range want.items {
		if g := got.items[id]; g != w {
			t.Fatalf("%s: line item %s\n%s\na fresh demo has\n%s", what, id, g, w)
		}
	}
	if len(got.rollup) != len(want.rollup) {
		t.Fatalf("%s: %d rollup cells, a fresh demo has %d", what, len(got.rollup), len(want.rollup))
	}
	for k, w := range want.rollup {
		if g, ok := got.rollup[k]; !ok || g != w {
			t.Fatalf("%s: rollup cell %s = %s (present %v), a fresh demo has %s", what, k, g, ok, w)
		}
	}
	if !slices.Equal(got.invoices, want.invoices) {
		for i := range min(len(got.invoices), len(want.invoices)) {
			if got.invoices[i] != want.invoices[i] {
				t.Fatalf("%s: invoice\n%s\na fresh demo has\n%s", what, got.invoices[i], want.invoices[i])
			}
		}
		t.Fatalf("%s: %d invoices, a fresh demo has %d", what, len(got.invoices), len(want.invoices))
	}
}

func verifyClean(t *testing.T, db *sqlite.DB) {
	t.Helper()
	if problems, err := db.Verify(context.Background()); err != nil || len(problems) > 0 {
		t.Fatalf("Verify: %v %q", err, problems)
	}
}

// TestAdvance_EqualsAFreshDemoOfTheNewDay advances a demo store day by day,
// across a month end and then by a few weeks at once, and compares it after
// every step with a fresh demo of the same world generated as of that day:
// answer for answer, to the cent. It is what makes a sync from a moving demo
// a test of the sync: the source changes as Atlas does, yet is always the
// demo of its day.
func TestAdvance_EqualsAFreshDemoOfTheNewDay(t *testing.T) {
	ctx := context.Background()
	anchor := time.Date(2025, 3, 28, 10, 0, 0, 0, time.UTC)
	world := Config{Seed: 42, LineItems: 20_000, Months: 4, Anchor: anchor, BatchSize: 3000}
	at := func(day time.Time) Config { c := world; c.Now = day; return c }

	db := openSQLite(t)
	ingest(t, db, at(anchor))
	before := takeState(t, db, at(anchor))
	for _, day := range []time.Time{
		anchor.AddDate(0, 0, 1), // the first day past the anchor: nothing provisional before it
		anchor.AddDate(0, 0, 2), // restates the day before
		anchor.AddDate(0, 0, 3), // March 31st
		anchor.AddDate(0, 0, 4), // April 1st: March closes, April opens
		anchor.AddDate(0, 0, 5),
		anchor.AddDate(0, 0, 26), // three weeks at once
	} {
		res, err := Advance(ctx, db, at(day))
		if err != nil {
			t.Fatalf("advance to %s: %v", day.Format(time.DateOnly), err)
		}
		what := fmt.Sprintf("advanced from %s to %s", res.From, res.To)
		t.Logf("%s: %d invoices replaced, %d items inserted, %d removed, %d alike", what, res.Invoices, res.Inserted, res.Removed, res.Duplicates)
		if res.Inserted == 0 {
			t.Fatalf("%s: no item inserted", what)
		}
		if res.From > costexplorer.DayOf(anchor) && res.Removed == 0 {
			t.Fatalf("%s: no provisional day restated", what)
		}
		if res.To.Month() > res.From.Month() {
			// The month that ended closes and the new one is pending.
			pay := Describe(at(day)).PayingOrg.ID
			pending, err := db.PendingInvoice(ctx, pay, day)
			if err != nil || pending.Month != res.To.Month() {
				t.Fatalf("%s: pending invoice %v, %v; want %s's", what, pending, err, res.To.Month())
			}
			closed, err := db.Invoice(ctx, []string{pay}, costexplorer.InvoiceID(pay, res.From.Month()))
			if err != nil || closed.StatusAt(day) != costexplorer.InvoiceClosed {
				t.Fatalf("%s: %s's invoice %v, %v; want it closed", what, res.From.Month(), closed, err)
			}
		}
		verifyClean(t, db)
		fresh := openSQLite(t)
		ingest(t, fresh, at(day))
		sameState(t, what, takeState(t, db, at(day)), takeState(t, fresh, at(day)))
	}

	// The items of the anchor's day and before are as they were: past the
	// anchor, only provisional days are restated.
	after := takeState(t, db, at(anchor))
	for id, li := range before.items {
		if after.items[id] != li {
			t.Fatalf("line item %s changed: %s, now %s", id, li, after.items[id])
		}
	}

	// Advancing to the same day again changes nothing; going back is refused.
	now := at(anchor.AddDate(0, 0, 26))
	v, err := db.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Advance(ctx, db, now)
	if err != nil || res.Inserted != 0 || res.Removed != 0 || res.DataVersion != v {
		t.Fatalf("advance to the same day: %+v, %v; want nothing changed (version %d)", res, err, v)
	}
	if _, err := Advance(ctx, db, at(anchor.AddDate(0, 0, 2))); costexplorer.ErrorCode(err) != costexplorer.ErrValidation {
		t.Fatalf("advance back: %v, want a validation error", err)
	}
}
