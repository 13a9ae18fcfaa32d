package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
)

// Restatement (UsageBatch.ReplaceInvoices): a sync replaces a pending
// invoice's items every day. These tests hold a store that restated an
// invoice to a store that ingested the new items directly: the same items,
// rollup, totals and invoices, to the cent, and Verify clean.

// restatedFixture is the invoice fixture with the items of the pending
// invoice (organization 0, April 2025) as a source restates them: some
// dropped, some changed (amount, tags), most alike, a new day added.
type restatedFixture struct {
	*invoiceFixture
	invoice        string // the restated invoice
	old, new       []costexplorer.LineItem
	kept, changed  int
	dropped, added int
	others         []costexplorer.LineItem // every item of the other invoices
}

func newRestatedFixture(t *testing.T, open Opener) *restatedFixture {
	t.Helper()
	f := &restatedFixture{invoiceFixture: newInvoiceFixture(t, open)}
	april := costexplorer.MonthOf(fixtureNow)
	for _, li := range f.items {
		if li.OrgID == f.paying && li.Month() == april {
			f.old = append(f.old, li)
		} else {
			f.others = append(f.others, li)
		}
	}
	slices.SortFunc(f.old, func(a, b costexplorer.LineItem) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	f.invoice = f.old[0].InvoiceID
	var last costexplorer.Day
	for i, li := range f.old {
		last = max(last, li.Date)
		switch {
		case i%9 == 4:
			f.dropped++
			continue
		case i%13 == 2:
			li.Amount += 17
			f.changed++
		case i%17 == 6 && !li.Tags.IsZero():
			li.Tags = costexplorer.MustTags(map[string][]string{"team": {"restated"}})
			f.changed++
		default:
			f.kept++
		}
		f.new = append(f.new, li)
	}
	for i, li := range f.old[:40] { // new items (the fixture fills April)
		li.ID = costexplorer.NewLineItemID("restated", fmt.Sprint(i))
		li.Date = last
		f.new = append(f.new, li)
		f.added++
	}
	return f
}

// replace returns the batch that restates the invoice to items.
func (f *restatedFixture) replace(items []costexplorer.LineItem) *costexplorer.UsageBatch {
	return &costexplorer.UsageBatch{ReplaceInvoices: []string{f.invoice}, Items: slices.Clone(items)}
}

// fresh returns a store holding the dimensions, the other invoices' items
// and items, ingested directly.
func (f *restatedFixture) fresh(t *testing.T, open Opener, items []costexplorer.LineItem) costexplorer.Store {
	t.Helper()
	s := open(t)
	b := f.d.Dimensions()
	b.Organizations = slices.Clone(b.Organizations)
	for i := 1; i < len(b.Organizations); i++ {
		b.Organizations[i].PayingOrgID = f.paying
	}
	b.Items = append(slices.Clone(f.others), items...)
	ingest(t, s, b)
	return s
}

// sameAsFresh fails t unless s holds what want does, the restated
// invoice's tag columns included.
func (f *restatedFixture) sameAsFresh(t *testing.T, what string, s, want costexplorer.Store) {
	t.Helper()
	verify(t, s)
	sameSnapshot(t, what, takeSnapshot(t, s, f.d), takeSnapshot(t, want, f.d), false)
	gk, err := s.InvoiceTagKeys(t.Context(), f.invoice)
	must(t, err)
	wk, err := want.InvoiceTagKeys(t.Context(), f.invoice)
	must(t, err)
	if !slices.Equal(gk, wk) {
		t.Fatalf("%s: tag keys %q, want %q", what, gk, wk)
	}
}

func testRestate(t *testing.T, open Opener) {
	t.Run("MovesTheRollupAndTheInvoiceByTheDifference", func(t *testing.T) {
		f := newRestatedFixture(t, open)
		before := dataVersion(t, f.s)
		res := ingest(t, f.s, f.replace(f.new))
		if res.Inserted != f.changed+f.added || res.Removed != f.changed+f.dropped || res.Duplicates != f.kept {
			t.Fatalf("inserted %d, removed %d, duplicates %d; want %d, %d, %d",
				res.Inserted, res.Removed, res.Duplicates, f.changed+f.added, f.changed+f.dropped, f.kept)
		}
		if res.DataVersion == before {
			t.Fatal("the data version did not change")
		}
		f.sameAsFresh(t, "restated", f.s, f.fresh(t, open, f.new))
	})

	t.Run("TheSameReplacementTwiceChangesNothing", func(t *testing.T) {
		f := newRestatedFixture(t, open)
		ingest(t, f.s, f.replace(f.new))
		v := dataVersion(t, f.s)
		snap := takeSnapshot(t, f.s, f.d)
		res := ingest(t, f.s, f.replace(f.new))
		if res.Inserted != 0 || res.Removed != 0 || res.Duplicates != len(f.new) || len(res.Deltas) != 0 || res.DataVersion != v {
			t.Fatalf("again: inserted %d, removed %d, duplicates %d, %d deltas, version %d; want 0, 0, %d, none, %d",
				res.Inserted, res.Removed, res.Duplicates, len(res.Deltas), res.DataVersion, len(f.new), v)
		}
		sameSnapshot(t, "again", takeSnapshot(t, f.s, f.d), snap, true)
		verify(t, f.s)
	})

	t.Run("BackToTheOldItems", func(t *testing.T) {
		f := newRestatedFixture(t, open)
		ingest(t, f.s, f.replace(f.new))
		ingest(t, f.s, f.replace(f.old))
		f.sameAsFresh(t, "restated back", f.s, f.fresh(t, open, f.old))
	})

	t.Run("ReplacingWithNoItemsEmptiesTheInvoice", func(t *testing.T) {
		f := newRestatedFixture(t, open)
		res := ingest(t, f.s, f.replace(nil))
		if res.Removed != len(f.old) || res.Inserted != 0 {
			t.Fatalf("removed %d, inserted %d; want %d, 0", res.Removed, res.Inserted, len(f.old))
		}
		verify(t, f.s)
		got, want := takeSnapshot(t, f.s, f.d), takeSnapshot(t, f.fresh(t, open, nil), f.d)
		// The emptied invoice stays, with nothing on it.
		inv, err := f.s.Invoice(t.Context(), []string{f.paying}, f.invoice)
		must(t, err)
		if inv.Amounts.Charges != 0 || inv.Amounts.Credits != 0 {
			t.Fatalf("emptied invoice: charges %s credits %s", inv.Amounts.Charges, inv.Amounts.Credits)
		}
		got.invoices = slices.DeleteFunc(got.invoices, func(s string) bool { return s[:24] == f.invoice })
		sameSnapshot(t, "emptied", got, want, false)
		keys, err := f.s.InvoiceTagKeys(t.Context(), f.invoice)
		must(t, err)
		if len(keys) != 0 {
			t.Fatalf("emptied invoice has tag keys %q", keys)
		}
	})

	t.Run("ItemsOfAnInvoiceNotListedAreRejected", func(t *testing.T) {
		f := newRestatedFixture(t, open)
		snap := takeSnapshot(t, f.s, f.d)
		b := f.replace(f.new)
		b.Items = append(b.Items, f.others[0])
		_, err := f.s.IngestUsage(t.Context(), b)
		wantCode(t, err, costexplorer.ErrValidation)
		sameSnapshot(t, "after the rejected batch", takeSnapshot(t, f.s, f.d), snap, true)
	})

	t.Run("AFailedBatchChangesNothing", func(t *testing.T) {
		f := newRestatedFixture(t, open)
		snap := takeSnapshot(t, f.s, f.d)
		b := f.replace(f.new)
		b.Items[len(b.Items)-1].ProjectID = costexplorer.DeriveID("no such project")
		b.Synced = []costexplorer.SyncMark{{Source: "src", InvoiceID: f.invoice, Items: len(b.Items)}}
		_, err := f.s.IngestUsage(t.Context(), b)
		wantCode(t, err, costexplorer.ErrValidation)
		sameSnapshot(t, "after the failed batch", takeSnapshot(t, f.s, f.d), snap, true)
		marks, err := f.s.SyncMarks(t.Context(), "src")
		must(t, err)
		if len(marks) != 0 {
			t.Fatalf("a failed batch left marks %+v", marks)
		}
		verify(t, f.s)
	})

	t.Run("AnUnknownInvoiceIsCreatedByItsItems", func(t *testing.T) {
		f := newRestatedFixture(t, open)
		id := costexplorer.DeriveID("a synced invoice")
		items := slices.Clone(f.old[:30])
		for i := range items {
			items[i].ID = costexplorer.NewLineItemID("may", fmt.Sprint(i))
			items[i].Date = monthDay(costexplorer.MonthOf(fixtureNow)+1, 1+i%3)
			items[i].InvoiceID = id
		}
		res := ingest(t, f.s, &costexplorer.UsageBatch{ReplaceInvoices: []string{id}, Items: items})
		if res.Inserted != len(items) || res.Removed != 0 {
			t.Fatalf("inserted %d, removed %d; want %d, 0", res.Inserted, res.Removed, len(items))
		}
		inv, err := f.s.Invoice(t.Context(), []string{f.paying}, id)
		must(t, err)
		var want costexplorer.InvoiceAmounts
		for _, li := range items {
			want.Add(li.Amount)
		}
		if inv.Amounts.Charges != want.Charges || inv.Amounts.Credits != want.Credits {
			t.Fatalf("invoice %s: charges %s credits %s, want %s %s", id, inv.Amounts.Charges, inv.Amounts.Credits, want.Charges, want.Credits)
		}
		verify(t, f.s)
	})

	t.Run("ASessionReplacesAcrossItsChunks", func(t *testing.T) {
		f := newRestatedFixture(t, open)
		sessionStore(t, f.s)
		half := len(f.new) / 2
		// Only the first chunk lists the invoice; the second's items of it
		// replace too, and a later chunk repeating the list is no different.
		chunks := []*costexplorer.UsageBatch{f.replace(f.new[:half]), {Items: slices.Clone(f.new[half:])}, f.replace(f.new[half-5 : half+5])}
		res := runSession(t, f.s, chunks)
		if res.Removed != f.changed+f.dropped {
			t.Fatalf("removed %d, want %d", res.Removed, f.changed+f.dropped)
		}
		f.sameAsFresh(t, "restated in a session", f.s, f.fresh(t, open, f.new))
	})

	t.Run("ASessionCannotListAnInvoiceItAddedToUnlisted", func(t *testing.T) {
		f := newRestatedFixture(t, open)
		snap := takeSnapshot(t, f.s, f.d)
		sess, err := sessionStore(t, f.s).BeginUsage(t.Context())
		must(t, err)
		defer sess.Rollback()
		must(t, sess.Add(t.Context(), &costexplorer.UsageBatch{Items: slices.Clone(f.new[len(f.new)-f.added:])}))
		wantCode(t, sess.Add(t.Context(), f.replace(f.new)), costexplorer.ErrValidation)
		sameSnapshot(t, "after the failed session", takeSnapshot(t, f.s, f.d), snap, true)
	})

	t.Run("AReaderSeesTheInvoiceBeforeOrAfterNeverAMix", func(t *testing.T) {
		f := newRestatedFixture(t, open)
		type view struct {
			rollup  costexplorer.Cents
			charges costexplorer.Cents
		}
		read := func() (view, error) {
			var v view
			err := f.s.ScanRollup(t.Context(), func(r *costexplorer.RollupRow) error {
				v.rollup += r.Amount
				return nil
			})
			if err != nil {
				return v, err
			}
			inv, err := f.s.Invoice(t.Context(), []string{f.paying}, f.invoice)
			if err != nil {
				return v, err
			}
			v.charges = inv.Amounts.Charges
			return v, nil
		}
		oldView, err := read()
		must(t, err)
		ingest(t, f.s, f.replace(f.new))
		newView, err := read()
		must(t, err)
		ingest(t, f.s, f.replace(f.old))
		if oldView == newView {
			t.Fatal("the fixture's restatement changes no total")
		}
		done := make(chan struct{})
		var wg sync.WaitGroup
		var reads atomic.Int64
		var readErr error
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				v, err := read()
				if err != nil {
					readErr = err
					return
				}
				reads.Add(1)
				// Each read is one snapshot: rollup and invoice each equal
				// their old or their new sum.
				if (v.rollup != oldView.rollup && v.rollup != newView.rollup) || (v.charges != oldView.charges && v.charges != newView.charges) {
					readErr = fmt.Errorf("read %+v: neither the old %+v nor the new %+v", v, oldView, newView)
					return
				}
			}
		}()
		// Restate back and forth until the reader has read a few times
		// (a bounded number of restatements).
		var restated int
		for ; restated < 200 && (restated < 8 || reads.Load() < 20); restated++ {
			items := f.new
			if restated%2 == 1 {
				items = f.old
			}
			if _, err := f.s.IngestUsage(t.Context(), f.replace(items)); err != nil {
				close(done)
				wg.Wait()
				t.Fatal(err)
			}
		}
		close(done)
		wg.Wait()
		must(t, readErr)
		if reads.Load() < 20 {
			t.Fatalf("only %d reads during %d restatements", reads.Load(), restated)
		}
		t.Logf("%d reads during %d restatements", reads.Load(), restated)
		verify(t, f.s)
	})

	t.Run("SyncMarks", func(t *testing.T) { testSyncMarks(t, open) })
	t.Run("Leases", func(t *testing.T) { testLeases(t, open) })
}

