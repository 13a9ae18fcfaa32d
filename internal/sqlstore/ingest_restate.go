package sqlstore

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/costexplorer/costexplorer"
)

// This file is the restatement half of an ingest (UsageBatch.ReplaceInvoices):
// the items stored in a replaced invoice are read once, when a batch first
// lists it; each item of the ingest that belongs to it is matched against
// them by id (alike: left in place; changed: the stored row is deleted and
// the new one inserted); at the commit the stored items no item matched are
// deleted. Every removal goes through RollupDelta.Remove, so the rollup, the
// invoices' amounts and whatever else the planning maintains move by the
// difference in the ingest's transaction.
//
// Memory: the stored items of the replaced invoices (about 100 bytes each)
// until they are matched or swept; an invoice is one organization's month.

// storedItem is a stored line item of a replaced invoice: every column that
// decides whether an item of the batch is the same, and what its removal
// takes from the rollup.
type storedItem struct {
	project, cluster int64
	day              costexplorer.Day
	sku, service     int64
	quantity         float64
	unitPrice        int64
	cents            costexplorer.Cents
	billDay          costexplorer.Day
	detail, tagSet   int64
	discountPercent  float64
	discount         costexplorer.Cents
}

// storedOf returns the columns r would be stored with.
func storedOf(r *ItemRow) storedItem {
	li := r.Item
	return storedItem{r.Project, r.Cluster, li.Date, r.SKU, r.Service, li.Quantity, li.UnitPriceNanos, li.Amount,
		li.BillDate, r.Detail, r.TagSet, li.DiscountPercent, li.Discount}
}

// row returns the stored item as a resolved row, for its removal.
func (s *storedItem) row(id costexplorer.LineItemID, org, invoice int64) ItemRow {
	return ItemRow{
		Item: &costexplorer.LineItem{ID: id, Date: s.day, Amount: s.cents, Quantity: s.quantity},
		Org:  org, Invoice: invoice, Project: s.project, Cluster: s.cluster, SKU: s.sku, Service: s.service,
		TagSet: s.tagSet, Detail: s.detail,
	}
}

// replacedInvoice is an invoice the ingest replaces: its stored items that
// no item of the ingest has matched yet.
type replacedInvoice struct {
	org int64
	old map[costexplorer.LineItemID]storedItem
}

// restatement is what an ingest replaces, over all its chunks.
type restatement struct {
	listed   map[string]bool            // the 24-hex ids listed so far
	invoices map[int64]*replacedInvoice // by surrogate key
	dropped  map[dictUse]bool           // dictionary rows that removed items used, by invoice
	removed  Totals                     // what the removed items took away
}

// listReplaced starts replacing the invoices that b lists and checks that
// the batch's items (rows, resolved) all belong to replaced invoices.
func (t *ingestTx) listReplaced(b *costexplorer.UsageBatch, rows []ItemRow) error {
	if len(b.ReplaceInvoices) == 0 {
		return nil
	}
	r := &t.restate
	if r.listed == nil {
		r.listed, r.invoices, r.dropped = map[string]bool{}, map[int64]*replacedInvoice{}, map[dictUse]bool{}
	}
	for _, ext := range b.ReplaceInvoices {
		if r.listed[ext] {
			continue
		}
		r.listed[ext] = true
		var id, org int64
		switch err := t.q.QueryRow(t.ctx, "SELECT id, org_id FROM invoices WHERE ext_id = ?", ext).Scan(&id, &org); {
		case t.s.d.IsNoRows(err):
			continue // no items to replace; an item of the batch would have created it
		case err != nil:
			return fmt.Errorf("replace invoice %s: %w", ext, err)
		}
		if t.delta.touches(id) {
			return validationErr("replace invoice %s: an earlier chunk of the session added items to it without replacing it", ext)
		}
		inv := &replacedInvoice{org: org, old: map[costexplorer.LineItemID]storedItem{}}
		err := Each(t.ctx, t.q, `SELECT li.id, li.project_id, li.cluster_id, li.day, li.sku_id, s.service, li.quantity, li.unit_price_nanos, li.cents,
			COALESCE(li.bill_day, 0), COALESCE(li.detail_id, 0), COALESCE(li.tag_set_id, 0), COALESCE(li.discount_percent, 0), COALESCE(li.discount_cents, 0)
			FROM line_items li JOIN skus s ON s.id = li.sku_id WHERE li.org_id = ? AND li.invoice_id = ?`, func(row Row) error {
			var id costexplorer.LineItemID
			var s storedItem
			var day, cents, billDay, discount int64
			if err := row.Scan(lineItemID{&id}, &s.project, &s.cluster, &day, &s.sku, &s.service, &s.quantity, &s.unitPrice, &cents,
				&billDay, &s.detail, &s.tagSet, &s.discountPercent, &discount); err != nil {
				return err
			}
			s.day, s.cents, s.billDay, s.discount = costexplorer.Day(day), costexplorer.Cents(cents), costexplorer.Day(billDay), costexplorer.Cents(discount)
			inv.old[id] = s
			return nil
		}, org, id)
		if err != nil {
			return fmt.Errorf("replace invoice %s: read its items: %w", ext, err)
		}
		r.invoices[id] = inv
	}
	// Every item must belong to a listed invoice; an invoice created by
	// this batch is listed under the id it was created with.
	var last int64 = -1
	for i := range rows {
		if rows[i].Invoice == last {
			continue
		}
		last = rows[i].Invoice
		if _, ok := r.invoices[last]; ok {
			continue
		}
		ext := t.invoiceExt(last)
		if !r.listed[ext] {
			li := rows[i].Item
			return validationErr("line item %s: its invoice %s (organization %s, %s) is not among the invoices the batch replaces",
				li.ID, ext, li.OrgID, li.Month())
		}
		// Listed, created by this batch: nothing stored to replace.
		r.invoices[last] = &replacedInvoice{org: rows[i].Org, old: map[costexplorer.LineItemID]storedItem{}}
	}
	return nil
}

