package postgres

import (
	"context"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/sqlstore"
)

// Verify checks the store's invariants (see [sqlstore.Store.VerifyWith])
// with anti-joins (line items carry no foreign keys, see the migration; a
// cluster without a project is reported too) and compares the rollup and the
// running totals with recomputations made by the database, so that nothing
// is streamed to the client.
func (db *DB) Verify(ctx context.Context) ([]string, error) {
	return db.VerifyWith(ctx, verifyReferences, verifyRollup, sqlstore.VerifyInvoices)
}

// verifyReferences checks the references of line items and rollup cells with
// anti-joins, one query per kind of problem.
func verifyReferences(ctx context.Context, q sqlstore.Querier, r *sqlstore.Report) error {
	for _, c := range []struct{ q, line string }{
		{`SELECT encode(li.id, 'hex') FROM line_items li WHERE NOT EXISTS (SELECT 1 FROM organizations o WHERE o.id = li.org_id)`, "line item %s: its organization is missing"},
		{`SELECT encode(li.id, 'hex') FROM line_items li WHERE li.project_id <> 0 AND NOT EXISTS (SELECT 1 FROM projects p WHERE p.id = li.project_id)`, "line item %s: its project is missing"},
		{`SELECT encode(li.id, 'hex') FROM line_items li WHERE li.cluster_id <> 0 AND NOT EXISTS (SELECT 1 FROM clusters c WHERE c.id = li.cluster_id)`, "line item %s: its cluster is missing"},
		{`SELECT encode(li.id, 'hex') FROM line_items li WHERE NOT EXISTS (SELECT 1 FROM skus s WHERE s.id = li.sku_id)`, "line item %s: its SKU is missing"},
		{`SELECT encode(li.id, 'hex') FROM line_items li JOIN projects p ON p.id = li.project_id WHERE p.org_id <> li.org_id`, "line item %s: its project belongs to another organization"},
		{`SELECT encode(li.id, 'hex') FROM line_items li JOIN clusters c ON c.id = li.cluster_id WHERE c.project_id <> li.project_id`, "line item %s: its cluster belongs to another project"},
		{`SELECT format('month %s org #%s project #%s cluster #%s service %s', month, org_id, project_id, cluster_id, service)
			FROM rollup r WHERE (r.project_id <> 0 AND NOT EXISTS (SELECT 1 FROM projects p WHERE p.id = r.project_id))
			   OR (r.cluster_id <> 0 AND NOT EXISTS (SELECT 1 FROM clusters c WHERE c.id = r.cluster_id))`, "rollup: cell %s refers to a missing project or cluster"},
	} {
		if err := sqlstore.EachString(ctx, q, c.q, func(s string) { r.Addf(c.line, s) }); err != nil {
			return err
		}
	}
	return nil
}

// verifyRollup compares the rollup with a recomputation from the line items
// and the running totals with the items' own, both computed by the database.
func verifyRollup(ctx context.Context, q sqlstore.Querier, r *sqlstore.Report) error {
	d, err := sqlstore.LoadDims(ctx, q, false)
	if err != nil {
		return err
	}
	rows, err := q.Query(ctx, `
		WITH want AS (
			SELECT (date_part('year', DATE '1970-01-01' + li.day) * 12 + date_part('month', DATE '1970-01-01' + li.day) - 1)::int AS month,
			       li.org_id, li.project_id, li.cluster_id,
			       COALESCE(s.service, -1) AS service, SUM(li.cents)::bigint AS cents
			FROM line_items li LEFT JOIN skus s ON s.id = li.sku_id
			GROUP BY 1, 2, 3, 4, 5)
		SELECT COALESCE(w.month, r.month), COALESCE(w.org_id, r.org_id), COALESCE(w.project_id, r.project_id),
		       COALESCE(w.cluster_id, r.cluster_id), COALESCE(w.service, r.service), r.cents, w.cents
		FROM want w FULL OUTER JOIN rollup r
		  ON r.month = w.month AND r.org_id = w.org_id AND r.project_id = w.project_id
		 AND r.cluster_id = w.cluster_id AND r.service = w.service
		WHERE r.cents IS DISTINCT FROM w.cents
		ORDER BY 1, 2, 3, 4, 5`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k sqlstore.CellKey
		var month int64
		var got, want *int64
		if err := rows.Scan(&month, &k.Org, &k.Project, &k.Cluster, &k.Service, &got, &want); err != nil {
			return err
		}
		k.Month = costexplorer.Month(month)
		r.Cell(d, k, (*costexplorer.Cents)(got), (*costexplorer.Cents)(want))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()

	var items sqlstore.ItemTotals
	var total, first, last sqlstore.NullInt64
	if err := q.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(cents), 0)::bigint, MIN(day), MAX(day) FROM line_items`).
		Scan(&items.Count, &total, &first, &last); err != nil {
		return err
	}
	items.Total, items.First, items.Last = costexplorer.Cents(total), costexplorer.Day(first), costexplorer.Day(last)
	return r.Totals(ctx, q, items)
}
