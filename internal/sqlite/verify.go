package sqlite

import (
	"context"
	"database/sql"
	"slices"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/sqlstore"
)

// Verify checks the store's invariants (see [sqlstore.Store.VerifyWith]):
// SQLite's own structural check (PRAGMA quick_check) and foreign keys, the
// line items' references in one pass, then the rollup and the running
// totals recomputed in Go.
func (db *DB) Verify(ctx context.Context) ([]string, error) {
	return db.VerifyWith(ctx, verifyStructure, verifyReferences, verifyRollup, sqlstore.VerifyInvoices)
}

// verifyStructure runs SQLite's integrity and foreign-key checks.
func verifyStructure(ctx context.Context, q sqlstore.Querier, r *sqlstore.Report) error {
	err := sqlstore.EachString(ctx, q, "PRAGMA quick_check", func(s string) {
		if s != "ok" {
			r.Addf("integrity: %s", s)
		}
	})
	if err != nil {
		return err
	}
	return sqlstore.Each(ctx, q, "PRAGMA foreign_key_check", func(row sqlstore.Row) error {
		var table, parent string
		var rowid sql.NullInt64
		var fk int64
		if err := row.Scan(&table, &rowid, &parent, &fk); err != nil {
			return err
		}
		r.Addf("foreign key: a row of %s refers to a missing row of %s", table, parent)
		return nil
	})
}

// verifyReferences checks the references of line_items, which has no
// FOREIGN KEY clauses (its project and cluster are 0 when absent, see the
// migration), with the dimension hierarchy, in one pass over the table.
func verifyReferences(ctx context.Context, q sqlstore.Querier, r *sqlstore.Report) error {
	rows, err := q.Query(ctx, `SELECT hex(li.id),
			o.id IS NULL,
			li.project_id <> 0 AND p.id IS NULL,
			li.cluster_id <> 0 AND c.id IS NULL,
			s.id IS NULL,
			COALESCE(p.org_id <> li.org_id, 0),
			COALESCE(c.project_id <> li.project_id, 0)
		FROM line_items li
		LEFT JOIN organizations o ON o.id = li.org_id
		LEFT JOIN projects p ON p.id = li.project_id
		LEFT JOIN clusters c ON c.id = li.cluster_id
		LEFT JOIN skus s ON s.id = li.sku_id
		WHERE o.id IS NULL OR (li.project_id <> 0 AND p.id IS NULL) OR (li.cluster_id <> 0 AND c.id IS NULL)
			OR s.id IS NULL OR p.org_id <> li.org_id OR c.project_id <> li.project_id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	problems := [...]string{
		"its organization does not exist",
		"its project does not exist",
		"its cluster does not exist",
		"its SKU does not exist",
		"its project belongs to another organization",
		"its cluster belongs to another project",
	}
	for rows.Next() {
		var id string
		var bad [len(problems)]bool
		if err := rows.Scan(&id, &bad[0], &bad[1], &bad[2], &bad[3], &bad[4], &bad[5]); err != nil {
			return err
		}
		for i, b := range bad {
			if b {
				r.Addf("line item %s: %s", id, problems[i])
			}
		}
	}
	return rows.Err()
}

// verifyRollup recomputes the rollup and the running totals from the line
// items in Go and reports the cells and totals that differ.
func verifyRollup(ctx context.Context, q sqlstore.Querier, r *sqlstore.Report) error {
	d, err := sqlstore.LoadDims(ctx, q, true)
	if err != nil {
		return err
	}
	want := map[sqlstore.CellKey]costexplorer.Cents{}
	var items sqlstore.ItemTotals
	rows, err := q.Query(ctx, "SELECT org_id, project_id, cluster_id, sku_id, day, cents FROM line_items")
	if err != nil {
		return err
	}
	monthOf := map[costexplorer.Day]costexplorer.Month{}
	for rows.Next() {
		var k sqlstore.CellKey
		var sku, day, cents int64
		if err := rows.Scan(&k.Org, &k.Project, &k.Cluster, &sku, &day, &cents); err != nil {
			rows.Close()
			return err
		}
		dd := costexplorer.Day(day)
		m, ok := monthOf[dd]
		if !ok {
			m = dd.Month()
			monthOf[dd] = m
		}
		k.Month = m
		if s, ok := d.SKUs[sku]; ok {
			k.Service = s.Service
		} else {
			k.Service = -1
		}
		want[k] += costexplorer.Cents(cents)
		if items.Count == 0 || dd < items.First {
			items.First = dd
		}
		if items.Count == 0 || dd > items.Last {
			items.Last = dd
		}
		items.Count++
		items.Total += costexplorer.Cents(cents)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	got := map[sqlstore.CellKey]costexplorer.Cents{}
	rows, err = q.Query(ctx, "SELECT month, org_id, project_id, cluster_id, service, cents FROM rollup")
	if err != nil {
		return err
	}
	for rows.Next() {
		var k sqlstore.CellKey
		var month, cents int64
		if err := rows.Scan(&month, &k.Org, &k.Project, &k.Cluster, &k.Service, &cents); err != nil {
			rows.Close()
			return err
		}
		k.Month = costexplorer.Month(month)
		got[k] = costexplorer.Cents(cents)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var diffs []sqlstore.CellKey
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			diffs = append(diffs, k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, k)
		}
	}
	slices.SortFunc(diffs, sqlstore.CompareCells)
	for _, k := range diffs {
		var gp, wp *costexplorer.Cents
		if g, ok := got[k]; ok {
			gp = &g
		}
		if w, ok := want[k]; ok {
			wp = &w
		}
		r.Cell(d, k, gp, wp)
	}
	return r.Totals(ctx, q, items)
}
