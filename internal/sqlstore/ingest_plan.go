package sqlstore

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"maps"
	"slices"
	"sync"

	"github.com/costexplorer/costexplorer"
)

// This file is the planning half of ingest, pure Go and the same for every
// dialect: line items resolved to surrogate keys, checked, deduplicated and
// ordered, and the rollup cells, deltas and running totals they move. The
// dialects only read and write rows.

// ProjectRef is a stored project: its surrogate key and its organization's.
type ProjectRef struct{ ID, Org int64 }

// ClusterRef is a stored cluster: its surrogate key and its project's.
type ClusterRef struct{ ID, Project int64 }

// ItemRow is a line item resolved to surrogate keys. Project and Cluster are
// 0 when the item has none; SKU is 0 until the SKU is resolved, Invoice until
// the invoice is. TagSet and Detail are the keys of the item's tag set and
// details, 0 when it has none (stored as NULL).
type ItemRow struct {
	Item                           *costexplorer.LineItem
	Org, Invoice, Project, Cluster int64
	SKU, Service                   int64
	TagSet, Detail                 int64
}

// CompareItems orders rows as the primary key of line_items does:
// (org_id, invoice_id, project_id, cluster_id, day, id), ids byte-wise as
// BLOB and BYTEA compare.
//
// The surrogate keys are compared first, and the items' days and ids (two
// pointer loads and a byte comparison) only when those are equal: cmp.Or
// over all six would compute every comparison, and the sort of a batch
// calls this about 20 times an item.
func CompareItems(a, b ItemRow) int {
	if c := cmp.Or(cmp.Compare(a.Org, b.Org), cmp.Compare(a.Invoice, b.Invoice), cmp.Compare(a.Project, b.Project),
		cmp.Compare(a.Cluster, b.Cluster)); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Item.Date, b.Item.Date); c != 0 {
		return c
	}
	return bytes.Compare(a.Item.ID[:], b.Item.ID[:])
}

// UniqueItems returns the rows with distinct ids, each id's first occurrence,
// in primary-key order. The id fixes every other key column (it names one
// charge of one resource on one day), so a conflict on the key is a conflict
// on the id, and each id returned by an INSERT ... RETURNING names exactly
// one row.
//
// Key order turns the b-tree inserts into an ordered merge: each leaf is
// visited once per batch, with its path still in the page cache.
//
// The rows are sorted by their keys copied into a compact [itemKey] each:
// the comparisons then read no line item (a row holds a pointer to its
// item, whose day and id compare last), and a swap moves less. Keys that do
// not fit one (a surrogate key beyond 32 bits) sort by [CompareItems].
func UniqueItems(rows []ItemRow) []ItemRow {
	seen := make(map[costexplorer.LineItemID]struct{}, len(rows))
	keys := make([]itemKey, 0, len(rows))
	compact := true
	for i := range rows {
		r := &rows[i]
		if _, dup := seen[r.Item.ID]; dup {
			continue
		}
		seen[r.Item.ID] = struct{}{}
		k, ok := keyOf(r, i)
		compact = compact && ok
		keys = append(keys, k)
	}
	// A batch in key order already saves the sort (the check stops at the
	// first pair out of order).
	if compact && !slices.IsSortedFunc(keys, compareKeys) {
		slices.SortFunc(keys, compareKeys)
	}
	unique := make([]ItemRow, len(keys))
	for j, k := range keys {
		unique[j] = rows[k.row]
	}
	if !compact && !slices.IsSortedFunc(unique, CompareItems) {
		slices.SortFunc(unique, CompareItems)
	}
	return unique
}

// itemKey is a row's primary key in five words compared in turn (the
// organization and invoice, the project and cluster, two surrogate keys a
// word, the first in the high half; the day, its sign bit flipped; the id's
// two halves, big-endian: byte-wise order), and the row's position.
type itemKey struct {
	words [5]uint64
	row   int
}

// keyOf returns row r's key, at position i; ok is false when a surrogate key
// does not fit 32 bits.
func keyOf(r *ItemRow, i int) (k itemKey, ok bool) {
	const max32 = 1<<32 - 1
	if uint64(r.Org)|uint64(r.Invoice)|uint64(r.Project)|uint64(r.Cluster) > max32 {
		return itemKey{row: i}, false // negative keys too
	}
	id := &r.Item.ID
	return itemKey{words: [5]uint64{
		uint64(r.Org)<<32 | uint64(r.Invoice),
		uint64(r.Project)<<32 | uint64(r.Cluster),
		uint64(r.Item.Date) ^ 1<<63,
		binary.BigEndian.Uint64(id[:8]),
		binary.BigEndian.Uint64(id[8:]),
	}, row: i}, true
}

