package sqlstore

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/costexplorer/costexplorer"
)

// This file is the invoice half of an ingest: the invoice of every item
// (created on its first item), the dictionary keys of its tags and details,
// the invoices' amounts moved by the items inserted, and the metadata a batch
// records (UsageBatch.Invoices).

// Details are the descriptive fields of a line item, which many items share
// (a cluster's region and replica set, a SKU's description): the store keeps
// each distinct combination once, in item_details.
type Details struct {
	Description, Note, Region, ReplicaSet, ConfigServer, Application string
}

// DetailsOf returns li's details.
func DetailsOf(li *costexplorer.LineItem) Details {
	return Details{li.Description, li.Note, li.Region, li.ReplicaSet, li.ConfigServer, li.Application}
}

// Apply sets li's descriptive fields to d.
func (d Details) Apply(li *costexplorer.LineItem) {
	li.Description, li.Note, li.Region, li.ReplicaSet, li.ConfigServer, li.Application =
		d.Description, d.Note, d.Region, d.ReplicaSet, d.ConfigServer, d.Application
}

// Encode returns the canonical encoding of d, the key of item_details: a
// JSON array of the six fields (any text survives it).
func (d Details) Encode() string {
	b, _ := json.Marshal([]string{d.Description, d.Note, d.Region, d.ReplicaSet, d.ConfigServer, d.Application})
	return string(b)
}

// DecodeDetails reads what Encode writes.
func DecodeDetails(s string) (Details, error) {
	var f []string
	if err := json.Unmarshal([]byte(s), &f); err != nil || len(f) != 6 {
		return Details{}, fmt.Errorf("item details %q: not an array of six strings", s)
	}
	return Details{f[0], f[1], f[2], f[3], f[4], f[5]}, nil
}

// resolveInvoices sets the invoice of every row, creating the invoices of
// this batch's organizations and months not stored yet, and returns the
// invoices of metas, in order. A new invoice takes the id the batch gives
// it (metadata first, then an item's InvoiceID), else the derived one; an
// invoice keeps its id for good, and later items of its organization and
// month join it whatever id they name, so that a file imported first with
// its Invoice Number and again in its bare form (whose ids are derived) is
// one import. Metadata naming another id than its stored invoice's, or a
// new invoice whose id is another organization's or month's, is
// ErrConflict.
func (t *ingestTx) resolveInvoices(rows []ItemRow, metas []costexplorer.Invoice) ([]InvoiceRef, error) {
	want := map[InvoiceKey]string{}
	metaKeys := make([]InvoiceKey, len(metas))
	for i := range metas {
		m := &metas[i]
		org, err := t.Org(m.OrgID)
		if err != nil {
			return nil, inBatch(m.String(), err)
		}
		k := InvoiceKey{org, m.Month}
		if prev, ok := want[k]; ok && prev != m.ID {
			return nil, validationErr("%s: the batch names invoices %s and %s for organization %s, %s", m, prev, m.ID, m.OrgID, m.Month)
		}
		want[k], metaKeys[i] = m.ID, k
	}
	var (
		cur     = newInvoiceCursor()
		known   bool
		missing []InvoiceKey
	)
	for i := range rows {
		r := &rows[i]
		if cur.next(r) {
			k := cur.key
			if _, known = t.invoice(k); !known {
				if _, seen := want[k]; !seen {
					missing = append(missing, k)
					want[k] = ""
				}
			}
		}
		if !known && want[cur.key] == "" && r.Item.InvoiceID != "" {
			want[cur.key] = r.Item.InvoiceID
		}
	}
	for _, k := range metaKeys {
		if _, ok := t.invoice(k); !ok && !slices.Contains(missing, k) {
			missing = append(missing, k)
		}
	}
	if err := t.createInvoices(missing, want); err != nil {
		return nil, err
	}
	var ref InvoiceRef
	cur = newInvoiceCursor()
	for i := range rows {
		r := &rows[i]
		if cur.next(r) {
			ref, _ = t.invoice(cur.key)
		}
		if ref.ID == 0 {
			return nil, fmt.Errorf("line item %s: invoice not resolved", r.Item.ID)
		}
		r.Invoice = ref.ID
	}
	refs := make([]InvoiceRef, len(metas))
	for i, k := range metaKeys {
		refs[i], _ = t.invoice(k)
		if refs[i].Ext != metas[i].ID {
			return nil, costexplorer.Errorf(costexplorer.ErrConflict, "%s: the invoice of organization %s for %s is %s",
				&metas[i], metas[i].OrgID, metas[i].Month, refs[i].Ext)
		}
	}
	return refs, nil
}

