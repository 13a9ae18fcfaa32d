package storetest

import (
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
)

// testSourceStamps: a restatement that carries its source's Created and
// Updated stamps (a sync) leaves the invoice with exactly those, whatever
// the ingest moved; one without keeps the store's own.
func testSourceStamps(t *testing.T, open Opener) {
	f := newRestatedFixture(t, open)
	created := time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	updated := time.Date(2025, 4, 14, 6, 30, 0, 250000000, time.UTC)
	b := f.replace(f.new)
	org, month := f.new[0].OrgID, f.new[0].Month()
	b.Invoices = []costexplorer.Invoice{{ID: f.invoice, OrgID: org, Month: month, Created: created, Updated: updated}}
	ingest(t, f.s, b)
	inv, err := f.s.Invoice(t.Context(), []string{org}, f.invoice)
	must(t, err)
	if !inv.Created.Equal(created) || !inv.Updated.Equal(updated) {
		t.Fatalf("stamps created %s, updated %s; want the source's %s, %s", inv.Created, inv.Updated, created, updated)
	}
	// Without stamps, the next restatement moves updated by the store's
	// clock again.
	ingest(t, f.s, f.replace(f.old))
	inv, err = f.s.Invoice(t.Context(), []string{org}, f.invoice)
	must(t, err)
	if inv.Updated.Equal(updated) || !inv.Created.Equal(created) {
		t.Fatalf("after a restatement without stamps: created %s, updated %s", inv.Created, inv.Updated)
	}
	verify(t, f.s)
}