// compareKeys orders keys as [CompareItems] orders their rows.
func compareKeys(a, b itemKey) int { return slices.Compare(a.words[:], b.words[:]) }

// IndexItems fills index, cleared first, with the position of each row's id
// among rows, so that the ids an INSERT ... RETURNING returns lead back to
// their rows (see [Returned]). A dialect that inserts in chunks indexes each
// chunk in a small map that stays in the CPU cache.
func IndexItems(rows []ItemRow, index map[costexplorer.LineItemID]int) {
	clear(index)
	for i := range rows {
		index[rows[i].Item.ID] = i
	}
}

// ErrUnexpectedID is returned (wrapped) when an insert returns an id that
// the batch does not hold: the RETURNING clause and the rows disagree.
var ErrUnexpectedID = errors.New("unexpected id returned")

// Returned maps an id returned by an insert to its row among rows, indexed
// by [IndexItems].
func Returned(rows []ItemRow, index map[costexplorer.LineItemID]int, raw []byte) (*ItemRow, error) {
	var id costexplorer.LineItemID
	if len(raw) != len(id) {
		return nil, ErrUnexpectedID
	}
	copy(id[:], raw)
	i, ok := index[id]
	if !ok {
		return nil, ErrUnexpectedID
	}
	return &rows[i], nil
}

// Cell is a rollup cell and the amount added to it.
type Cell struct {
	CellKey
	Amount costexplorer.Cents
}

// RollupDelta sums the change that line items make to the monthly rollup,
// cell by cell, to their invoices' amounts, invoice by invoice, and to the
// invoices' item counts (invoice_item_counts), in one pass. Items added
// count with their amount and one item, items removed (a restatement) with
// their opposites; a cell whose changes cancel out stays in the delta with
// zero, as a cell of zero-amount items does, and so does an invoice (its
// items changed: its updated time moves). The daily cells are not kept:
// they are summed from the line items when read (see
// [Store.ScanDailyRollup]).
type RollupDelta struct {
	cells    map[CellKey]costexplorer.Cents
	invoices map[int64]*InvoiceDelta
	shrunk   map[CellKey]bool // cells that lost items
	counts   map[CountKey]*ItemCount
}

// CountKey names a row of invoice_item_counts: the items of one invoice,
// project, cluster (0: none) and SKU.
type CountKey struct{ Invoice, Project, Cluster, SKU int64 }

// ItemCount is what a row of invoice_item_counts holds, or the change to
// it: how many items, how many of them of a non-zero amount, and their sum.
type ItemCount struct {
	Items, NonZero int64
	Amount         costexplorer.Cents
}

// Count is a row of invoice_item_counts and its change.
type Count struct {
	CountKey
	ItemCount
}

// TakeCounts returns the changed item counts in key order (see Counts) and
// forgets them: the changes after it start from zero.
func (d *RollupDelta) TakeCounts() []Count {
	out := d.Counts()
	clear(d.counts)
	return out
}

// Counts returns the changed item counts in key order.
func (d *RollupDelta) Counts() []Count {
	out := make([]Count, 0, len(d.counts))
	for k, v := range d.counts {
		out = append(out, Count{k, *v})
	}
	slices.SortFunc(out, func(a, b Count) int {
		return cmp.Or(cmp.Compare(a.Invoice, b.Invoice), cmp.Compare(a.Project, b.Project), cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.SKU, b.SKU))
	})
	return out
}

// InvoiceDelta is the change to one invoice's amounts: what the items added
// and what the items removed, each as [costexplorer.InvoiceAmounts] sums
// them, so that a charge restated as a credit moves both sums.
type InvoiceDelta struct {
	Added, Removed costexplorer.InvoiceAmounts
}

// Charges and Credits are the net changes to the invoice's sums.
func (d *InvoiceDelta) Charges() costexplorer.Cents { return d.Added.Charges - d.Removed.Charges }
func (d *InvoiceDelta) Credits() costexplorer.Cents { return d.Added.Credits - d.Removed.Credits }

// InvoiceChange is an invoice's surrogate key and its delta.
type InvoiceChange struct {
	Invoice int64
	InvoiceDelta
}

// Invoices returns the invoices the items changed, in key order.
func (d *RollupDelta) Invoices() []InvoiceChange {
	out := make([]InvoiceChange, 0, len(d.invoices))
	for k, v := range d.invoices {
		out = append(out, InvoiceChange{k, *v})
	}
	slices.SortFunc(out, func(a, b InvoiceChange) int { return cmp.Compare(a.Invoice, b.Invoice) })
	return out
}

