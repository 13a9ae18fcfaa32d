package sqlstore

import (
	"context"
	"fmt"

	"github.com/costexplorer/costexplorer"
)

// Report collects the findings of a verification, one line per difference.
// Each dialect checks what its engine can check best (SQLite recomputes the
// rollup in Go, PostgreSQL in SQL); the lines they report are written here.
type Report struct {
	s     *Store
	lines []string
}

// Addf adds a line.
func (r *Report) Addf(format string, args ...any) {
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
}

// Check is one part of a verification: it reads within q and reports what
// differs to r.
type Check func(ctx context.Context, q Querier, r *Report) error

// VerifyWith runs the checks in order in one read snapshot and returns the
// lines they reported (none when the store is consistent). Every dialect
// checks that the line items' references exist and fit the dimension
// hierarchy, that the rollup equals a recomputation from the line items cell
// by cell, and that the running totals (count, sum, first and last day)
// match the items.
func (s *Store) VerifyWith(ctx context.Context, checks ...Check) ([]string, error) {
	r := &Report{s: s}
	err := s.r.ReadTx(ctx, func(q Querier) error {
		for _, c := range checks {
			if err := c(ctx, q, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	return r.lines, nil
}

// Cell reports a rollup cell that differs from the recomputation from the
// line items: got is the stored amount and want the line items' sum, nil
// when there is none. d names the cell's dimensions (#key when dangling).
func (r *Report) Cell(d *Dims, k CellKey, got, want *costexplorer.Cents) {
	name := func(m map[int64]string, id int64) string {
		if ext, ok := m[id]; ok {
			return ext
		}
		return fmt.Sprintf("#%d", id)
	}
	cell := fmt.Sprintf("%s org %s project %s cluster %s service %q", k.Month, name(d.Orgs, k.Org),
		name(d.Projects, k.Project), name(d.Clusters, k.Cluster), r.s.services.Name[k.Service])
	switch {
	case got == nil:
		r.Addf("rollup: %s: missing, line items sum to %s", cell, *want)
	case want == nil:
		r.Addf("rollup: %s: holds %s but no line item belongs there", cell, *got)
	default:
		r.Addf("rollup: %s: holds %s, line items sum to %s", cell, *got, *want)
	}
}

// ItemTotals are the count, sum and day range of the line items, as
// recomputed by a verification.
type ItemTotals struct {
	Count       int64
	Total       costexplorer.Cents
	First, Last costexplorer.Day
}

// Totals reports where the running totals of usage_state differ from items.
func (r *Report) Totals(ctx context.Context, q Querier, items ItemTotals) error {
	var count, total int64
	var first, last NullInt64
	if err := q.QueryRow(ctx, "SELECT line_items, total_cents, first_day, last_day FROM usage_state WHERE id = 1").
		Scan(&count, &total, &first, &last); err != nil {
		return err
	}
	if count != items.Count {
		r.Addf("usage state: counts %d line items, the table holds %d", count, items.Count)
	}
	if costexplorer.Cents(total) != items.Total {
		r.Addf("usage state: total %s, the line items sum to %s", costexplorer.Cents(total), items.Total)
	}
	if items.Count > 0 && (costexplorer.Day(first) != items.First || costexplorer.Day(last) != items.Last) {
		r.Addf("usage state: days %s to %s, the line items span %s to %s",
			costexplorer.Day(first), costexplorer.Day(last), items.First, items.Last)
	}
	return nil
}

// VerifyInvoices is the check of invoices both dialects run: every invoice
// has its id, and its amounts equal a recomputation from its line items
// (charges the sum of the positive ones, credits minus the sum of the
// negative ones); every line item's invoice exists, is its organization's
// and covers its usage day; every tag set and details key of an item
// exists; invoice_item_counts equals a recount of the items.
func VerifyInvoices(ctx context.Context, q Querier, r *Report) error {
	type stored struct {
		ext              string
		org, month       int64
		charges, credits int64
	}
	invoices := map[int64]stored{}
	err := Each(ctx, q, "SELECT id, COALESCE(ext_id, ''), org_id, month, charges_cents, credits_cents FROM invoices", func(row Row) error {
		var id int64
		var s stored
		if err := row.Scan(&id, &s.ext, &s.org, &s.month, &s.charges, &s.credits); err != nil {
			return err
		}
		if s.ext == "" {
			r.Addf("invoice #%d: no id", id)
		}
		invoices[id] = s
		return nil
	})
	if err != nil {
		return err
	}
	seen := map[int64]bool{}
	err = Each(ctx, q, `SELECT invoice_id, MIN(org_id), MAX(org_id), MIN(day), MAX(day),
		CAST(SUM(CASE WHEN cents > 0 THEN cents ELSE 0 END) AS BIGINT), CAST(SUM(CASE WHEN cents < 0 THEN -cents ELSE 0 END) AS BIGINT)
		FROM line_items GROUP BY invoice_id`, func(row Row) error {
		var id, orgLo, orgHi, dayLo, dayHi, charges, credits int64
		if err := row.Scan(&id, &orgLo, &orgHi, &dayLo, &dayHi, &charges, &credits); err != nil {
			return err
		}
		seen[id] = true
		s, ok := invoices[id]
		switch {
		case !ok:
			r.Addf("line items of invoice #%d: the invoice is missing", id)
			return nil
		case orgLo != s.org || orgHi != s.org:
			r.Addf("invoice %s: holds line items of another organization", s.ext)
		case costexplorer.Day(dayLo).Month() != costexplorer.Month(s.month) || costexplorer.Day(dayHi).Month() != costexplorer.Month(s.month):
			r.Addf("invoice %s (%s): holds line items of %s to %s", s.ext, costexplorer.Month(s.month), costexplorer.Day(dayLo), costexplorer.Day(dayHi))
		}
		if charges != s.charges || credits != s.credits {
			r.Addf("invoice %s: charges %s and credits %s, its line items sum to charges %s and credits %s", s.ext,
				costexplorer.Cents(s.charges), costexplorer.Cents(s.credits), costexplorer.Cents(charges), costexplorer.Cents(credits))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for id, s := range invoices {
		if !seen[id] && (s.charges != 0 || s.credits != 0) {
			r.Addf("invoice %s: charges %s and credits %s, but it has no line items", s.ext, costexplorer.Cents(s.charges), costexplorer.Cents(s.credits))
		}
	}
	for _, c := range []struct{ query, line string }{
		{"SELECT COUNT(*) FROM line_items li WHERE li.tag_set_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM tag_sets t WHERE t.id = li.tag_set_id)", "%d line items: their tag set is missing"},
		{"SELECT COUNT(*) FROM line_items li WHERE li.detail_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM item_details d WHERE d.id = li.detail_id)", "%d line items: their details are missing"},
		{"SELECT COUNT(*) FROM line_items li WHERE li.tag_set_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM invoice_tag_sets it WHERE it.invoice_id = li.invoice_id AND it.tag_set_id = li.tag_set_id)", "%d line items: their tag set is not listed with their invoice"},
		{"SELECT COUNT(*) FROM line_items li WHERE li.detail_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM invoice_details it WHERE it.invoice_id = li.invoice_id AND it.detail_id = li.detail_id)", "%d line items: their details are not listed with their invoice"},
		{`SELECT COUNT(*) FROM (SELECT invoice_id, project_id, cluster_id, sku_id, COUNT(*) AS n,
			SUM(CASE WHEN cents <> 0 THEN 1 ELSE 0 END) AS nz, SUM(cents) AS c FROM line_items
			GROUP BY invoice_id, project_id, cluster_id, sku_id) g WHERE NOT EXISTS (SELECT 1 FROM invoice_item_counts k
			WHERE k.invoice_id = g.invoice_id AND k.project_id = g.project_id AND k.cluster_id = g.cluster_id AND k.sku_id = g.sku_id
			AND k.items = g.n AND k.nonzero_items = g.nz AND k.cents = g.c)`, "%d invoice item counts: they differ from a recount of the line items"},
		{`SELECT COUNT(*) FROM invoice_item_counts k JOIN invoices i ON i.id = k.invoice_id
			WHERE (k.items <> 0 OR k.nonzero_items <> 0 OR k.cents <> 0)
			AND NOT EXISTS (SELECT 1 FROM line_items li WHERE li.org_id = i.org_id AND li.invoice_id = k.invoice_id
			AND li.project_id = k.project_id AND li.cluster_id = k.cluster_id AND li.sku_id = k.sku_id)`, "%d invoice item counts: they count line items that do not exist"},
	} {
		var n int64
		if err := q.QueryRow(ctx, c.query).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			r.Addf(c.line, n)
		}
	}
	return nil
}