// invoiceCursor follows the invoice key of consecutive rows. Items come
// grouped by resource and day, so that an invoice is looked up only when the
// organization or month changes from the item before.
type invoiceCursor struct {
	day   costexplorer.Day
	month costexplorer.Month
	key   InvoiceKey
}

func newInvoiceCursor() invoiceCursor { return invoiceCursor{day: -1, key: InvoiceKey{Org: -1}} }

// next moves to r and reports whether its invoice key differs from the
// row before's.
func (c *invoiceCursor) next(r *ItemRow) bool {
	if r.Item.Date != c.day {
		c.day, c.month = r.Item.Date, r.Item.Date.Month()
	}
	k := InvoiceKey{r.Org, c.month}
	if k == c.key {
		return false
	}
	c.key = k
	return true
}

// invoice returns the invoice of k if the transaction or the cache knows it.
func (t *ingestTx) invoice(k InvoiceKey) (InvoiceRef, bool) {
	return cachedKey(t.Invoices, t.Cache, invoicesOf, k)
}

// createInvoices reads the stored invoices of the organizations of keys, and
// creates those of keys still missing, with the ids want gives (derived when
// empty).
func (t *ingestTx) createInvoices(keys []InvoiceKey, want map[InvoiceKey]string) error {
	if len(keys) == 0 {
		return nil
	}
	var orgs []any
	for _, k := range keys {
		if !slices.Contains(orgs, any(k.Org)) {
			orgs = append(orgs, k.Org)
		}
	}
	err := eachChunk(len(orgs), func(start, end int) error {
		return Each(t.ctx, t.q, "SELECT id, ext_id, org_id, month FROM invoices WHERE ext_id IS NOT NULL AND org_id IN ("+placeholders(end-start)+")", func(r Row) error {
			var ref InvoiceRef
			var k InvoiceKey
			if err := r.Scan(&ref.ID, &ref.Ext, &k.Org, &k.Month); err != nil {
				return err
			}
			t.Invoices[k] = ref
			return nil
		}, orgs[start:end]...)
	})
	if err != nil {
		return fmt.Errorf("find invoices: %w", err)
	}
	now := t.s.now().UnixMicro()
	for _, k := range keys {
		if _, ok := t.Invoices[k]; ok {
			continue
		}
		orgExt := t.orgExt[k.Org]
		ext := want[k]
		if ext == "" {
			ext = costexplorer.InvoiceID(orgExt, k.Month)
		}
		var org, month int64
		switch err := t.q.QueryRow(t.ctx, "SELECT org_id, month FROM invoices WHERE ext_id = ?", ext).Scan(&org, &month); {
		case err == nil:
			return costexplorer.Errorf(costexplorer.ErrConflict, "invoice %s of organization %s for %s: the id is another invoice's (%s)",
				ext, orgExt, k.Month, costexplorer.Month(month))
		case !t.s.d.IsNoRows(err):
			return err
		}
		ref := InvoiceRef{Ext: ext}
		if err := t.q.QueryRow(t.ctx, "INSERT INTO invoices (ext_id, org_id, month, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
			ext, k.Org, int64(k.Month), now, now).Scan(&ref.ID); err != nil {
			return fmt.Errorf("create invoice %s: %w", ext, err)
		}
		t.Invoices[k] = ref
		t.changed = true
	}
	return nil
}