func testSyncMarks(t *testing.T, open Opener) {
	f := newRestatedFixture(t, open)
	updated := time.Date(2025, 4, 14, 6, 0, 0, 123456000, time.UTC)
	other := costexplorer.DeriveID("another invoice")
	b := f.replace(f.new)
	b.Synced = []costexplorer.SyncMark{
		{Source: "https://a.example/org", InvoiceID: f.invoice, SourceUpdated: updated, Items: len(f.new), SyncedAt: t0},
		{Source: "https://a.example/org", InvoiceID: other, Items: 0, SyncedAt: t0},
		{Source: "https://b.example/org", InvoiceID: f.invoice, Items: 1},
	}
	ingest(t, f.s, b)
	marks, err := f.s.SyncMarks(t.Context(), "https://a.example/org")
	must(t, err)
	want := []costexplorer.SyncMark{b.Synced[0], b.Synced[1]}
	if other < f.invoice {
		want[0], want[1] = want[1], want[0]
	}
	if !sameMarks(marks, want) {
		t.Fatalf("marks %+v, want %+v", marks, want)
	}
	mb, err := f.s.SyncMarks(t.Context(), "https://b.example/org")
	must(t, err)
	if len(mb) != 1 || mb[0].SyncedAt.IsZero() || !mb[0].SourceUpdated.IsZero() {
		t.Fatalf("marks of b %+v: want one, stamped with the store's clock, no source time", mb)
	}

	// A batch of marks alone updates them and leaves the data version.
	v := dataVersion(t, f.s)
	again := costexplorer.SyncMark{Source: "https://a.example/org", InvoiceID: f.invoice, SourceUpdated: updated.Add(time.Hour), Items: 7, SyncedAt: t0.Add(time.Hour)}
	res := ingest(t, f.s, &costexplorer.UsageBatch{Synced: []costexplorer.SyncMark{again}})
	if res.DataVersion != v {
		t.Fatalf("marks alone moved the data version from %d to %d", v, res.DataVersion)
	}
	marks, err = f.s.SyncMarks(t.Context(), "https://a.example/org")
	must(t, err)
	if i := slices.IndexFunc(marks, func(m costexplorer.SyncMark) bool { return m.InvoiceID == f.invoice }); len(marks) != 2 || !sameMarks(marks[i:i+1], []costexplorer.SyncMark{again}) {
		t.Fatalf("after the update: %+v", marks)
	}
	none, err := f.s.SyncMarks(t.Context(), "https://nowhere.example")
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("marks of an unknown source: %+v", none)
	}
	_, err = f.s.IngestUsage(t.Context(), &costexplorer.UsageBatch{Synced: []costexplorer.SyncMark{{Source: "", InvoiceID: f.invoice}}})
	wantCode(t, err, costexplorer.ErrValidation)
	verify(t, f.s)
}

