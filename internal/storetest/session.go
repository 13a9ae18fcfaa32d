package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/costexplorer/costexplorer"
)

// A session ingests a large file in chunks, in one transaction committed
// once (costexplorer.UsageSession): these tests hold it to IngestUsage's
// rules.

// sessionStore returns s as a session store, or skips the test.
func sessionStore(t *testing.T, s costexplorer.Store) costexplorer.UsageSessionStore {
	t.Helper()
	ss, ok := s.(costexplorer.UsageSessionStore)
	if !ok {
		t.Skip("the store has no ingest sessions")
	}
	return ss
}

// sessionChunks cuts the dataset into chunks as an importer hands them over:
// the dimensions first, then items in chunks of uneven sizes, each chunk
// repeating the last items of the one before (duplicates across chunks).
func sessionChunks(d *Dataset, items []costexplorer.LineItem) []*costexplorer.UsageBatch {
	chunks := []*costexplorer.UsageBatch{d.Dimensions()}
	for start, n := 0, 0; start < len(items); start += n {
		n = 300 + start%257
		from := max(0, start-40)
		chunks = append(chunks, &costexplorer.UsageBatch{Items: slices.Clone(items[from:min(start+n, len(items))])})
	}
	return chunks
}

// runSession ingests chunks in one session and commits it.
func runSession(t *testing.T, s costexplorer.Store, chunks []*costexplorer.UsageBatch) costexplorer.IngestResult {
	t.Helper()
	sess, err := sessionStore(t, s).BeginUsage(t.Context())
	must(t, err)
	defer sess.Rollback()
	for i, b := range chunks {
		if err := sess.Add(t.Context(), b); err != nil {
			t.Fatalf("Add chunk %d: %v", i, err)
		}
	}
	res, err := sess.Commit(t.Context())
	must(t, err)
	return res
}

// snapshot is what a test compares of a store: every line item, the
// rollup, the usage statistics and every invoice of the dataset's
// organizations (amounts, in step with the items).
type snapshot struct {
	items    map[costexplorer.LineItemID]costexplorer.LineItem
	rollup   map[cell]costexplorer.Cents
	stats    costexplorer.UsageStats
	invoices []string
}

func takeSnapshot(t *testing.T, s costexplorer.Store, d *Dataset) snapshot {
	t.Helper()
	snap := snapshot{items: lineItems(t, s), rollup: rollup(t, s), stats: usageStats(t, s)}
	for _, o := range d.Orgs {
		invs, _, err := s.Invoices(t.Context(), &costexplorer.InvoiceListQuery{OrgID: o.ID, Page: costexplorer.PageRequest{ItemsPerPage: 500, PageNum: 1}}, fixtureNow)
		must(t, err)
		for _, inv := range invs {
			snap.invoices = append(snap.invoices, fmt.Sprintf("%s %s %s charges %s credits %s", inv.ID, inv.OrgID, inv.Month, inv.Amounts.Charges, inv.Amounts.Credits))
		}
	}
	slices.Sort(snap.invoices)
	return snap
}

// sameSnapshot fails t unless a and b hold the same data (the data version
// aside when versions is false).
func sameSnapshot(t *testing.T, what string, got, want snapshot, versions bool) {
	t.Helper()
	if len(got.items) != len(want.items) {
		t.Fatalf("%s: %d line items, want %d", what, len(got.items), len(want.items))
	}
	for id, w := range want.items {
		if g, ok := got.items[id]; !ok || fmt.Sprint(g) != fmt.Sprint(w) {
			t.Fatalf("%s: line item %s = %+v (present %v), want %+v", what, id, g, ok, w)
		}
	}
	diffCells(t, what+": rollup", got.rollup, want.rollup)
	gs, ws := got.stats, want.stats
	if !versions {
		gs.DataVersion, ws.DataVersion = 0, 0
	}
	if gs != ws {
		t.Fatalf("%s: stats %+v, want %+v", what, gs, ws)
	}
	if !slices.Equal(got.invoices, want.invoices) {
		t.Fatalf("%s: invoices\n%q\nwant\n%q", what, got.invoices, want.invoices)
	}
}

