package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/costexplorer/costexplorer"
)

// The invoice reads of costexplorer.InvoiceStore. An organization has one
// invoice a month, so its invoices are read whole (a few hundred rows at
// most) and filtered, sorted and paged by the domain's own rules
// (InvoiceListQuery.Apply): statuses depend on the date of the request, not
// on anything stored. Line items are read in key order, one invoice being
// one range of the line_items key.

const invoiceSelect = `SELECT i.id, i.ext_id, o.ext_id, i.month, i.status, i.issued_at, i.charges_cents, i.credits_cents,
	i.sales_tax_cents, i.starting_balance_cents, i.created_at, i.updated_at
	FROM invoices i JOIN organizations o ON o.id = i.org_id`

// loadInvoices reads the invoices selected by where (over invoices i and
// organizations o), ordered by month then organization id, with their
// payments and refunds, within q.
func loadInvoices(ctx context.Context, q Querier, where string, args ...any) ([]*costexplorer.Invoice, error) {
	var out []*costexplorer.Invoice
	byKey := map[int64]*costexplorer.Invoice{}
	err := Each(ctx, q, invoiceSelect+" WHERE i.ext_id IS NOT NULL AND "+where+" ORDER BY i.month, o.ext_id", func(r Row) error {
		var (
			inv                                    costexplorer.Invoice
			key, month                             int64
			status                                 string
			issued, created, updated               Time
			charges, credits, tax, startingBalance int64
		)
		if err := r.Scan(&key, &inv.ID, &inv.OrgID, &month, &status, &issued, &charges, &credits, &tax, &startingBalance, &created, &updated); err != nil {
			return err
		}
		inv.Month, inv.RecordedStatus, inv.Issued = costexplorer.Month(month), costexplorer.InvoiceStatus(status), issued.Time
		inv.Amounts = costexplorer.InvoiceAmounts{Charges: costexplorer.Cents(charges), Credits: costexplorer.Cents(credits)}
		inv.SalesTax, inv.StartingBalance = costexplorer.Cents(tax), costexplorer.Cents(startingBalance)
		inv.Created, inv.Updated = created.Time, updated.Time
		out = append(out, &inv)
		byKey[key] = &inv
		return nil
	}, args...)
	if err != nil || len(out) == 0 {
		return out, err
	}
	sub := " WHERE invoice_id IN (SELECT i.id FROM invoices i JOIN organizations o ON o.id = i.org_id WHERE i.ext_id IS NOT NULL AND " + where + ") ORDER BY invoice_id, seq"
	err = Each(ctx, q, `SELECT invoice_id, ext_id, status, currency, unit_price, subtotal_cents, sales_tax_cents,
		amount_billed_cents, amount_paid_cents, created_at, updated_at FROM invoice_payments`+sub, func(r Row) error {
		var (
			key                         int64
			p                           costexplorer.Payment
			status                      string
			subtotal, tax, billed, paid int64
			created, updated            Time
		)
		if err := r.Scan(&key, &p.ID, &status, &p.Currency, &p.UnitPrice, &subtotal, &tax, &billed, &paid, &created, &updated); err != nil {
			return err
		}
		p.Status = costexplorer.PaymentStatus(status)
		p.Subtotal, p.SalesTax, p.AmountBilled, p.AmountPaid = costexplorer.Cents(subtotal), costexplorer.Cents(tax), costexplorer.Cents(billed), costexplorer.Cents(paid)
		p.Created, p.Updated = created.Time, updated.Time
		if inv := byKey[key]; inv != nil {
			inv.Payments = append(inv.Payments, p)
		}
		return nil
	}, args...)
	if err != nil {
		return nil, err
	}
	err = Each(ctx, q, "SELECT invoice_id, payment_ext_id, amount_cents, created_at, reason FROM invoice_refunds"+sub, func(r Row) error {
		var (
			key, amount int64
			rf          costexplorer.Refund
			created     Time
		)
		if err := r.Scan(&key, &rf.PaymentID, &amount, &created, &rf.Reason); err != nil {
			return err
		}
		rf.Amount, rf.Created = costexplorer.Cents(amount), created.Time
		if inv := byKey[key]; inv != nil {
			inv.Refunds = append(inv.Refunds, rf)
		}
		return nil
	}, args...)
	return out, err
}