// Add adds the amounts of rows to their cells.
func (d *RollupDelta) Add(rows []ItemRow) { d.add(rows, 1) }

// Remove subtracts the amounts of rows from their cells.
func (d *RollupDelta) Remove(rows []ItemRow) { d.add(rows, -1) }

func (d *RollupDelta) add(rows []ItemRow, sign costexplorer.Cents) {
	if d.cells == nil {
		d.cells = map[CellKey]costexplorer.Cents{}
		d.invoices = map[int64]*InvoiceDelta{}
		d.shrunk = map[CellKey]bool{}
		d.counts = map[CountKey]*ItemCount{}
	}
	var (
		inv    *InvoiceDelta
		last   int64 = -1
		cnt    *ItemCount
		ck     = CountKey{Invoice: -1}
		month  costexplorer.Month
		lo, hi costexplorer.Day // the days of month: [lo, hi)
	)
	for i := range rows {
		r := &rows[i]
		if day := r.Item.Date; day < lo || day >= hi { // an invoice's rows share their month: one calendar conversion a month
			month = day.Month()
			lo, hi = costexplorer.DayOf(month.Start()), costexplorer.DayOf((month + 1).Start())
		}
		k := CellKey{month, r.Org, r.Project, r.Cluster, r.Service}
		d.cells[k] += sign * r.Item.Amount
		if sign < 0 {
			d.shrunk[k] = true
		}
		if k := (CountKey{r.Invoice, r.Project, r.Cluster, r.SKU}); k != ck { // one resource's items mostly follow each other
			if ck = k; d.counts[k] == nil {
				d.counts[k] = &ItemCount{}
			}
			cnt = d.counts[k]
		}
		cnt.Items += int64(sign)
		cnt.Amount += sign * r.Item.Amount
		if r.Item.Amount != 0 {
			cnt.NonZero += int64(sign)
		}
		if r.Invoice != last { // an invoice's rows mostly follow each other
			last = r.Invoice
			if inv = d.invoices[last]; inv == nil {
				inv = &InvoiceDelta{}
				d.invoices[last] = inv
			}
		}
		if sign > 0 {
			inv.Added.Add(r.Item.Amount)
		} else {
			inv.Removed.Add(r.Item.Amount)
		}
	}
}

// touches reports whether items of the invoice were added or removed.
func (d *RollupDelta) touches(invoice int64) bool {
	_, ok := d.invoices[invoice]
	return ok
}

// Shrunk returns the cells that lost items, in key order: a cell left
// without items must leave the rollup (see [Store.Ingest]), which a sum
// cannot tell.
func (d *RollupDelta) Shrunk() []CellKey {
	out := make([]CellKey, 0, len(d.shrunk))
	for k := range d.shrunk {
		out = append(out, k)
	}
	slices.SortFunc(out, CompareCells)
	return out
}

// Cells returns the changed cells in key order, which makes the rollup's
// b-tree inserts sequential and the deltas reported stable.
func (d *RollupDelta) Cells() []Cell {
	out := make([]Cell, 0, len(d.cells))
	for k, v := range d.cells {
		out = append(out, Cell{k, v})
	}
	slices.SortFunc(out, func(a, b Cell) int { return CompareCells(a.CellKey, b.CellKey) })
	return out
}

// Totals is what a set of inserted line items adds to the running totals of
// usage_state.
type Totals struct {
	Items    int
	Cents    costexplorer.Cents
	FirstDay costexplorer.Day // of the earliest item; zero when Items is 0
	LastDay  costexplorer.Day // of the latest item
}

// TotalsOf sums rows.
func TotalsOf(rows []ItemRow) Totals {
	if len(rows) == 0 {
		return Totals{}
	}
	t := Totals{Items: len(rows), FirstDay: rows[0].Item.Date, LastDay: rows[0].Item.Date}
	for i := range rows {
		li := rows[i].Item
		t.Cents += li.Amount
		t.FirstDay, t.LastDay = min(t.FirstDay, li.Date), max(t.LastDay, li.Date)
	}
	return t
}

// Keys maps 24-hex ids (and SKUs) to surrogate keys, and surrogate keys back
// to 24-hex ids for the deltas.
type Keys struct {
	Orgs     map[string]int64
	Projects map[string]ProjectRef
	Clusters map[string]ClusterRef
	SKUs     map[SKUKey]int64
	Invoices map[InvoiceKey]InvoiceRef
	TagSets  map[costexplorer.Tags]int64
	Details  map[Details]int64

	orgExt, projectExt, clusterExt map[int64]string
}

