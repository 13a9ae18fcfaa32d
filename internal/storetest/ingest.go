package storetest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/costexplorer/costexplorer"
)

// smallShape is a dataset of a few thousand items over two and a half
// months, so that rollup cells span month boundaries.
var smallShape = Shape{Orgs: 3, ProjectsPerOrg: 2, ClustersPerProject: 2, Start: costexplorer.DayOf(t0) - 40, Days: 75}

// cell is a rollup key.
type cell struct {
	month                 costexplorer.Month
	org, project, cluster string
	service               costexplorer.Service
}

func cellOf(r *costexplorer.RollupRow) cell {
	return cell{r.Month, r.OrgID, r.ProjectID, r.ClusterID, r.Service}
}

// rollup reads the store's rollup as a map, failing on a repeated cell.
func rollup(t *testing.T, s costexplorer.Store) map[cell]costexplorer.Cents {
	t.Helper()
	out := map[cell]costexplorer.Cents{}
	must(t, s.ScanRollup(t.Context(), func(r *costexplorer.RollupRow) error {
		k := cellOf(r)
		if _, dup := out[k]; dup {
			return fmt.Errorf("rollup cell %+v appears twice", k)
		}
		out[k] = r.Amount
		return nil
	}))
	return out
}

// lineItems reads every stored line item by id.
func lineItems(t *testing.T, s costexplorer.Store) map[costexplorer.LineItemID]costexplorer.LineItem {
	t.Helper()
	out := map[costexplorer.LineItemID]costexplorer.LineItem{}
	must(t, s.ScanLineItems(t.Context(), func(li *costexplorer.LineItem) error {
		if _, dup := out[li.ID]; dup {
			return fmt.Errorf("line item %s appears twice", li.ID)
		}
		out[li.ID] = *li
		return nil
	}))
	return out
}

// recompute sums items into rollup cells.
func recompute[M ~map[costexplorer.LineItemID]costexplorer.LineItem](items M) map[cell]costexplorer.Cents {
	out := map[cell]costexplorer.Cents{}
	for _, li := range items {
		out[cell{li.Month(), li.OrgID, li.ProjectID, li.ClusterID, li.Service}] += li.Amount
	}
	return out
}

func diffCells(t *testing.T, what string, got, want map[cell]costexplorer.Cents) {
	t.Helper()
	var diffs []string
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			diffs = append(diffs, fmt.Sprintf("%+v: got %s (present %v), want %s", k, g, ok, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%+v: got %s, want no cell", k, g))
		}
	}
	if len(diffs) > 0 {
		slices.Sort(diffs)
		t.Fatalf("%s: %d cells differ, first: %s", what, len(diffs), diffs[0])
	}
}

func ingest(t *testing.T, s costexplorer.Store, b *costexplorer.UsageBatch) costexplorer.IngestResult {
	t.Helper()
	res, err := s.IngestUsage(t.Context(), b)
	if err != nil {
		t.Fatalf("IngestUsage: %v", err)
	}
	return res
}

func dataVersion(t *testing.T, s costexplorer.Store) int64 {
	t.Helper()
	v, err := s.DataVersion(t.Context())
	must(t, err)
	return v
}

// dailyCell is a daily rollup key.
type dailyCell struct {
	day                   costexplorer.Day
	org, project, cluster string
	service               costexplorer.Service
	sku                   string
	tags                  costexplorer.Tags
}

// checkDaily compares the store's daily rollup with a recomputation from its
// line items: amounts and item counts exactly, quantities to a millionth of
// the sum of their absolute values. It also checks the order the engine's
// daily build reads best: an organization's month together, and in it each
// series (project, cluster, SKU, tag set) together, day by day.
func checkDaily(t *testing.T, s costexplorer.Store) {
	t.Helper()
	type sums struct {
		amount        costexplorer.Cents
		quantity, abs float64
		items         int64
	}
	want := map[dailyCell]sums{}
	for _, li := range lineItems(t, s) {
		k := dailyCell{li.Date, li.OrgID, li.ProjectID, li.ClusterID, li.Service, li.SKU, li.Tags}
		w := want[k]
		w.amount, w.quantity, w.abs, w.items = w.amount+li.Amount, w.quantity+li.Quantity, w.abs+math.Abs(li.Quantity), w.items+1
		want[k] = w
	}
	got := map[dailyCell]bool{}
	var order dailyOrder
	must(t, s.ScanDailyRollup(t.Context(), func(r *costexplorer.DailyRollupRow) error {
		k := dailyCell{r.Day, r.OrgID, r.ProjectID, r.ClusterID, r.Service, r.SKU, r.Tags}
		if err := order.next(k); err != nil {
			return err
		}
		w, ok := want[k]
		switch {
		case got[k]:
			return fmt.Errorf("daily rollup cell %+v appears twice", k)
		case !ok:
			return fmt.Errorf("daily rollup cell %+v: holds %s but no line item belongs there", k, r.Amount)
		case r.Amount != w.amount || r.Items != w.items || math.Abs(r.Quantity-w.quantity) > 1e-6*w.abs+1e-9:
			return fmt.Errorf("daily rollup cell %+v: holds %s, quantity %g, %d items; line items sum to %s, %g, %d items",
				k, r.Amount, r.Quantity, r.Items, w.amount, w.quantity, w.items)
		}
		got[k] = true
		return nil
	}))
	if len(got) != len(want) {
		t.Fatalf("daily rollup: %d cells, line items make %d", len(got), len(want))
	}
}