// readInvoiceMeta reads the invoice with surrogate key id within q.
func readInvoiceMeta(ctx context.Context, q Querier, id int64) (*costexplorer.Invoice, error) {
	invs, err := loadInvoices(ctx, q, "i.id = ?", id)
	if err != nil {
		return nil, err
	}
	if len(invs) != 1 {
		return nil, fmt.Errorf("invoice #%d not found", id)
	}
	return invs[0], nil
}

// linkInvoices fills the Linked of invs (invoices of one organization) with
// the invoices of the same month of the organizations linked to it.
func linkInvoices(ctx context.Context, q Querier, orgID string, invs []*costexplorer.Invoice) error {
	if len(invs) == 0 {
		return nil
	}
	lo, hi := invs[0].Month, invs[0].Month
	for _, inv := range invs {
		lo, hi = min(lo, inv.Month), max(hi, inv.Month)
	}
	linked, err := loadInvoices(ctx, q, "o.paying_org_id = (SELECT id FROM organizations WHERE ext_id = ?) AND i.month BETWEEN ? AND ?",
		orgID, int64(lo), int64(hi))
	if err != nil {
		return err
	}
	for _, inv := range invs {
		for _, l := range linked {
			if l.Month == inv.Month {
				inv.Linked = append(inv.Linked, l)
			}
		}
	}
	return nil
}

// Invoice implements costexplorer.InvoiceStore.
func (s *Store) Invoice(ctx context.Context, orgIDs []string, id string) (*costexplorer.Invoice, error) {
	missing := notFound("invoice %s not found", id)
	if !costexplorer.IsID(id) {
		return nil, missing
	}
	var inv *costexplorer.Invoice
	err := s.r.ReadTx(ctx, func(q Querier) error {
		invs, err := loadInvoices(ctx, q, "i.ext_id = ?", id)
		if err != nil {
			return err
		}
		if len(invs) != 1 || !slices.Contains(orgIDs, invs[0].OrgID) {
			return missing
		}
		inv = invs[0]
		return linkInvoices(ctx, q, inv.OrgID, invs)
	})
	if err != nil {
		return nil, err
	}
	return inv, nil
}

// Invoices implements costexplorer.InvoiceStore.
func (s *Store) Invoices(ctx context.Context, lq *costexplorer.InvoiceListQuery, now time.Time) ([]*costexplorer.Invoice, int, error) {
	var (
		page  []*costexplorer.Invoice
		total int
	)
	err := s.r.ReadTx(ctx, func(q Querier) error {
		all, err := loadInvoices(ctx, q, "o.ext_id = ?", lq.OrgID)
		if err != nil {
			return err
		}
		page, total = lq.Apply(all, now)
		if !lq.ViewLinkedInvoices {
			return nil
		}
		return linkInvoices(ctx, q, lq.OrgID, page)
	})
	if err != nil {
		return nil, 0, err
	}
	return page, total, nil
}

// PendingInvoice implements costexplorer.InvoiceStore.
func (s *Store) PendingInvoice(ctx context.Context, orgID string, now time.Time) (*costexplorer.Invoice, error) {
	var inv *costexplorer.Invoice
	err := s.r.ReadTx(ctx, func(q Querier) error {
		all, err := loadInvoices(ctx, q, "o.ext_id = ?", orgID)
		if err != nil {
			return err
		}
		for _, i := range slices.Backward(all) {
			if i.StatusAt(now) == costexplorer.InvoicePending {
				inv = i
				return linkInvoices(ctx, q, orgID, []*costexplorer.Invoice{inv})
			}
		}
		return notFound("organization %s has no pending invoice", orgID)
	})
	if err != nil {
		return nil, err
	}
	return inv, nil
}

