package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/costexplorer/costexplorer"
)

// Verify checks the store's invariants from one snapshot and returns one line
// per difference (none when consistent):
//   - referential integrity of line items and rollup cells (line items carry
//     no foreign keys, see the migration);
//   - every line item's project belongs to its organization, and its cluster
//     to its project (project and cluster 0 mean none, so a cluster without
//     a project is reported too);
//   - the rollup equals a recomputation from the line items, cell by cell
//     (computed by the database, so nothing is streamed to the client);
//   - the running totals (count, sum, first and last day) match the items.
func (db *DB) Verify(ctx context.Context) ([]string, error) {
	var out []string
	report := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		for _, c := range []struct{ q, what string }{
			{`SELECT encode(li.id, 'hex') FROM line_items li WHERE NOT EXISTS (SELECT 1 FROM organizations o WHERE o.id = li.org_id)`, "its organization is missing"},
			{`SELECT encode(li.id, 'hex') FROM line_items li WHERE li.project_id <> 0 AND NOT EXISTS (SELECT 1 FROM projects p WHERE p.id = li.project_id)`, "its project is missing"},
			{`SELECT encode(li.id, 'hex') FROM line_items li WHERE li.cluster_id <> 0 AND NOT EXISTS (SELECT 1 FROM clusters c WHERE c.id = li.cluster_id)`, "its cluster is missing"},
			{`SELECT encode(li.id, 'hex') FROM line_items li WHERE NOT EXISTS (SELECT 1 FROM skus s WHERE s.id = li.sku_id)`, "its SKU is missing"},
			{`SELECT encode(li.id, 'hex') FROM line_items li JOIN projects p ON p.id = li.project_id WHERE p.org_id <> li.org_id`, "its project belongs to another organization"},
			{`SELECT encode(li.id, 'hex') FROM line_items li JOIN clusters c ON c.id = li.cluster_id WHERE c.project_id <> li.project_id`, "its cluster belongs to another project"},
		} {
			if err := eachString(ctx, tx, c.q, func(id string) { report("line item %s: %s", id, c.what) }); err != nil {
				return err
			}
		}
		if err := eachString(ctx, tx, `SELECT format('month %s org #%s project #%s cluster #%s service %s', month, org_id, project_id, cluster_id, service)
			FROM rollup r WHERE (r.project_id <> 0 AND NOT EXISTS (SELECT 1 FROM projects p WHERE p.id = r.project_id))
			   OR (r.cluster_id <> 0 AND NOT EXISTS (SELECT 1 FROM clusters c WHERE c.id = r.cluster_id))`,
			func(s string) { report("rollup: cell %s refers to a missing project or cluster", s) }); err != nil {
			return err
		}

		d, err := loadDims(ctx, tx, false)
		if err != nil {
			return err
		}
		name := func(m map[int32]string, id int32) string {
			if ext, ok := m[id]; ok {
				return ext
			}
			return fmt.Sprintf("#%d", id)
		}
		// The rollup against a recomputation, cell by cell.
		rows, err := tx.Query(ctx, `
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
		var k cellKey
		var month int32
		var got, want *int64
		if _, err := pgx.ForEachRow(rows, []any{&month, &k.org, &k.project, &k.cluster, &k.service, &got, &want}, func() error {
			k.month = costexplorer.Month(month)
			cell := fmt.Sprintf("%s org %s project %s cluster %s service %q", k.month, name(d.orgs, k.org),
				name(d.projects, k.project), name(d.clusters, k.cluster), db.serviceName[k.service])
			switch {
			case got == nil:
				report("rollup: %s: missing, line items sum to %s", cell, costexplorer.Cents(*want))
			case want == nil:
				report("rollup: %s: holds %s but no line item belongs there", cell, costexplorer.Cents(*got))
			default:
				report("rollup: %s: holds %s, line items sum to %s", cell, costexplorer.Cents(*got), costexplorer.Cents(*want))
			}
			return nil
		}); err != nil {
			return err
		}

		var count, sCount, total, sTotal int64
		var first, last, sFirst, sLast *int32
		if err := tx.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(cents), 0)::bigint, MIN(day), MAX(day) FROM line_items`).
			Scan(&count, &total, &first, &last); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, "SELECT line_items, total_cents, first_day, last_day FROM usage_state WHERE id = 1").
			Scan(&sCount, &sTotal, &sFirst, &sLast); err != nil {
			return err
		}
		if sCount != count {
			report("usage state: counts %d line items, the table holds %d", sCount, count)
		}
		if sTotal != total {
			report("usage state: total %s, the line items sum to %s", costexplorer.Cents(sTotal), costexplorer.Cents(total))
		}
		if count > 0 && (deref(sFirst) != deref(first) || deref(sLast) != deref(last)) {
			report("usage state: days %s to %s, the line items span %s to %s",
				costexplorer.Day(deref(sFirst)), costexplorer.Day(deref(sLast)), costexplorer.Day(deref(first)), costexplorer.Day(deref(last)))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	return out, nil
}

// eachString runs a query with one text column and calls fn for each value.
func eachString(ctx context.Context, tx pgx.Tx, q string, fn func(string)) error {
	rows, err := tx.Query(ctx, q)
	if err != nil {
		return err
	}
	var s string
	_, err = pgx.ForEachRow(rows, []any{&s}, func() error { fn(s); return nil })
	return err
}