// dailyOrder checks the order of daily cells (see checkDaily).
type dailyOrder struct {
	segs   map[dailyCell]bool // the (organization, month) segments left
	series map[dailyCell]bool // the series of the current segment left
	seg    dailyCell          // the current segment: org and day (the month's first)
	cur    dailyCell          // the last cell
	any    bool
}

func (o *dailyOrder) next(k dailyCell) error {
	seg := dailyCell{org: k.org, day: costexplorer.DayOf(k.day.Month().Start())}
	series := k
	series.day = 0
	last := o.cur
	last.day = 0
	switch {
	case !o.any:
		o.segs, o.series = map[dailyCell]bool{}, map[dailyCell]bool{}
	case seg != o.seg:
		if o.segs[seg] {
			return fmt.Errorf("daily cell %+v: its organization's month was left before", k)
		}
		o.segs[o.seg] = true
		clear(o.series)
	case series != last:
		if o.series[series] {
			return fmt.Errorf("daily cell %+v: its series was left before", k)
		}
		o.series[last] = true
	case k.day <= o.cur.day:
		return fmt.Errorf("daily cell %+v: after %s in its series", k, o.cur.day)
	}
	o.seg, o.cur, o.any = seg, k, true
	return nil
}

// verify checks the daily rollup against the line items and runs the
// store's own check when it has one.
func verify(t *testing.T, s costexplorer.Store) {
	t.Helper()
	checkDaily(t, s)
	v, ok := s.(costexplorer.Verifier)
	if !ok {
		return
	}
	lines, err := v.Verify(t.Context())
	must(t, err)
	if len(lines) > 0 {
		t.Fatalf("Verify found %d problems, first: %s", len(lines), lines[0])
	}
}

// withItems returns the dataset's dimensions with items.
func withItems(d *Dataset, items []costexplorer.LineItem) *costexplorer.UsageBatch {
	b := d.Dimensions()
	b.Items = items
	return b
}

