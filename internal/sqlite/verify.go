package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/costexplorer/costexplorer"
)

// Verify checks the store's invariants from one snapshot and returns one line
// per difference (none when consistent):
//   - SQLite's own structural check (PRAGMA quick_check) and foreign keys;
//   - every line item's organization, project, cluster and SKU exist (the
//     table has no FOREIGN KEY clauses), its project belongs to its
//     organization, and its cluster to its project;
//   - the rollup equals a recomputation from the line items, cell by cell;
//   - the running totals (count, sum, first and last day) match the items.
func (db *DB) Verify(ctx context.Context) ([]string, error) {
	var out []string
	report := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		if err := eachString(ctx, tx, "PRAGMA quick_check", func(s string) {
			if s != "ok" {
				report("integrity: %s", s)
			}
		}); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
		if err != nil {
			return err
		}
		for rows.Next() {
			var table, parent string
			var rowid sql.NullInt64
			var fk int64
			if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
				rows.Close()
				return err
			}
			report("foreign key: a row of %s refers to a missing row of %s", table, parent)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}

		// line_items has no FOREIGN KEY clauses (its project and cluster are
		// 0 when absent, see the migration), so its references are checked
		// here, with the dimension hierarchy, in one pass over the table.
		rows, err = tx.QueryContext(ctx, `SELECT hex(li.id),
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
				rows.Close()
				return err
			}
			for i, b := range bad {
				if b {
					report("line item %s: %s", id, problems[i])
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}

		d, err := loadDims(ctx, tx, true)
		if err != nil {
			return err
		}
		name := func(m map[int64]string, id int64) string {
			if ext, ok := m[id]; ok {
				return ext
			}
			return fmt.Sprintf("#%d", id)
		}
		cellName := func(k cellKey) string {
			return fmt.Sprintf("%s org %s project %s cluster %s service %q", k.month, name(d.orgs, k.org),
				name(d.projects, k.project), name(d.clusters, k.cluster), db.serviceName[k.service])
		}

		// Recompute the rollup from the line items.
		want := map[cellKey]costexplorer.Cents{}
		var count int64
		var total costexplorer.Cents
		var first, last costexplorer.Day
		rows, err = tx.QueryContext(ctx, "SELECT org_id, project_id, cluster_id, sku_id, day, cents FROM line_items")
		if err != nil {
			return err
		}
		monthOf := map[costexplorer.Day]costexplorer.Month{}
		for rows.Next() {
			var k cellKey
			var sku, cents int64
			var day costexplorer.Day
			if err := rows.Scan(&k.org, &k.project, &k.cluster, &sku, &day, &cents); err != nil {
				rows.Close()
				return err
			}
			m, ok := monthOf[day]
			if !ok {
				m = day.Month()
				monthOf[day] = m
			}
			k.month = m
			if s, ok := d.skus[sku]; ok {
				k.service = s.service
			} else {
				k.service = -1
			}
			want[k] += costexplorer.Cents(cents)
			if count == 0 || day < first {
				first = day
			}
			if count == 0 || day > last {
				last = day
			}
			count++
			total += costexplorer.Cents(cents)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}

		got := map[cellKey]costexplorer.Cents{}
		rows, err = tx.QueryContext(ctx, "SELECT month, org_id, project_id, cluster_id, service, cents FROM rollup")
		if err != nil {
			return err
		}
		for rows.Next() {
			var k cellKey
			var cents int64
			if err := rows.Scan(&k.month, &k.org, &k.project, &k.cluster, &k.service, &cents); err != nil {
				rows.Close()
				return err
			}
			got[k] = costexplorer.Cents(cents)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var diffs []cellKey
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
		slices.SortFunc(diffs, compareCells)
		for _, k := range diffs {
			w, inWant := want[k]
			g, inGot := got[k]
			switch {
			case !inGot:
				report("rollup: %s: missing, line items sum to %s", cellName(k), w)
			case !inWant:
				report("rollup: %s: holds %s but no line item belongs there", cellName(k), g)
			default:
				report("rollup: %s: holds %s, line items sum to %s", cellName(k), g, w)
			}
		}

		var sCount, sTotal int64
		var sFirst, sLast sql.NullInt64
		if err := tx.QueryRowContext(ctx, "SELECT line_items, total_cents, first_day, last_day FROM usage_state WHERE id = 1").
			Scan(&sCount, &sTotal, &sFirst, &sLast); err != nil {
			return err
		}
		if sCount != count {
			report("usage state: counts %d line items, the table holds %d", sCount, count)
		}
		if costexplorer.Cents(sTotal) != total {
			report("usage state: total %s, the line items sum to %s", costexplorer.Cents(sTotal), total)
		}
		if count > 0 && (costexplorer.Day(sFirst.Int64) != first || costexplorer.Day(sLast.Int64) != last) {
			report("usage state: days %s to %s, the line items span %s to %s",
				costexplorer.Day(sFirst.Int64), costexplorer.Day(sLast.Int64), first, last)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	return out, nil
}

// eachString runs a query with one text column and calls fn for each value.
func eachString(ctx context.Context, tx *sql.Tx, q string, fn func(string)) error {
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		fn(s)
	}
	return rows.Err()
}