// InvoiceKey names an invoice by its organization's surrogate key and month.
type InvoiceKey struct {
	Org   int64
	Month costexplorer.Month
}

// InvoiceRef is a stored invoice: its surrogate key and 24-hex id.
type InvoiceRef struct {
	ID  int64
	Ext string
}

// NewKeys returns empty maps.
func NewKeys() Keys {
	return Keys{
		Orgs: map[string]int64{}, Projects: map[string]ProjectRef{}, Clusters: map[string]ClusterRef{},
		SKUs: map[SKUKey]int64{}, Invoices: map[InvoiceKey]InvoiceRef{}, TagSets: map[costexplorer.Tags]int64{}, Details: map[Details]int64{},
		orgExt: map[int64]string{}, projectExt: map[int64]string{}, clusterExt: map[int64]string{},
	}
}

// PutOrg records organization ext's key.
func (k *Keys) PutOrg(ext string, id int64) { k.Orgs[ext], k.orgExt[id] = id, ext }

// PutProject records project ext's key.
func (k *Keys) PutProject(ext string, r ProjectRef) { k.Projects[ext], k.projectExt[r.ID] = r, ext }

// PutCluster records cluster ext's key.
func (k *Keys) PutCluster(ext string, r ClusterRef) { k.Clusters[ext], k.clusterExt[r.ID] = r, ext }

// RollupRows returns cells as rollup rows with 24-hex ids, in the order
// given; every key of cells must be known to k.
func (k *Keys) RollupRows(cells []Cell, services map[int64]costexplorer.Service) []costexplorer.RollupRow {
	out := make([]costexplorer.RollupRow, 0, len(cells))
	for _, c := range cells {
		out = append(out, costexplorer.RollupRow{
			Month:     c.Month,
			OrgID:     k.orgExt[c.Org],
			ProjectID: k.projectExt[c.Project],
			ClusterID: k.clusterExt[c.Cluster],
			Service:   services[c.Service],
			Amount:    c.Amount,
		})
	}
	return out
}

// KeyCache holds the surrogate keys of committed dimension rows, so that an
// ingest resolves its items without a query per dimension (of the
// dictionaries' rows, at most dictBound each). Entries stay valid forever:
// dimension rows are never deleted, and a project never moves to another
// organization nor a cluster to another project. Only keys of
// committed transactions may join it (see [KeyCache.Merge]): a key cached
// before could belong to a row rolled back.
type KeyCache struct {
	mu   sync.RWMutex
	keys Keys
}

// NewKeyCache returns an empty cache.
func NewKeyCache() *KeyCache { return &KeyCache{keys: NewKeys()} }

// Merge adds the keys of a committed transaction.
func (c *KeyCache) Merge(k *Keys) {
	c.mu.Lock()
	defer c.mu.Unlock()
	maps.Copy(c.keys.Orgs, k.Orgs)
	maps.Copy(c.keys.Projects, k.Projects)
	maps.Copy(c.keys.Clusters, k.Clusters)
	maps.Copy(c.keys.SKUs, k.SKUs)
	maps.Copy(c.keys.Invoices, k.Invoices)
	if len(c.keys.TagSets)+len(k.TagSets) > dictBound {
		c.keys.TagSets = map[costexplorer.Tags]int64{}
	}
	maps.Copy(c.keys.TagSets, k.TagSets)
	if len(c.keys.Details)+len(k.Details) > dictBound {
		c.keys.Details = map[Details]int64{}
	}
	maps.Copy(c.keys.Details, k.Details)
	maps.Copy(c.keys.orgExt, k.orgExt)
	maps.Copy(c.keys.projectExt, k.projectExt)
	maps.Copy(c.keys.clusterExt, k.clusterExt)
}

func cacheLookup[K comparable, V any](c *KeyCache, m func(*Keys) map[K]V, k K) (V, bool) {
	if c == nil {
		var zero V
		return zero, false
	}
	c.mu.RLock()
	v, ok := m(&c.keys)[k]
	c.mu.RUnlock()
	return v, ok
}

// cachedKey returns the value of k from own, or else from the cache, copying
// it into own.
func cachedKey[K comparable, V any](own map[K]V, c *KeyCache, of func(*Keys) map[K]V, k K) (V, bool) {
	if v, ok := own[k]; ok {
		return v, true
	}
	v, ok := cacheLookup(c, of, k)
	if ok {
		own[k] = v
	}
	return v, ok
}