// invoiceExt returns the 24-hex id of the invoice with surrogate key id,
// which the transaction has resolved.
func (t *ingestTx) invoiceExt(id int64) string {
	for _, ref := range t.Invoices {
		if ref.ID == id {
			return ref.Ext
		}
	}
	return ""
}

// restateItems matches the rows of replaced invoices (unique, in key order)
// against their stored items and returns the rows to insert: a row stored
// alike is left out (a duplicate), a row stored with another content
// replaces the stored one, which is deleted now.
func (t *ingestTx) restateItems(unique []ItemRow) ([]ItemRow, error) {
	if len(t.restate.invoices) == 0 {
		return unique, nil
	}
	var gone []ItemRow
	out := unique[:0]
	for i := range unique {
		r := unique[i]
		inv := t.restate.invoices[r.Invoice]
		if inv == nil {
			out = append(out, r)
			continue
		}
		old, ok := inv.old[r.Item.ID]
		if !ok {
			out = append(out, r)
			continue
		}
		delete(inv.old, r.Item.ID)
		if old == storedOf(&r) {
			continue
		}
		gone = append(gone, old.row(r.Item.ID, r.Org, r.Invoice))
		out = append(out, r)
	}
	return out, t.removeItems(gone)
}

// sweepReplaced deletes the stored items of the replaced invoices that no
// item of the ingest matched, and rebuilds the dictionary lists of the
// invoices that lost items: the end of a restatement, at the commit.
func (t *ingestTx) sweepReplaced() error {
	r := &t.restate
	for _, k := range slices.Sorted(maps.Keys(r.invoices)) {
		inv := r.invoices[k]
		gone := make([]ItemRow, 0, len(inv.old))
		for id, s := range inv.old {
			gone = append(gone, s.row(id, inv.org, k))
		}
		inv.old = nil
		slices.SortFunc(gone, CompareItems)
		if err := t.removeItems(gone); err != nil {
			return err
		}
	}
	// An invoice's lists name the tag sets and details its items use: a row
	// that removed items used leaves the list when no item uses it still.
	for _, u := range slices.SortedFunc(maps.Keys(r.dropped), compareDictUses) {
		l := dictLists[u.list]
		if err := t.bulk.Exec(t.ctx, "DELETE FROM "+l.table+" WHERE invoice_id = ? AND "+l.column+" = ? AND NOT EXISTS (SELECT 1 FROM line_items WHERE org_id = ? AND invoice_id = ? AND "+l.column+" = ?)",
			u.invoice, u.dict, r.invoices[u.invoice].org, u.invoice, u.dict); err != nil {
			return fmt.Errorf("%s: %w", l.table, err)
		}
	}
	return nil
}

// dictLists are the invoices' lists of the dictionary rows their items use.
var dictLists = [2]struct{ table, column string }{{"invoice_tag_sets", "tag_set_id"}, {"invoice_details", "detail_id"}}

// dictUse is the use of a dictionary row (of dictLists[list]) by an
// invoice's items.
type dictUse struct {
	list          int
	invoice, dict int64
}

func compareDictUses(a, b dictUse) int {
	return cmp.Or(cmp.Compare(a.list, b.list), cmp.Compare(a.invoice, b.invoice), cmp.Compare(a.dict, b.dict))
}

// removeItems deletes the stored rows gone (in key order) and takes them
// from the rollup, the invoices' amounts and the running totals.
func (t *ingestTx) removeItems(gone []ItemRow) error {
	if len(gone) == 0 {
		return nil
	}
	var err error
	if t.opts.Arrays {
		err = eachChunkOf(arrayChunk, len(gone), func(start, end int) error {
			n := end - start
			orgs, invoices, projects, clusters, days := make([]int32, n), make([]int32, n), make([]int32, n), make([]int32, n), make([]int32, n)
			ids := make([][]byte, n)
			for i, r := range gone[start:end] {
				orgs[i], invoices[i], projects[i], clusters[i], days[i] = int32(r.Org), int32(r.Invoice), int32(r.Project), int32(r.Cluster), int32(r.Item.Date)
				ids[i] = r.Item.ID[:]
			}
			return t.bulk.Exec(t.ctx, `DELETE FROM line_items li USING unnest(?::int[], ?::int[], ?::int[], ?::int[], ?::int[], ?::bytea[]) AS k(o, i, p, c, d, id)
			WHERE li.org_id = k.o AND li.invoice_id = k.i AND li.project_id = k.p AND li.cluster_id = k.c AND li.day = k.d AND li.id = k.id`,
				orgs, invoices, projects, clusters, days, ids)
		})
	} else {
		for i := range gone {
			r := &gone[i]
			if err = t.bulk.Exec(t.ctx, "DELETE FROM line_items WHERE org_id = ? AND invoice_id = ? AND project_id = ? AND cluster_id = ? AND day = ? AND id = ?",
				r.Org, r.Invoice, r.Project, r.Cluster, int64(r.Item.Date), r.Item.ID[:]); err != nil {
				break
			}
		}
	}
	if err != nil {
		return fmt.Errorf("delete restated line items: %w", err)
	}
	t.delta.Remove(gone)
	t.restate.removed = t.restate.removed.Plus(TotalsOf(gone))
	for i := range gone {
		r := &gone[i]
		for list, dict := range [2]int64{r.TagSet, r.Detail} {
			if dict != 0 {
				t.restate.dropped[dictUse{list, r.Invoice, dict}] = true
			}
		}
	}
	return nil
}