// dictBound is how many keys of tag sets, and of item details, a
// transaction and the process's [KeyCache] hold at most: they cache the
// dictionary tables, whose rows are as many as the distinct values in the
// data (an invoice whose Note differs on every row has as many details as
// rows), so that held without bound they would grow with a file's rows. A
// key not held is read from its table again. A variable for tests.
var dictBound = 1 << 15

// resolveDicts sets the tag-set and details keys of every row, creating the
// dictionary rows not stored yet.
func (t *ingestTx) resolveDicts(rows []ItemRow) error {
	// The keys of earlier chunks go past the bound: this chunk's are
	// found again in the cache or the tables.
	if len(t.TagSets) > dictBound {
		t.TagSets = map[costexplorer.Tags]int64{}
	}
	if len(t.Details) > dictBound {
		t.Details = map[Details]int64{}
	}
	var (
		tags    map[costexplorer.Tags]bool
		details map[Details]bool
	)
	var (
		lastTags    costexplorer.Tags
		lastDetails Details
	)
	for i := range rows {
		li := rows[i].Item
		if !li.Tags.IsZero() && li.Tags != lastTags {
			lastTags = li.Tags
			if _, ok := t.tagSet(li.Tags); !ok {
				if tags == nil {
					tags = map[costexplorer.Tags]bool{}
				}
				tags[li.Tags] = true
			}
		}
		if d := DetailsOf(li); d != (Details{}) && d != lastDetails {
			lastDetails = d
			if _, ok := t.detail(d); !ok {
				if details == nil {
					details = map[Details]bool{}
				}
				details[d] = true
			}
		}
	}
	if len(tags) > 0 {
		encs := make(map[string]costexplorer.Tags, len(tags))
		for tg := range tags {
			encs[tg.String()] = tg
		}
		if err := dictIDs(t, "tag_sets", encs, func(tg costexplorer.Tags, id int64) { t.TagSets[tg] = id }); err != nil {
			return fmt.Errorf("tag sets: %w", err)
		}
	}
	if len(details) > 0 {
		encs := make(map[string]Details, len(details))
		for d := range details {
			encs[d.Encode()] = d
		}
		if err := dictIDs(t, "item_details", encs, func(d Details, id int64) { t.Details[d] = id }); err != nil {
			return fmt.Errorf("item details: %w", err)
		}
	}
	// Consecutive items mostly share their tags and details (one resource's
	// items of a day): look them up only when they change.
	lastTags, lastDetails = costexplorer.Tags{}, Details{}
	var lastTag, lastDetail int64
	for i := range rows {
		r := &rows[i]
		if tg := r.Item.Tags; !tg.IsZero() {
			if tg != lastTags || lastTag == 0 {
				lastTags, lastTag = tg, t.TagSets[tg]
			}
			r.TagSet = lastTag
		}
		if d := DetailsOf(r.Item); d != (Details{}) {
			if d != lastDetails || lastDetail == 0 {
				lastDetails, lastDetail = d, t.Details[d]
			}
			r.Detail = lastDetail
		}
	}
	return nil
}

// tagSet and detail return the key of a tag set or of item details if the
// transaction or the cache knows it.
func (t *ingestTx) tagSet(tg costexplorer.Tags) (int64, bool) {
	return cachedKey(t.TagSets, t.Cache, tagSetsOf, tg)
}

func (t *ingestTx) detail(d Details) (int64, bool) {
	return cachedKey(t.Details, t.Cache, detailsOf, d)
}

