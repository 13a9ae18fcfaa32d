package sqlstore

import (
	"errors"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
)

var (
	jan2 = costexplorer.DayOf(time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC))
	jan9 = costexplorer.DayOf(time.Date(2025, 1, 9, 0, 0, 0, 0, time.UTC))
	feb3 = costexplorer.DayOf(time.Date(2025, 2, 3, 0, 0, 0, 0, time.UTC))
)

// row returns an item row of the given keys, day and amount; its id is
// derived from name.
func row(name string, org, project, cluster, service int64, day costexplorer.Day, cents costexplorer.Cents) ItemRow {
	li := &costexplorer.LineItem{ID: costexplorer.NewLineItemID(name), Date: day, Amount: cents}
	return ItemRow{Item: li, Org: org, Project: project, Cluster: cluster, SKU: 1, Service: service}
}

func names(rows []ItemRow) []costexplorer.LineItemID {
	var ids []costexplorer.LineItemID
	for _, r := range rows {
		ids = append(ids, r.Item.ID)
	}
	return ids
}

func TestUniqueItems(t *testing.T) {
	a := row("a", 2, 0, 0, 1, jan2, 100)
	b := row("b", 1, 5, 0, 1, jan9, 200)
	c := row("c", 1, 5, 0, 1, jan2, 300)
	aAgain := row("a", 2, 0, 0, 1, jan2, 999) // same id, other amount: the first counts
	unique := UniqueItems([]ItemRow{a, b, aAgain, c})

	want := []costexplorer.LineItemID{c.Item.ID, b.Item.ID, a.Item.ID} // key order: org, project, cluster, day, id
	if got := names(unique); !slices.Equal(got, want) {
		t.Fatalf("order = %v, want %v", got, want)
	}
	if unique[2].Item.Amount != 100 {
		t.Errorf("repeated id kept amount %d, want the first occurrence's 100", unique[2].Item.Amount)
	}
}

// TestUniqueItemsOrder checks UniqueItems against its definition (each id's
// first occurrence, sorted by CompareItems) on random rows with many ties
// and repeated ids, with surrogate keys that fit its compact keys and with
// one that does not (of each kind, negative too).
func TestUniqueItemsOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	want := func(rows []ItemRow) []ItemRow {
		seen := map[costexplorer.LineItemID]bool{}
		var out []ItemRow
		for _, r := range rows {
			if !seen[r.Item.ID] {
				seen[r.Item.ID] = true
				out = append(out, r)
			}
		}
		slices.SortStableFunc(out, CompareItems)
		return out
	}
	for _, big := range []int64{0, 1 << 32, -1} {
		for _, field := range []int{0, 1, 2, 3} {
			rows := make([]ItemRow, 3000)
			for i := range rows {
				li := &costexplorer.LineItem{ID: costexplorer.NewLineItemID(strconv.Itoa(rng.IntN(2500))), Date: []costexplorer.Day{-jan2, -1, 0, 1, jan2}[rng.IntN(5)], Amount: costexplorer.Cents(i)}
				rows[i] = ItemRow{Item: li, Org: rng.Int64N(3) + 1, Invoice: rng.Int64N(2) + 1, Project: rng.Int64N(3), Cluster: rng.Int64N(3), SKU: 1}
			}
			if big != 0 {
				k := &rows[rng.IntN(len(rows))]
				*[]*int64{&k.Org, &k.Invoice, &k.Project, &k.Cluster}[field] = big
			}
			got := UniqueItems(rows)
			w := want(rows)
			if len(got) != len(w) {
				t.Fatalf("big %d in field %d: %d rows, want %d", big, field, len(got), len(w))
			}
			for i := range got {
				if got[i].Item != w[i].Item {
					t.Fatalf("big %d in field %d: row %d is item %v (%d), want %v (%d)", big, field, i, got[i].Item.ID, got[i].Item.Amount, w[i].Item.ID, w[i].Item.Amount)
				}
			}
			if big == 0 {
				break // the fields differ only with a big key
			}
		}
	}
}

func TestIndexItems(t *testing.T) {
	a, b := row("a", 1, 0, 0, 1, jan2, 1), row("b", 1, 0, 0, 1, jan2, 2)
	index := map[costexplorer.LineItemID]int{costexplorer.NewLineItemID("stale"): 7}
	IndexItems([]ItemRow{a, b}, index)
	want := map[costexplorer.LineItemID]int{a.Item.ID: 0, b.Item.ID: 1}
	if !maps.Equal(index, want) {
		t.Errorf("index = %v, want %v (cleared first)", index, want)
	}
}

func TestReturned(t *testing.T) {
	a, b := row("a", 1, 0, 0, 1, jan2, 1), row("b", 1, 0, 0, 1, jan2, 2)
	rows := []ItemRow{a, b}
	index := map[costexplorer.LineItemID]int{}
	IndexItems(rows, index)
	r, err := Returned(rows, index, b.Item.ID[:])
	if err != nil || r.Item != b.Item {
		t.Fatalf("Returned(b) = %v, %v; want b's row", r, err)
	}
	other := costexplorer.NewLineItemID("other")
	for name, raw := range map[string][]byte{"ErrUnknownID": other[:], "ErrShortID": b.Item.ID[:8]} {
		t.Run(name, func(t *testing.T) {
			if _, err := Returned(rows, index, raw); !errors.Is(err, ErrUnexpectedID) {
				t.Errorf("error = %v, want ErrUnexpectedID", err)
			}
		})
	}
}