// lineDecoder turns line_items rows of one invoice into invoice lines: it
// holds the invoice's organization, the names of its projects and clusters,
// the SKUs, and the tag sets and details the invoice's items use, read
// before the items (a connection reads one result at a time).
type lineDecoder struct {
	s                  *Store
	invoice, org       int64
	invoiceID          string
	orgID, orgName     string
	projects, clusters map[int64][2]string // ext id, name
	clusterProject     map[int64]int64
	skus               map[int64]SKUKey
	tags               map[int64]costexplorer.Tags
	details            map[int64]Details

	// lazy: the invoice's items use more tag sets or more item details
	// than dictBound (a Note that differs on every row makes as many
	// details as rows), so that holding them all would take memory in
	// proportion to the invoice: none are read before the items, and tags
	// and details keep at most dictBound of those met. A row then brings
	// the encodings of its own (joined: its query answers them after
	// lineColumns, into the encodings below), or decode leaves them to
	// resolve, which reads those of the rows decoded (a page).
	lazy, joined bool
	encs         [2]string      // the row's tag set and item details, joined
	pending      []pendingDicts // rows decoded without their dictionaries

	// The destinations of a row's columns (lineColumns), reused row after
	// row so that decoding allocates nothing of its own.
	row  lineRow
	dest []any
}

// pendingDicts is a line decoded without its tag set or item details: their
// keys, for resolve.
type pendingDicts struct {
	line            *costexplorer.InvoiceLine
	tagSet, details int64
}

// The columns and joins that bring a row's dictionary encodings with it
// (lineDecoder.joined).
const (
	joinedDictCols  = ", COALESCE(dt.enc, ''), COALESCE(dd.enc, '')"
	joinedDictJoins = " LEFT JOIN tag_sets dt ON dt.id = li.tag_set_id LEFT JOIN item_details dd ON dd.id = li.detail_id"
)

// lineRow holds one row of lineColumns as scanned.
type lineRow struct {
	id                                                                costexplorer.LineItemID
	project, cluster, sku, day, price, cents, billDay, detail, tagSet NullInt64
	discount                                                          NullInt64
	quantity, discountPercent                                         NullFloat64
}