func testIngest(t *testing.T, open Opener) {
	t.Run("SameBatchTwiceChangesNothing", func(t *testing.T) {
		s := open(t)
		d := NewDataset(1, smallShape)
		b := withItems(d, d.All())
		first := ingest(t, s, b)
		if first.Inserted != len(b.Items) || first.Duplicates != 0 {
			t.Fatalf("first ingest: inserted %d, duplicates %d; want %d, 0", first.Inserted, first.Duplicates, len(b.Items))
		}
		if v := dataVersion(t, s); v != first.DataVersion {
			t.Fatalf("DataVersion = %d, ingest reported %d", v, first.DataVersion)
		}
		before := rollup(t, s)
		second := ingest(t, s, b)
		if second.Inserted != 0 || second.Duplicates != len(b.Items) || len(second.Deltas) != 0 {
			t.Fatalf("second ingest: inserted %d, duplicates %d, %d deltas; want 0, %d, 0", second.Inserted, second.Duplicates, len(second.Deltas), len(b.Items))
		}
		if second.DataVersion != first.DataVersion || dataVersion(t, s) != first.DataVersion {
			t.Fatalf("data version moved from %d to %d on a no-op ingest", first.DataVersion, second.DataVersion)
		}
		diffCells(t, "rollup after the second ingest", rollup(t, s), before)
		verify(t, s)
	})

	t.Run("StoredIDUnderAnotherSKUIsDuplicate", func(t *testing.T) {
		// A later release may map a SKU to another service or unit; the same
		// charge imported again must not be counted twice.
		s := open(t)
		d := NewDataset(7, smallShape)
		b := withItems(d, d.All()[:50])
		ingest(t, s, b)
		before, stats := rollup(t, s), usageStats(t, s)
		again := withItems(d, append([]costexplorer.LineItem(nil), b.Items...))
		for i := range again.Items {
			again.Items[i].SKU = "ATLAS_RENAMED_SUPPORT"
			again.Items[i].Service = costexplorer.ServiceSupport
			again.Items[i].Unit = "other unit"
		}
		res := ingest(t, s, again)
		if res.Inserted != 0 || res.Duplicates != len(again.Items) || len(res.Deltas) != 0 {
			t.Fatalf("re-ingest under another SKU: inserted %d, duplicates %d, %d deltas; want 0, %d, 0", res.Inserted, res.Duplicates, len(res.Deltas), len(again.Items))
		}
		diffCells(t, "rollup after the re-ingest", rollup(t, s), before)
		if after := usageStats(t, s); after.LineItems != stats.LineItems || after.Total != stats.Total {
			t.Fatalf("stats moved from %d items, %s to %d items, %s", stats.LineItems, stats.Total, after.LineItems, after.Total)
		}
		verify(t, s)
	})

	t.Run("RollupEqualsRecomputation", func(t *testing.T) {
		s := open(t)
		d := NewDataset(2, smallShape)
		ingest(t, s, d.Dimensions())
		all := d.All()
		sent := map[costexplorer.LineItemID]costexplorer.LineItem{}
		deltas := map[cell]costexplorer.Cents{}
		var prevVersion int64
		// Overlapping batches: each repeats part of the one before, and one
		// batch carries an item twice.
		for start := 0; start < len(all); start += 700 {
			batch := slices.Clone(all[max(0, start-100):min(start+700, len(all))])
			batch = append(batch, batch[len(batch)/2])
			newItems := 0
			for _, li := range batch {
				if _, ok := sent[li.ID]; !ok {
					sent[li.ID] = li
					newItems++
				}
			}
			res := ingest(t, s, &costexplorer.UsageBatch{Items: batch})
			if res.Inserted != newItems || res.Duplicates != len(batch)-newItems {
				t.Fatalf("batch at %d: inserted %d, duplicates %d; want %d, %d", start, res.Inserted, res.Duplicates, newItems, len(batch)-newItems)
			}
			if res.DataVersion <= prevVersion {
				t.Fatalf("data version %d after %d did not grow", res.DataVersion, prevVersion)
			}
			prevVersion = res.DataVersion
			for i := range res.Deltas {
				deltas[cellOf(&res.Deltas[i])] += res.Deltas[i].Amount
			}
		}
		stored := lineItems(t, s)
		if len(stored) != len(sent) {
			t.Fatalf("%d line items stored, want %d", len(stored), len(sent))
		}
		for id, want := range sent {
			want.InvoiceID = want.Invoice() // the stored item names its invoice
			if got := stored[id]; got != want {
				t.Fatalf("line item %s = %+v, want %+v", id, got, want)
			}
		}
		want := recompute(sent)
		var credits, noProject int
		for _, li := range sent {
			if li.Amount < 0 {
				credits++
			}
			if li.ProjectID == "" {
				noProject++
			}
		}
		if credits == 0 || noProject == 0 {
			t.Fatalf("test data has %d credits and %d items without project; want some of each", credits, noProject)
		}
		diffCells(t, "rollup", rollup(t, s), want)
		diffCells(t, "sum of deltas", deltas, want)

		st, err := s.UsageStats(t.Context())
		must(t, err)
		var total costexplorer.Cents
		first, last := all[0].Date, all[0].Date
		for _, li := range sent {
			total += li.Amount
			first, last = min(first, li.Date), max(last, li.Date)
		}
		wantStats := costexplorer.UsageStats{
			LineItems: int64(len(sent)), RollupRows: int64(len(want)), Organizations: int64(len(d.Orgs)),
			Projects: int64(len(d.Projects)), Clusters: int64(len(d.Clusters)), Total: total,
			FirstDay: first, LastDay: last, DataVersion: prevVersion,
		}
		if st != wantStats {
			t.Fatalf("UsageStats = %+v, want %+v", st, wantStats)
		}
		verify(t, s)
	})

	t.Run("BadBatchChangesNothing", func(t *testing.T) {
		d := NewDataset(3, smallShape)
		good := d.Items(50)
		p0, p1 := d.Projects[0], d.Projects[len(d.Projects)-1] // different organizations
		var c1 costexplorer.Cluster
		for _, c := range d.Clusters {
			if c.ProjectID == p1.ID {
				c1 = c
			}
		}
		item := func(mod func(li *costexplorer.LineItem)) costexplorer.LineItem {
			li := costexplorer.LineItem{
				ID: costexplorer.NewLineItemID("bad"), OrgID: p0.OrgID, ProjectID: p0.ID, Service: costexplorer.ServiceAppServices,
				SKU: "REALM_APP_REQUESTS", Unit: "requests", Date: smallShape.Start, Quantity: 1, Amount: 100,
			}
			mod(&li)
			return li
		}
		unknown := costexplorer.DeriveID("unknown")
		tests := []struct {
			name string
			bad  costexplorer.LineItem
		}{
			{"UnknownOrganization", item(func(li *costexplorer.LineItem) { li.OrgID, li.ProjectID = unknown, "" })},
			{"UnknownProject", item(func(li *costexplorer.LineItem) { li.ProjectID = unknown })},
			{"UnknownCluster", item(func(li *costexplorer.LineItem) { li.ClusterID = unknown })},
			{"ProjectOfAnotherOrganization", item(func(li *costexplorer.LineItem) { li.ProjectID = p1.ID })},
			{"ClusterOfAnotherProject", item(func(li *costexplorer.LineItem) { li.ClusterID = c1.ID })},
			{"ClusterWithoutProject", item(func(li *costexplorer.LineItem) { li.ProjectID, li.ClusterID = "", c1.ID })},
			{"InvalidOrganizationID", item(func(li *costexplorer.LineItem) { li.OrgID = "xyz" })},
			{"UnknownService", item(func(li *costexplorer.LineItem) { li.Service = "Laundry" })},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := open(t)
				ingest(t, s, withItems(d, good))
				version, before, items := dataVersion(t, s), rollup(t, s), lineItems(t, s)
				// The bad batch also renames an organization and brings new
				// items: neither may survive.
				b := withItems(d, append(slices.Clone(d.Items(20)), tt.bad))
				b.Organizations = slices.Clone(b.Organizations)
				b.Organizations[0].Name = "Renamed"
				_, err := s.IngestUsage(t.Context(), b)
				wantCode(t, err, costexplorer.ErrValidation)
				if v := dataVersion(t, s); v != version {
					t.Fatalf("data version %d → %d after a refused batch", version, v)
				}
				diffCells(t, "rollup after a refused batch", rollup(t, s), before)
				if after := lineItems(t, s); len(after) != len(items) {
					t.Fatalf("%d line items after a refused batch, want %d", len(after), len(items))
				}
				o, err := s.Organization(t.Context(), d.Orgs[0].ID)
				must(t, err)
				if o.Name != d.Orgs[0].Name {
					t.Fatalf("organization renamed to %q by a refused batch", o.Name)
				}
			})
		}
	})

	t.Run("UnknownDimensionParentIsValidationError", func(t *testing.T) {
		s := open(t)
		unknown := costexplorer.DeriveID("unknown")
		_, err := s.IngestUsage(t.Context(), &costexplorer.UsageBatch{Projects: []costexplorer.Project{{ID: orgID(1), OrgID: unknown, Name: "p"}}})
		wantCode(t, err, costexplorer.ErrValidation)
		_, err = s.IngestUsage(t.Context(), &costexplorer.UsageBatch{Clusters: []costexplorer.Cluster{{ID: orgID(2), ProjectID: unknown, Name: "c"}}})
		wantCode(t, err, costexplorer.ErrValidation)
	})

	t.Run("ProjectCannotMoveToAnotherOrganization", func(t *testing.T) {
		s := open(t)
		d := NewDataset(4, smallShape)
		ingest(t, s, d.Dimensions())
		p := d.Projects[0]
		p.OrgID = d.Orgs[len(d.Orgs)-1].ID
		_, err := s.IngestUsage(t.Context(), &costexplorer.UsageBatch{Projects: []costexplorer.Project{p}})
		wantCode(t, err, costexplorer.ErrValidation)
	})

	t.Run("DimensionsAreRenamed", func(t *testing.T) {
		s := open(t)
		d := NewDataset(5, smallShape)
		ingest(t, s, withItems(d, d.Items(100)))
		b := &costexplorer.UsageBatch{
			Organizations: []costexplorer.Organization{d.Orgs[0]},
			Projects:      []costexplorer.Project{d.Projects[0]},
			Clusters:      []costexplorer.Cluster{d.Clusters[0]},
		}
		b.Organizations[0].Name += " (renamed)"
		b.Projects[0].Name += "-renamed"
		b.Clusters[0].Name += "-renamed"
		res := ingest(t, s, b)
		if res.Inserted != 0 || len(res.Deltas) != 0 {
			t.Fatalf("rename: inserted %d, %d deltas; want none", res.Inserted, len(res.Deltas))
		}
		o, err := s.Organization(t.Context(), d.Orgs[0].ID)
		must(t, err)
		if o.Name != b.Organizations[0].Name {
			t.Fatalf("organization name %q, want %q", o.Name, b.Organizations[0].Name)
		}
		projects, err := s.Projects(t.Context())
		must(t, err)
		clusters, err := s.Clusters(t.Context())
		must(t, err)
		if len(projects) != len(d.Projects) || len(clusters) != len(d.Clusters) {
			t.Fatalf("%d projects, %d clusters; want %d, %d", len(projects), len(clusters), len(d.Projects), len(d.Clusters))
		}
		for _, p := range projects {
			if p.ID == d.Projects[0].ID && (p.Name != b.Projects[0].Name || p.OrgID != d.Projects[0].OrgID) {
				t.Fatalf("project %+v, want %+v", p, b.Projects[0])
			}
		}
		for _, c := range clusters {
			if c.ID == d.Clusters[0].ID && *c != b.Clusters[0] {
				t.Fatalf("cluster %+v, want %+v", c, b.Clusters[0])
			}
		}
	})

	t.Run("DeltasHoldOnlyNewItems", func(t *testing.T) {
		s := open(t)
		d := NewDataset(6, smallShape)
		a, b := d.Items(300), d.Items(300)
		ingest(t, s, withItems(d, a))
		res := ingest(t, s, withItems(d, append(slices.Clone(a[150:]), b...)))
		fresh := map[costexplorer.LineItemID]costexplorer.LineItem{}
		for _, li := range b {
			fresh[li.ID] = li
		}
		want := recompute(fresh)
		got := map[cell]costexplorer.Cents{}
		for i, r := range res.Deltas {
			if _, dup := got[cellOf(&r)]; dup {
				t.Fatalf("delta %d repeats cell %+v", i, cellOf(&r))
			}
			got[cellOf(&r)] = r.Amount
		}
		diffCells(t, "deltas", got, want)
	})

	t.Run("ConcurrentIngestsAllLand", func(t *testing.T) {
		s := open(t)
		d := NewDataset(7, smallShape)
		ingest(t, s, d.Dimensions())
		all := d.All()[:2000]
		const workers = 4
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Each worker sends overlapping halves: every item is sent
				// by two workers, so duplicates race with inserts.
				for start := w * 250; start < len(all); start += 500 {
					part := all[start:min(start+500, len(all))]
					if _, err := s.IngestUsage(t.Context(), &costexplorer.UsageBatch{Items: part}); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("concurrent ingest: %v", err)
		}
		sent := map[costexplorer.LineItemID]costexplorer.LineItem{}
		for _, li := range all {
			sent[li.ID] = li
		}
		if got := lineItems(t, s); len(got) != len(sent) {
			t.Fatalf("%d line items stored, want %d", len(got), len(sent))
		}
		diffCells(t, "rollup", rollup(t, s), recompute(sent))
		verify(t, s)
	})

	t.Run("RollupRowsWithoutProjectHaveEmptyIDs", func(t *testing.T) {
		s := open(t)
		o := costexplorer.Organization{ID: orgID(0), Name: "Solo"}
		li := costexplorer.LineItem{ID: costexplorer.NewLineItemID("support"), OrgID: o.ID, Service: costexplorer.ServiceSupport,
			SKU: "ATLAS_SUPPORT_PRO", Unit: "months", Date: costexplorer.DayOf(t0), Quantity: 1, Amount: 12345}
		res := ingest(t, s, &costexplorer.UsageBatch{Organizations: []costexplorer.Organization{o}, Items: []costexplorer.LineItem{li}})
		want := costexplorer.RollupRow{Month: costexplorer.MonthOf(t0), OrgID: o.ID, Service: costexplorer.ServiceSupport, Amount: 12345}
		if len(res.Deltas) != 1 || res.Deltas[0] != want {
			t.Fatalf("deltas %+v, want [%+v]", res.Deltas, want)
		}
		var rows []costexplorer.RollupRow
		must(t, s.ScanRollup(t.Context(), func(r *costexplorer.RollupRow) error { rows = append(rows, *r); return nil }))
		if len(rows) != 1 || rows[0] != want {
			t.Fatalf("rollup %+v, want [%+v]", rows, want)
		}
	})
}

func usageStats(t *testing.T, s costexplorer.Store) costexplorer.UsageStats {
	t.Helper()
	st, err := s.UsageStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}