// dictIDs adds the encodings encs to a dictionary table where they are not
// stored yet and calls set with the key of each: one statement to add them
// and one to read their keys a chunk of encodings (over arrays, 65,536 a
// chunk, where the dialect binds them; else 256), not two round trips an
// entry (an invoice CSV whose Note differs on every row has as many details
// as rows; one by one, PostgreSQL's round trips took 300,000 such rows
// 90 s). New entries get keys in the order of their encodings.
func dictIDs[V any](t *ingestTx, table string, encs map[string]V, set func(V, int64)) error {
	sorted := slices.Sorted(maps.Keys(encs))
	insert := func(source string) string {
		return "INSERT INTO " + table + " (enc) " + source + " ON CONFLICT (enc) DO NOTHING"
	}
	if err := t.upsert(insert, []string{"text"}, len(sorted), func(i int, row []any) { row[0] = sorted[i] }); err != nil {
		return err
	}
	size := chunk
	if t.opts.Arrays {
		size = arrayChunk
	}
	return eachChunkOf(size, len(sorted), func(start, end int) error {
		q, args := "SELECT id, enc FROM "+table+" WHERE enc = ANY(?::text[])", []any{sorted[start:end]}
		if !t.opts.Arrays {
			q, args = "SELECT id, enc FROM "+table+" WHERE enc IN ("+placeholders(end-start)+")", args[:0]
			for _, enc := range sorted[start:end] {
				args = append(args, enc)
			}
		}
		found := 0
		err := Each(t.ctx, t.q, q, func(r Row) error {
			var (
				id  int64
				enc string
			)
			if err := r.Scan(&id, &enc); err != nil {
				return err
			}
			v, ok := encs[enc]
			if !ok {
				return fmt.Errorf("%s: key %d for an encoding not asked for", table, id)
			}
			set(v, id)
			found++
			return nil
		}, args...)
		if err == nil && found != end-start {
			err = fmt.Errorf("%s: %d of %d encodings found after their insert", table, found, end-start)
		}
		return err
	})
}

// addInvoices moves the amounts of the invoices the inserted items changed,
// and their updated time, and lists the tag sets they now use.
func (t *ingestTx) addInvoices(changes []InvoiceChange, inserted []ItemRow) error {
	now := t.s.now().UnixMicro()
	for _, c := range changes {
		if err := t.bulk.Exec(t.ctx, `UPDATE invoices SET charges_cents = charges_cents + ?, credits_cents = credits_cents + ?,
			updated_at = CASE WHEN updated_at < ? THEN ? ELSE updated_at + 1 END WHERE id = ?`,
			int64(c.Charges()), int64(c.Credits()), now, now, c.Invoice); err != nil {
			return fmt.Errorf("update invoice amounts: %w", err)
		}
	}
	if err := t.addInvoiceDicts("invoice_tag_sets", "tag_set_id", inserted, func(r *ItemRow) int64 { return r.TagSet }); err != nil {
		return err
	}
	return t.addInvoiceDicts("invoice_details", "detail_id", inserted, func(r *ItemRow) int64 { return r.Detail })
}

// addInvoiceDicts lists in table the dictionary rows (key of) the inserted
// items use, by invoice.
func (t *ingestTx) addInvoiceDicts(table, column string, inserted []ItemRow, key func(*ItemRow) int64) error {
	type pair struct{ invoice, dict int64 }
	var pairs []pair
	seen := map[pair]bool{}
	for i := range inserted {
		r := &inserted[i]
		if p := (pair{r.Invoice, key(r)}); p.dict != 0 && !seen[p] {
			seen[p] = true
			pairs = append(pairs, p)
		}
	}
	err := t.upsert(func(source string) string {
		return "INSERT INTO " + table + " (invoice_id, " + column + ") " + source + " ON CONFLICT (invoice_id, " + column + ") DO NOTHING"
	}, []string{"int", "int"}, len(pairs), func(i int, row []any) { row[0], row[1] = pairs[i].invoice, pairs[i].dict })
	if err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	return nil
}