func TestRollupDelta(t *testing.T) {
	var d RollupDelta
	d.Add([]ItemRow{
		row("a", 1, 2, 3, 0, jan2, 100),
		row("b", 1, 2, 3, 0, jan9, 50), // same cell as a: January
		row("c", 1, 2, 3, 0, feb3, 7),  // February
		row("d", 1, 2, 0, 4, jan2, 1),  // no cluster, another service
		row("e", 1, 0, 0, 0, jan2, 0),  // a zero amount still makes a cell
	})
	d.Remove([]ItemRow{row("b", 1, 2, 3, 0, jan9, 50), row("c", 1, 2, 3, 0, feb3, 7)})

	jan, feb := jan2.Month(), feb3.Month()
	want := []Cell{
		{CellKey{jan, 1, 0, 0, 0}, 0},
		{CellKey{jan, 1, 2, 0, 4}, 1},
		{CellKey{jan, 1, 2, 3, 0}, 100},
		{CellKey{feb, 1, 2, 3, 0}, 0}, // removed again: the cell moves by zero
	}
	if got := d.Cells(); !slices.Equal(got, want) {
		t.Errorf("cells =\n%v\nwant\n%v", got, want)
	}
	var empty RollupDelta
	if got := empty.Cells(); len(got) != 0 {
		t.Errorf("empty delta has cells %v", got)
	}
}

func TestTotalsOf(t *testing.T) {
	if got := TotalsOf(nil); got != (Totals{}) {
		t.Errorf("TotalsOf(nil) = %+v, want zero", got)
	}
	got := TotalsOf([]ItemRow{row("a", 1, 0, 0, 0, jan9, 100), row("b", 1, 0, 0, 0, feb3, -30), row("c", 1, 0, 0, 0, jan2, 5)})
	want := Totals{Items: 3, Cents: 75, FirstDay: jan2, LastDay: feb3}
	if got != want {
		t.Errorf("TotalsOf = %+v, want %+v", got, want)
	}
}

func TestRollupRows(t *testing.T) {
	k := NewKeys()
	k.PutOrg("org1", 1)
	k.PutProject("proj2", ProjectRef{ID: 2, Org: 1})
	k.PutCluster("clus3", ClusterRef{ID: 3, Project: 2})
	services := map[int64]costexplorer.Service{0: costexplorer.ServiceSupport}
	got := k.RollupRows([]Cell{{CellKey{jan2.Month(), 1, 0, 0, 0}, 5}, {CellKey{jan2.Month(), 1, 2, 3, 0}, 7}}, services)
	want := []costexplorer.RollupRow{
		{Month: jan2.Month(), OrgID: "org1", Service: costexplorer.ServiceSupport, Amount: 5},
		{Month: jan2.Month(), OrgID: "org1", ProjectID: "proj2", ClusterID: "clus3", Service: costexplorer.ServiceSupport, Amount: 7},
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows =\n%+v\nwant\n%+v", got, want)
	}
}

func TestLastByID(t *testing.T) {
	type dim struct{ id, name string }
	got := lastByID([]dim{{"a", "1"}, {"b", "1"}, {"a", "2"}, {"c", "1"}, {"b", "2"}}, func(d *dim) string { return d.id })
	want := []dim{{"a", "2"}, {"b", "2"}, {"c", "1"}}
	if !slices.Equal(got, want) {
		t.Errorf("lastByID = %v, want %v", got, want)
	}
}

func TestValues(t *testing.T) {
	if got, want := values(2, 3), "(?, ?, ?), (?, ?, ?)"; got != want {
		t.Errorf("values(2, 3) = %q, want %q", got, want)
	}
	if got, want := placeholders(1), "?"; got != want {
		t.Errorf("placeholders(1) = %q, want %q", got, want)
	}
}

// TestRollupDeltaCounts: the delta counts the items of each invoice,
// project, cluster and SKU, those of a non-zero amount and their sum; items
// removed (a restatement) count negatively, down to zero.
func TestRollupDeltaCounts(t *testing.T) {
	a, b, zero, other := row("a", 1, 5, 7, 1, jan2, 100), row("b", 1, 5, 7, 1, jan9, -40), row("z", 1, 5, 7, 1, jan9, 0), row("o", 1, 5, 8, 1, jan9, 3)
	for _, r := range []*ItemRow{&a, &b, &zero, &other} {
		r.Invoice = 9
	}
	other.SKU = 2
	var d RollupDelta
	d.Add([]ItemRow{a, b, zero, other})
	want := []Count{
		{CountKey{Invoice: 9, Project: 5, Cluster: 7, SKU: 1}, ItemCount{Items: 3, NonZero: 2, Amount: 60}},
		{CountKey{Invoice: 9, Project: 5, Cluster: 8, SKU: 2}, ItemCount{Items: 1, NonZero: 1, Amount: 3}},
	}
	if got := d.Counts(); !slices.Equal(got, want) {
		t.Fatalf("counts %+v, want %+v", got, want)
	}
	d.Remove([]ItemRow{a, zero, other})
	want = []Count{
		{CountKey{Invoice: 9, Project: 5, Cluster: 7, SKU: 1}, ItemCount{Items: 1, NonZero: 1, Amount: -40}},
		{CountKey{Invoice: 9, Project: 5, Cluster: 8, SKU: 2}, ItemCount{}},
	}
	if got := d.Counts(); !slices.Equal(got, want) {
		t.Fatalf("after removals: counts %+v, want %+v", got, want)
	}
}