// newLineDecoder reads what decoding the invoice's lines needs; nil when the
// invoice does not exist.
func (s *Store) newLineDecoder(ctx context.Context, q Querier, invoiceID string) (*lineDecoder, error) {
	d := &lineDecoder{s: s, invoiceID: invoiceID,
		projects: map[int64][2]string{0: {}}, clusters: map[int64][2]string{0: {}}, clusterProject: map[int64]int64{},
		skus: map[int64]SKUKey{}, tags: map[int64]costexplorer.Tags{0: {}}, details: map[int64]Details{0: {}}}
	w := &d.row
	d.dest = []any{lineItemID{&w.id}, &w.project, &w.cluster, &w.sku, &w.day, &w.quantity, &w.price, &w.cents,
		&w.billDay, &w.detail, &w.tagSet, &w.discountPercent, &w.discount}
	err := q.QueryRow(ctx, "SELECT i.id, i.org_id, o.ext_id, o.name FROM invoices i JOIN organizations o ON o.id = i.org_id WHERE i.ext_id = ?",
		invoiceID).Scan(&d.invoice, &d.org, &d.orgID, &d.orgName)
	if s.d.IsNoRows(err) || !costexplorer.IsID(invoiceID) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	names := func(query string, into map[int64][2]string, parent map[int64]int64) error {
		return Each(ctx, q, query, func(r Row) error {
			var id, p int64
			var ext, name string
			if err := r.Scan(&id, &ext, &name, &p); err != nil {
				return err
			}
			into[id] = [2]string{ext, name}
			if parent != nil {
				parent[id] = p
			}
			return nil
		}, d.org)
	}
	if err := names("SELECT id, ext_id, name, org_id FROM projects WHERE org_id = ?", d.projects, nil); err != nil {
		return nil, err
	}
	if err := names("SELECT c.id, c.ext_id, c.name, c.project_id FROM clusters c JOIN projects p ON p.id = c.project_id WHERE p.org_id = ?",
		d.clusters, d.clusterProject); err != nil {
		return nil, err
	}
	if err := loadSKUs(ctx, q, d.skus); err != nil {
		return nil, err
	}
	// Counted up to one past the bound: no more is needed.
	var tagSets, details int
	if err := q.QueryRow(ctx, "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM invoice_tag_sets WHERE invoice_id = ? LIMIT ?) t), (SELECT COUNT(*) FROM (SELECT 1 FROM invoice_details WHERE invoice_id = ? LIMIT ?) d)",
		d.invoice, dictBound+1, d.invoice, dictBound+1).Scan(&tagSets, &details); err != nil {
		return nil, err
	}
	if d.lazy = tagSets > dictBound || details > dictBound; d.lazy {
		return d, nil
	}
	err = eachText(ctx, q, "SELECT t.id, t.enc FROM tag_sets t JOIN invoice_tag_sets it ON it.tag_set_id = t.id WHERE it.invoice_id = ?", func(id int64, enc string) (err error) {
		d.tags[id], err = decodeTagSet(id, enc)
		return err
	}, d.invoice)
	if err != nil {
		return nil, err
	}
	err = eachText(ctx, q, "SELECT t.id, t.enc FROM item_details t JOIN invoice_details it ON it.detail_id = t.id WHERE it.invoice_id = ?", func(id int64, enc string) (err error) {
		d.details[id], err = decodeDetailsRow(id, enc)
		return err
	}, d.invoice)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// decodeTagSet and decodeDetailsRow decode the encoding of a tag_sets or
// item_details row.
func decodeTagSet(id int64, enc string) (costexplorer.Tags, error) {
	tg, err := costexplorer.ParseTags(enc)
	if err != nil {
		return tg, fmt.Errorf("tag set %d: %w", id, err)
	}
	return tg, nil
}

func decodeDetailsRow(id int64, enc string) (Details, error) {
	det, err := DecodeDetails(enc)
	if err != nil {
		return det, fmt.Errorf("details %d: %w", id, err)
	}
	return det, nil
}

// lineColumns are the columns decode scans, in order (lineRow; NULL
// scans as 0).
const lineColumns = `li.id, li.project_id, li.cluster_id, li.sku_id, li.day, li.quantity, li.unit_price_nanos, li.cents,
	li.bill_day, li.detail_id, li.tag_set_id, li.discount_percent, li.discount_cents`

// decode scans one row of lineColumns into l.
func (d *lineDecoder) decode(r Row, l *costexplorer.InvoiceLine) error {
	if err := r.Scan(d.dest...); err != nil {
		return err
	}
	w := &d.row
	project, cluster, sku, day, tagSet, detail := int64(w.project), int64(w.cluster), int64(w.sku), int64(w.day), int64(w.tagSet), int64(w.detail)
	li := &l.LineItem
	li.ID, li.Quantity, li.DiscountPercent = w.id, float64(w.quantity), float64(w.discountPercent)
	p, okP := d.projects[project]
	c, okC := d.clusters[cluster]
	k, okS := d.skus[sku]
	tg, okT := d.tags[tagSet]
	det, okD := d.details[detail]
	if (!okT || !okD) && d.lazy {
		var err error
		if tg, det, err = d.lazyDicts(l, tagSet, detail); err != nil {
			return fmt.Errorf("line item %s: %w", li.ID, err)
		}
		okT, okD = true, true
	}
	if !okP || !okC || !okS || !okT || !okD {
		return fmt.Errorf("line item %s: dangling key (project %d, cluster %d, sku %d, tag set %d, details %d)", li.ID, project, cluster, sku, tagSet, detail)
	}
	li.OrgID, li.ProjectID, li.ClusterID = d.orgID, p[0], c[0]
	l.OrgName, l.ProjectName, l.ClusterName = d.orgName, p[1], c[1]
	li.SKU, li.Unit, li.Service = k.Name, k.Unit, d.s.services.Name[k.Service]
	li.Date, li.UnitPriceNanos, li.Amount = costexplorer.Day(day), int64(w.price), costexplorer.Cents(w.cents)
	li.InvoiceID, li.BillDate, li.Discount, li.Tags = d.invoiceID, costexplorer.Day(w.billDay), costexplorer.Cents(w.discount), tg
	det.Apply(li)
	return nil
}

// join makes d's rows bring their dictionary encodings (when d is lazy):
// the columns and joins to add to the query, which scans them after
// lineColumns.
func (d *lineDecoder) join() (cols, joins string) {
	if !d.lazy {
		return "", ""
	}
	d.joined = true
	d.dest = append(d.dest[:len(d.dest):len(d.dest)], &d.encs[0], &d.encs[1])
	return joinedDictCols, joinedDictJoins
}

// lazyDicts returns the tag set and item details of a lazy decoder's row
// that tags and details do not hold: decoded from the row's joined
// encodings, or left for resolve (empty until then).
func (d *lineDecoder) lazyDicts(l *costexplorer.InvoiceLine, tagSet, detail int64) (costexplorer.Tags, Details, error) {
	if d.joined {
		return d.joinedDicts(tagSet, detail)
	}
	d.pending = append(d.pending, pendingDicts{l, tagSet, detail})
	return costexplorer.Tags{}, Details{}, nil
}

// joinedDicts decodes the row's joined encodings of tag set tagSet and item
// details detail where d does not hold them, and keeps them (up to
// dictBound each). A stored row's encoding is never empty (key 0, none, is
// always held): an empty one is a row the join did not find.
func (d *lineDecoder) joinedDicts(tagSet, detail int64) (tg costexplorer.Tags, det Details, err error) {
	tg, okT := d.tags[tagSet]
	det, okD := d.details[detail]
	if !okT && d.encs[0] == "" || !okD && d.encs[1] == "" {
		return tg, det, fmt.Errorf("dangling key (tag set %d, details %d)", tagSet, detail)
	}
	if !okT {
		if tg, err = decodeTagSet(tagSet, d.encs[0]); err != nil {
			return tg, det, err
		}
		d.tags = keepBounded(d.tags, tagSet, tg)
	}
	if !okD {
		if det, err = decodeDetailsRow(detail, d.encs[1]); err != nil {
			return tg, det, err
		}
		d.details = keepBounded(d.details, detail, det)
	}
	return tg, det, nil
}

// keepBounded adds v under id to m, a lazy decoder's dictionary rows,
// starting again (with key 0, none) past dictBound, and returns m.
func keepBounded[V any](m map[int64]V, id int64, v V) map[int64]V {
	if len(m) > dictBound {
		var none V
		m = map[int64]V{0: none}
	}
	m[id] = v
	return m
}

// resolve reads the tag sets and item details of the lines decode left
// without them (a lazy decoder's page), and sets them.
func (d *lineDecoder) resolve(ctx context.Context, q Querier) error {
	if len(d.pending) == 0 {
		return nil
	}
	need := [2]map[int64]bool{{}, {}}
	for _, p := range d.pending {
		if _, ok := d.tags[p.tagSet]; !ok {
			need[0][p.tagSet] = true
		}
		if _, ok := d.details[p.details]; !ok {
			need[1][p.details] = true
		}
	}
	put := [2]func(id int64, enc string) error{
		func(id int64, enc string) (err error) { d.tags[id], err = decodeTagSet(id, enc); return err },
		func(id int64, enc string) (err error) { d.details[id], err = decodeDetailsRow(id, enc); return err },
	}
	for i, table := range [2]string{"tag_sets", "item_details"} {
		ids := slices.Sorted(maps.Keys(need[i]))
		err := eachChunk(len(ids), func(start, end int) error {
			args := make([]any, 0, end-start)
			for _, id := range ids[start:end] {
				args = append(args, id)
			}
			return eachText(ctx, q, "SELECT id, enc FROM "+table+" WHERE id IN ("+placeholders(end-start)+")", put[i], args...)
		})
		if err != nil {
			return err
		}
	}
	for _, p := range d.pending {
		tg, okT := d.tags[p.tagSet]
		det, okD := d.details[p.details]
		if !okT || !okD {
			return fmt.Errorf("line item %s: dangling key (tag set %d, details %d)", p.line.ID, p.tagSet, p.details)
		}
		p.line.Tags = tg
		det.Apply(&p.line.LineItem)
	}
	d.pending = nil
	return nil
}

// InvoiceLines implements costexplorer.InvoiceStore: one read snapshot (on
// the dialect's connection for many rows, see [StreamRunner]), the
// invoice's range of the line_items key in key order.
func (s *Store) InvoiceLines(ctx context.Context, invoiceID string, fn func(*costexplorer.InvoiceLine) error) error {
	return s.streamTx(ctx, func(q Querier) error {
		d, err := s.newLineDecoder(ctx, q, invoiceID)
		if err != nil || d == nil {
			return err
		}
		var l costexplorer.InvoiceLine
		cols, joins := d.join()
		return Each(ctx, q, "SELECT "+lineColumns+cols+" FROM line_items li"+joins+" WHERE li.org_id = ? AND li.invoice_id = ?"+
			" ORDER BY li.project_id, li.cluster_id, li.day, li.id", func(r Row) error {
			if err := d.decode(r, &l); err != nil {
				return err
			}
			return fn(&l)
		}, d.org, d.invoice)
	})
}

// InvoiceTagKeys implements costexplorer.InvoiceStore.
func (s *Store) InvoiceTagKeys(ctx context.Context, invoiceID string) ([]string, error) {
	keys := []string{}
	err := s.r.Read(ctx, func(q Querier) error {
		return EachString(ctx, q, `SELECT t.enc FROM tag_sets t JOIN invoice_tag_sets it ON it.tag_set_id = t.id
			JOIN invoices i ON i.id = it.invoice_id WHERE i.ext_id = ?`, func(enc string) {
			tg, err := costexplorer.ParseTags(enc)
			if err != nil {
				return // Verify reports a tag set that does not parse
			}
			for _, k := range tg.Keys() {
				if !slices.Contains(keys, k) {
					keys = append(keys, k)
				}
			}
		}, invoiceID)
	})
	slices.Sort(keys)
	return keys, err
}

// InvoiceSums implements costexplorer.InvoiceStore from the invoice's item
// counts (invoice_item_counts), a few rows whatever the number of items.
func (s *Store) InvoiceSums(ctx context.Context, invoiceID string) ([]costexplorer.InvoiceSum, error) {
	out := []costexplorer.InvoiceSum{}
	err := s.r.Read(ctx, func(q Querier) error {
		return Each(ctx, q, `SELECT COALESCE(p.ext_id, ''), COALESCE(p.name, ''), k.service, CAST(SUM(c.cents) AS BIGINT)
			FROM invoice_item_counts c JOIN invoices i ON i.id = c.invoice_id JOIN skus k ON k.id = c.sku_id
			LEFT JOIN projects p ON p.id = c.project_id
			WHERE i.ext_id = ? GROUP BY p.ext_id, p.name, k.service HAVING SUM(c.items) > 0`, func(r Row) error {
			var sum costexplorer.InvoiceSum
			var service, cents int64
			if err := r.Scan(&sum.ProjectID, &sum.ProjectName, &service, &cents); err != nil {
				return err
			}
			sum.Service, sum.Amount = s.services.Name[service], costexplorer.Cents(cents)
			out = append(out, sum)
			return nil
		}, invoiceID)
	})
	slices.SortFunc(out, func(a, b costexplorer.InvoiceSum) int {
		return cmp.Or(cmp.Compare(a.ProjectID, b.ProjectID), cmp.Compare(a.Service, b.Service))
	})
	return out, err
}

// SearchLineItems implements costexplorer.InvoiceStore. Cluster and project
// filters become surrogate keys of the invoice's organization (an id of
// another organization matches nothing), so that the search reads only
// their ranges of the invoice's key range.
func (s *Store) SearchLineItems(ctx context.Context, invoiceID string, ls *costexplorer.LineItemSearch, page costexplorer.PageRequest) ([]*costexplorer.InvoiceLine, int, error) {
	var (
		out   = []*costexplorer.InvoiceLine{}
		total int
	)
	err := s.streamTx(ctx, func(q Querier) error {
		d, err := s.newLineDecoder(ctx, q, invoiceID)
		if err != nil || d == nil {
			return err
		}
		f := d.searchWhere(ls)
		if f.none {
			return nil
		}
		where, args := f.where, f.args
		if page.IncludeCount {
			count := "SELECT COUNT(*) FROM line_items li WHERE " + where
			if f.byKeys {
				// Filters of keys only: the invoice's item counts answer.
				col := "nonzero_items"
				if ls.IncludeZeroCents {
					col = "items"
				}
				count = "SELECT COALESCE(SUM(li." + col + "), 0) FROM invoice_item_counts li WHERE " + f.keys
				args = f.args[f.keyArgs:]
			}
			if err := q.QueryRow(ctx, count, args...).Scan(&total); err != nil {
				return err
			}
			args = f.args
		}
		dir := " ASC"
		if ls.SortOrder == costexplorer.SortDescending {
			dir = " DESC"
		}
		// By usage date, the order is the key's within one cluster: the
		// page is read from the key's range without a sort, so long as
		// li.day is not named twice (SQLite then sorts).
		order := "li.day" + dir + ", li.id" + dir
		query := "SELECT " + lineColumns + " FROM line_items li WHERE " + where + " ORDER BY "
		switch ls.SortField {
		case costexplorer.SortUsageDates:
			query += order + " LIMIT ? OFFSET ?"
			args = append(args, page.ItemsPerPage, page.Offset())
		case costexplorer.SortTotalPriceCents:
			query += "li.cents" + dir + ", " + order + " LIMIT ? OFFSET ?"
			args = append(args, page.ItemsPerPage, page.Offset())
		default:
			if s.d.Name == "postgres" {
				// Room for the sort of the page's keys (offset + size
				// rows) in memory rather than in files.
				if _, err := q.Exec(ctx, "SELECT set_config('work_mem', '32MB', true)"); err != nil {
					return err
				}
			}
			query, args = s.billOrder(d, where, dir, args, page)
			dest := d.dest
			d.dest = append(d.dest[:len(d.dest):len(d.dest)], new(any)) // the sort key
			defer func() { d.dest = dest }()
		}
		err = Each(ctx, q, query, func(r Row) error {
			l := &costexplorer.InvoiceLine{}
			if err := d.decode(r, l); err != nil {
				return err
			}
			out = append(out, l)
			return nil
		}, args...)
		if err != nil {
			return err
		}
		return d.resolve(ctx, q)
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// billOrderKey is the sort key, in SQLite, of an item billed on another day
// than its usage day (migration 0008's line_items_billed, whose expression
// it must stay): within 0.3 of bill_day, below it when day is earlier and
// above it when later, ordered by day.
const billOrderKey = "li.bill_day + (li.day - li.bill_day) * 1e-7"

// billOrder returns the page's query and arguments in bill-date order
// (COALESCE(bill_day, day), day, id; dir " ASC" or " DESC") over the items
// matching where (with args) of d's invoice. Items billed on their usage day
// are in that order in the key of line_items; the others are in
// line_items_billed's (migration 0008), so that neither side sorts the
// invoice's items: SQLite merges the two in index order (the key's day, and
// billOrderKey, which places an item of bill day B and usage day d right
// before or after the items of usage day B). PostgreSQL 15 merges them only
// after a sort of the first side (it does not see that the key's order is
// the page's), so there each side's keys are read in index order up to the
// end of the page, only those keys are sorted (a cost that grows with the
// page number), and the page's rows are then read by their keys. Both
// answer one extra column, the sort key, after lineColumns.
func (s *Store) billOrder(d *lineDecoder, where, dir string, args []any, page costexplorer.PageRequest) (string, []any) {
	onUsageDay := " FROM line_items li WHERE " + where + " AND (li.bill_day IS NULL OR li.bill_day = li.day)"
	onOtherDay := " FROM line_items li WHERE " + where + " AND li.bill_day <> li.day"
	args = slices.Clip(args)
	if s.d.Name == "postgres" {
		end := page.Offset() + page.ItemsPerPage
		both := append(append(append(args, end), args...), end, page.ItemsPerPage, page.Offset(), d.org, d.invoice)
		keys := "li.project_id, li.cluster_id, li.day, li.id"
		// The rows by their keys in a LATERAL subquery with a LIMIT, which
		// is not flattened into a join: a lookup in the key per row of the
		// page, whatever the planner estimates.
		return "SELECT " + strings.ReplaceAll(lineColumns, "li.", "r.") + ", k.billed FROM (SELECT * FROM ((SELECT li.day AS billed, " + keys + onUsageDay +
			" ORDER BY li.day" + dir + ", li.id" + dir + " LIMIT ?)" +
			" UNION ALL (SELECT li.bill_day, " + keys + onOtherDay +
			" ORDER BY li.bill_day" + dir + ", li.day" + dir + ", li.id" + dir + " LIMIT ?)) u" +
			" ORDER BY billed" + dir + ", day" + dir + ", id" + dir + " LIMIT ? OFFSET ?) k" +
			" CROSS JOIN LATERAL (SELECT " + lineColumns + " FROM line_items li WHERE li.org_id = ? AND li.invoice_id = ?" +
			" AND li.project_id = k.project_id AND li.cluster_id = k.cluster_id AND li.day = k.day AND li.id = k.id LIMIT 1) r" +
			" ORDER BY k.billed" + dir + ", k.day" + dir + ", k.id" + dir, both
	}
	// The compound's ORDER BY names result columns: 14 is the sort key, 1
	// the id.
	return "SELECT " + lineColumns + ", li.day" + onUsageDay +
		" UNION ALL SELECT " + lineColumns + ", " + billOrderKey + onOtherDay +
		" ORDER BY 14" + dir + ", 1" + dir + " LIMIT ? OFFSET ?", append(append(args, args...), page.ItemsPerPage, page.Offset())
}

// searchFilter is a search's WHERE clause over line_items li and its
// arguments. Its last conditions (keys, from keyArgs on in args) are those
// on the item's invoice, project, cluster and SKU, which
// invoice_item_counts holds too; byKeys is set when there are no others,
// so that the rows of invoice_item_counts count the matches. none is set
// when a filter can match nothing.
type searchFilter struct {
	where, keys string
	args        []any
	keyArgs     int
	byKeys      bool
	none        bool
}

// searchWhere returns the search's filter.
func (d *lineDecoder) searchWhere(ls *costexplorer.LineItemSearch) searchFilter {
	conds := []string{"li.org_id = ?"}
	args := []any{d.org}
	if !ls.IncludeZeroCents {
		conds = append(conds, "li.cents <> 0")
	}
	byKeys := true
	for _, r := range []struct {
		col    string
		lo, hi *costexplorer.Day
	}{{"COALESCE(li.bill_day, li.day)", ls.BillStart, ls.BillEnd}, {"li.day", ls.UsageStart, ls.UsageEnd}} {
		if r.lo != nil {
			conds, args, byKeys = append(conds, r.col+" >= ?"), append(args, int64(*r.lo)), false
		}
		if r.hi != nil {
			conds, args, byKeys = append(conds, r.col+" <= ?"), append(args, int64(*r.hi)), false
		}
	}
	nonKey, keyArgs := len(conds), len(args)
	conds, args = append(conds, "li.invoice_id = ?"), append(args, d.invoice)
	keysOf := func(ids []string, m map[int64][2]string) []int64 {
		var keys []int64
		for k, v := range m {
			if k != 0 && slices.Contains(ids, v[0]) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		return keys
	}
	in := func(col string, keys []int64) {
		conds = append(conds, col+" IN ("+placeholders(len(keys))+")")
		for _, k := range keys {
			args = append(args, k)
		}
	}
	var projects []int64
	if len(ls.GroupIDs) > 0 {
		if projects = keysOf(ls.GroupIDs, d.projects); len(projects) == 0 {
			return searchFilter{none: true}
		}
	}
	if len(ls.ClusterIDs) > 0 {
		clusters := keysOf(ls.ClusterIDs, d.clusters)
		// The clusters' projects too, so that the search reads only the
		// clusters' ranges of the key (project before cluster).
		var of []int64
		for _, c := range clusters {
			if p := d.clusterProject[c]; !slices.Contains(of, p) && (len(ls.GroupIDs) == 0 || slices.Contains(projects, p)) {
				of = append(of, p)
			}
		}
		if len(of) == 0 {
			return searchFilter{none: true}
		}
		if len(ls.GroupIDs) == 0 {
			projects = of
		}
		in("li.project_id", projects)
		in("li.cluster_id", clusters)
	} else if len(projects) > 0 {
		in("li.project_id", projects)
	}
	if len(ls.Services) > 0 {
		var skus []int64
		for id, k := range d.skus {
			if slices.Contains(ls.Services, d.s.services.Name[k.Service]) {
				skus = append(skus, id)
			}
		}
		if len(skus) == 0 {
			return searchFilter{none: true}
		}
		slices.Sort(skus)
		in("li.sku_id", skus)
	}
	return searchFilter{where: strings.Join(conds, " AND "), keys: strings.Join(conds[nonKey:], " AND "),
		args: args, keyArgs: keyArgs, byKeys: byKeys}
}