// recordInvoices records the metadata of metas on their invoices (refs),
// where it differs from what is stored.
func (t *ingestTx) recordInvoices(metas []costexplorer.Invoice, refs []InvoiceRef) error {
	for i := range metas {
		m, ref := &metas[i], refs[i]
		if !m.Updated.IsZero() {
			if t.updated == nil {
				t.updated = map[int64]time.Time{}
			}
			t.updated[ref.ID] = m.Updated
		}
		stored, err := readInvoiceMeta(t.ctx, t.q, ref.ID)
		if err != nil {
			return fmt.Errorf("read %s: %w", m, err)
		}
		if sameMeta(stored, m) {
			continue
		}
		now := t.s.now().UnixMicro()
		created := Micros(m.Created)
		if _, err := t.q.Exec(t.ctx, `UPDATE invoices SET status = ?, issued_at = ?, sales_tax_cents = ?, starting_balance_cents = ?,
			created_at = COALESCE(?, created_at), updated_at = CASE WHEN updated_at < ? THEN ? ELSE updated_at + 1 END WHERE id = ?`,
			string(m.RecordedStatus), Micros(m.Issued), int64(m.SalesTax), int64(m.StartingBalance), created, now, now, ref.ID); err != nil {
			return fmt.Errorf("record %s: %w", m, err)
		}
		for _, table := range []string{"invoice_payments", "invoice_refunds"} {
			if _, err := t.q.Exec(t.ctx, "DELETE FROM "+table+" WHERE invoice_id = ?", ref.ID); err != nil {
				return fmt.Errorf("record %s: %w", m, err)
			}
		}
		for j := range m.Payments {
			p := &m.Payments[j]
			if _, err := t.q.Exec(t.ctx, `INSERT INTO invoice_payments (invoice_id, seq, ext_id, status, currency, unit_price,
				subtotal_cents, sales_tax_cents, amount_billed_cents, amount_paid_cents, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ref.ID, j, p.ID, string(p.Status), p.Currency, p.UnitPrice,
				int64(p.Subtotal), int64(p.SalesTax), int64(p.AmountBilled), int64(p.AmountPaid), Micros(p.Created), Micros(p.Updated)); err != nil {
				return fmt.Errorf("record %s: payment %s: %w", m, p.ID, err)
			}
		}
		for j := range m.Refunds {
			r := &m.Refunds[j]
			if _, err := t.q.Exec(t.ctx, `INSERT INTO invoice_refunds (invoice_id, seq, payment_ext_id, amount_cents, created_at, reason)
				VALUES (?, ?, ?, ?, ?, ?)`, ref.ID, j, r.PaymentID, int64(r.Amount), Micros(r.Created), r.Reason); err != nil {
				return fmt.Errorf("record %s: refund %d: %w", m, j, err)
			}
		}
		t.changed = true
	}
	return nil
}

// sameMeta reports whether the metadata m records is what stored holds
// already (times compared to the microsecond, as stored; a zero Created
// keeps the stored one).
func sameMeta(stored *costexplorer.Invoice, m *costexplorer.Invoice) bool {
	eq := func(a, b time.Time) bool { return a.IsZero() == b.IsZero() && a.UnixMicro() == b.UnixMicro() }
	if stored.RecordedStatus != m.RecordedStatus || !eq(stored.Issued, m.Issued) || stored.SalesTax != m.SalesTax ||
		stored.StartingBalance != m.StartingBalance || (!m.Created.IsZero() && !eq(stored.Created, m.Created)) {
		return false
	}
	return slices.EqualFunc(stored.Payments, m.Payments, func(a, b costexplorer.Payment) bool {
		return a.ID == b.ID && a.Status == b.Status && a.Currency == b.Currency && a.UnitPrice == b.UnitPrice &&
			a.Subtotal == b.Subtotal && a.SalesTax == b.SalesTax && a.AmountBilled == b.AmountBilled &&
			a.AmountPaid == b.AmountPaid && eq(a.Created, b.Created) && eq(a.Updated, b.Updated)
	}) && slices.EqualFunc(stored.Refunds, m.Refunds, func(a, b costexplorer.Refund) bool {
		return a.PaymentID == b.PaymentID && a.Amount == b.Amount && a.Reason == b.Reason && eq(a.Created, b.Created)
	})
}

// stampInvoices sets the Updated stamps the ingest's metadata gave, last:
// after every change of the ingest that moves an invoice's own stamp.
func (t *ingestTx) stampInvoices() error {
	for id, at := range t.updated {
		if err := t.bulk.Exec(t.ctx, "UPDATE invoices SET updated_at = ? WHERE id = ?", Micros(at), id); err != nil {
			return fmt.Errorf("stamp invoice: %w", err)
		}
	}
	return nil
}