func testSessions(t *testing.T, open Opener) {
	newData := func() (*Dataset, []costexplorer.LineItem) {
		d := NewDataset(7, smallShape)
		items := d.All()
		decorate(items)
		return d, items
	}

	t.Run("ChunksEqualOneIngestUsage", func(t *testing.T) {
		d, items := newData()
		one, chunked := open(t), open(t)
		chunks := sessionChunks(d, items)
		// The same items with the same repeats, in one batch.
		var all []costexplorer.LineItem
		for _, b := range chunks {
			all = append(all, b.Items...)
		}
		want := ingest(t, one, withItems(d, all))
		got := runSession(t, chunked, chunks)
		if got.Inserted != len(items) || got.Inserted != want.Inserted || got.Duplicates != want.Duplicates || got.Duplicates == 0 {
			t.Fatalf("session inserted %d, %d duplicates; IngestUsage %d, %d; the items are %d", got.Inserted, got.Duplicates, want.Inserted, want.Duplicates, len(items))
		}
		sortRows := func(rs []costexplorer.RollupRow) []string {
			var out []string
			for _, r := range rs {
				out = append(out, fmt.Sprint(r))
			}
			slices.Sort(out)
			return out
		}
		if g, w := sortRows(got.Deltas), sortRows(want.Deltas); !slices.Equal(g, w) || len(g) == 0 {
			t.Fatalf("session deltas (%d) differ from IngestUsage's (%d)", len(g), len(w))
		}
		sameSnapshot(t, "session vs IngestUsage", takeSnapshot(t, chunked, d), takeSnapshot(t, one, d), true)
		if got.DataVersion != dataVersion(t, chunked) {
			t.Errorf("result's data version %d, store's %d", got.DataVersion, dataVersion(t, chunked))
		}
		verify(t, chunked)
	})

	t.Run("SameChunksAgainChangeNothing", func(t *testing.T) {
		d, items := newData()
		s := open(t)
		chunks := sessionChunks(d, items)
		runSession(t, s, chunks)
		before := takeSnapshot(t, s, d)
		res := runSession(t, s, chunks)
		if res.Inserted != 0 || res.Duplicates == 0 || len(res.Deltas) != 0 {
			t.Fatalf("again: inserted %d, %d duplicates, %d deltas; want 0, all, none", res.Inserted, res.Duplicates, len(res.Deltas))
		}
		sameSnapshot(t, "after the same chunks again", takeSnapshot(t, s, d), before, true)
	})

	t.Run("ErrorMidwayLeavesStoreUnchanged", func(t *testing.T) {
		d, items := newData()
		s := open(t)
		// The store holds the first half already: the session's chunks
		// overlap it, and add to what is there until the bad chunk.
		ingest(t, s, withItems(d, slices.Clone(items[:len(items)/2])))
		before := takeSnapshot(t, s, d)
		sess, err := sessionStore(t, s).BeginUsage(t.Context())
		must(t, err)
		defer sess.Rollback()
		chunks := sessionChunks(d, items)
		bad := costexplorer.UsageBatch{Items: slices.Clone(items[len(items)-3:])}
		bad.Items[1].ProjectID = orgID(20) // a project that exists nowhere
		for _, b := range chunks[:len(chunks)-1] {
			must(t, sess.Add(t.Context(), b))
		}
		err = sess.Add(t.Context(), &bad)
		wantCode(t, err, costexplorer.ErrValidation)
		if _, err := sess.Commit(t.Context()); err == nil {
			t.Fatal("Commit after a failed Add succeeded")
		}
		if err := sess.Add(t.Context(), chunks[0]); err == nil {
			t.Fatal("Add after a failed Add succeeded")
		}
		sameSnapshot(t, "after the failed session", takeSnapshot(t, s, d), before, true)
		// The store takes ingests again: the session released it.
		ingest(t, s, withItems(d, items))
		verify(t, s)
	})

	t.Run("RollbackLeavesStoreUnchanged", func(t *testing.T) {
		d, items := newData()
		s := open(t)
		ingest(t, s, d.Dimensions())
		before := takeSnapshot(t, s, d)
		sess, err := sessionStore(t, s).BeginUsage(t.Context())
		must(t, err)
		for _, b := range sessionChunks(d, items) {
			must(t, sess.Add(t.Context(), b))
		}
		sess.Rollback()
		sess.Rollback() // again: nothing
		if _, err := sess.Commit(t.Context()); err == nil {
			t.Fatal("Commit after Rollback succeeded")
		}
		sameSnapshot(t, "after the rolled-back session", takeSnapshot(t, s, d), before, true)
	})

	t.Run("CanceledContextLeavesStoreUnchanged", func(t *testing.T) {
		d, items := newData()
		s := open(t)
		ingest(t, s, d.Dimensions())
		before := takeSnapshot(t, s, d)
		ctx, cancel := context.WithCancel(t.Context())
		sess, err := sessionStore(t, s).BeginUsage(ctx)
		must(t, err)
		defer sess.Rollback()
		chunks := sessionChunks(d, items)
		must(t, sess.Add(ctx, chunks[1]))
		cancel()
		if err := sess.Add(ctx, chunks[2]); err == nil {
			t.Fatal("Add after the context ended succeeded")
		}
		if _, err := sess.Commit(t.Context()); err == nil {
			t.Fatal("Commit after the context ended succeeded")
		}
		sameSnapshot(t, "after the canceled session", takeSnapshot(t, s, d), before, true)
	})
}