func sameMarks(a, b []costexplorer.SyncMark) bool {
	return slices.EqualFunc(a, b, func(x, y costexplorer.SyncMark) bool {
		return x.Source == y.Source && x.InvoiceID == y.InvoiceID && x.Items == y.Items &&
			x.SourceUpdated.Equal(y.SourceUpdated) && x.SyncedAt.Equal(y.SyncedAt)
	})
}

func testLeases(t *testing.T, open Opener) {
	s := open(t)
	ctx := t.Context()
	acquire := func(name, holder string, ttl time.Duration, want bool) {
		t.Helper()
		got, err := s.AcquireLease(ctx, name, holder, ttl)
		must(t, err)
		if got != want {
			t.Fatalf("AcquireLease(%s, %s) = %v, want %v", name, holder, got, want)
		}
	}
	holder, exp, err := s.Lease(ctx, "sync")
	must(t, err)
	if holder != "" || !exp.IsZero() {
		t.Fatalf("a lease never taken: %q until %v", holder, exp)
	}
	acquire("sync", "replica-a", time.Hour, true)
	acquire("sync", "replica-b", time.Hour, false)
	acquire("other", "replica-b", time.Hour, true)  // leases are independent
	acquire("sync", "replica-a", 2*time.Hour, true) // renewed
	holder, exp, err = s.Lease(ctx, "sync")
	must(t, err)
	if holder != "replica-a" || exp.Before(time.Now().Add(time.Hour)) {
		t.Fatalf("lease: %q until %v, want replica-a, renewed to about 2h from now", holder, exp)
	}
	must(t, s.ReleaseLease(ctx, "sync", "replica-b")) // not the holder: nothing
	acquire("sync", "replica-b", time.Hour, false)
	must(t, s.ReleaseLease(ctx, "sync", "replica-a"))
	acquire("sync", "replica-b", time.Millisecond, true)
	time.Sleep(20 * time.Millisecond) // past the lease's expiry
	acquire("sync", "replica-c", time.Hour, true)
	_, err = s.AcquireLease(ctx, "sync", "", time.Hour)
	wantCode(t, err, costexplorer.ErrValidation)

	// Racing replicas: exactly one wins a free lease.
	var wins int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.AcquireLease(ctx, "race", fmt.Sprintf("replica-%d", i), time.Hour)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d replicas took the same lease", wins)
	}
}
