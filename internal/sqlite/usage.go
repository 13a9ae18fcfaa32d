package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/costexplorer/costexplorer"
)

// DataVersion returns the data version, which every ingest that changes data
// increments (in any process sharing the file).
func (db *DB) DataVersion(ctx context.Context) (int64, error) {
	var v int64
	err := db.read.QueryRowContext(ctx, "SELECT data_version FROM usage_state WHERE id = 1").Scan(&v)
	return v, translate(err)
}

// dims holds the surrogate keys of one snapshot mapped to 24-hex ids, so that
// scans resolve them with a map lookup instead of a join per row.
type dims struct {
	orgs, projects, clusters map[int64]string
	skus                     map[int64]skuKey
}

func loadDims(ctx context.Context, tx *sql.Tx, withSKUs bool) (*dims, error) {
	d := &dims{orgs: map[int64]string{0: ""}, projects: map[int64]string{0: ""}, clusters: map[int64]string{0: ""}, skus: map[int64]skuKey{}}
	for _, t := range []struct {
		table string
		dst   map[int64]string
	}{{"organizations", d.orgs}, {"projects", d.projects}, {"clusters", d.clusters}} {
		rows, err := tx.QueryContext(ctx, "SELECT id, ext_id FROM "+t.table)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			var ext string
			if err := rows.Scan(&id, &ext); err != nil {
				rows.Close()
				return nil, err
			}
			t.dst[id] = ext
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	if !withSKUs {
		return d, nil
	}
	rows, err := tx.QueryContext(ctx, "SELECT id, name, service, unit FROM skus")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var k skuKey
		if err := rows.Scan(&id, &k.name, &k.service, &k.unit); err != nil {
			return nil, err
		}
		d.skus[id] = k
	}
	return d, rows.Err()
}

// lookup returns the 24-hex id of a surrogate key, or an error for a dangling
// one (which Verify would also report).
func lookup(m map[int64]string, id int64, what string) (string, error) {
	ext, ok := m[id]
	if !ok {
		return "", fmt.Errorf("dangling %s key %d", what, id)
	}
	return ext, nil
}

// ScanRollup calls fn for every rollup row, from one snapshot, in key order.
func (db *DB) ScanRollup(ctx context.Context, fn func(*costexplorer.RollupRow) error) error {
	return db.readTx(ctx, func(tx *sql.Tx) error {
		d, err := loadDims(ctx, tx, false)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, "SELECT month, org_id, project_id, cluster_id, service, cents FROM rollup")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k cellKey
			var cents int64
			if err := rows.Scan(&k.month, &k.org, &k.project, &k.cluster, &k.service, &cents); err != nil {
				return err
			}
			r := &costexplorer.RollupRow{Month: k.month, Amount: costexplorer.Cents(cents), Service: db.serviceName[k.service]}
			if r.OrgID, err = lookup(d.orgs, k.org, "organization"); err != nil {
				return err
			}
			if r.ProjectID, err = lookup(d.projects, k.project, "project"); err != nil {
				return err
			}
			if r.ClusterID, err = lookup(d.clusters, k.cluster, "cluster"); err != nil {
				return err
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// ScanLineItems calls fn for every line item, from one snapshot, in the
// table's key order (organization, project, cluster, day, id).
func (db *DB) ScanLineItems(ctx context.Context, fn func(*costexplorer.LineItem) error) error {
	return db.readTx(ctx, func(tx *sql.Tx) error {
		d, err := loadDims(ctx, tx, true)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, "SELECT id, org_id, project_id, cluster_id, sku_id, day, quantity, unit_price_nanos, cents FROM line_items")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				raw              sql.RawBytes
				org, sku, day    int64
				project, cluster int64 // 0: none
				qty              float64
				price, cents     int64
				li               costexplorer.LineItem
			)
			if err := rows.Scan(&raw, &org, &project, &cluster, &sku, &day, &qty, &price, &cents); err != nil {
				return err
			}
			if len(raw) != len(li.ID) {
				return fmt.Errorf("line item id of %d bytes", len(raw))
			}
			copy(li.ID[:], raw)
			if li.OrgID, err = lookup(d.orgs, org, "organization"); err != nil {
				return err
			}
			if li.ProjectID, err = lookup(d.projects, project, "project"); err != nil {
				return err
			}
			if li.ClusterID, err = lookup(d.clusters, cluster, "cluster"); err != nil {
				return err
			}
			k, ok := d.skus[sku]
			if !ok {
				return fmt.Errorf("dangling sku key %d", sku)
			}
			li.SKU, li.Unit, li.Service = k.name, k.unit, db.serviceName[k.service]
			li.Date = costexplorer.Day(day)
			li.Quantity, li.UnitPriceNanos, li.Amount = qty, price, costexplorer.Cents(cents)
			if err := fn(&li); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// Projects returns every project, in id order.
func (db *DB) Projects(ctx context.Context) ([]*costexplorer.Project, error) {
	out := []*costexplorer.Project{}
	rows, err := db.read.QueryContext(ctx, "SELECT p.ext_id, o.ext_id, p.name FROM projects p JOIN organizations o ON o.id = p.org_id ORDER BY p.ext_id")
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var p costexplorer.Project
		if err := rows.Scan(&p.ID, &p.OrgID, &p.Name); err != nil {
			return nil, err
		}
		out = append(out, &p)
	}
	return out, translate(rows.Err())
}

// Clusters returns every cluster, in id order.
func (db *DB) Clusters(ctx context.Context) ([]*costexplorer.Cluster, error) {
	out := []*costexplorer.Cluster{}
	rows, err := db.read.QueryContext(ctx, "SELECT c.ext_id, p.ext_id, c.name, c.provider, c.tier FROM clusters c JOIN projects p ON p.id = c.project_id ORDER BY c.ext_id")
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var c costexplorer.Cluster
		if err := rows.Scan(&c.ID, &c.ProjectID, &c.Name, &c.Provider, &c.Tier); err != nil {
			return nil, err
		}
		out = append(out, &c)
	}
	return out, translate(rows.Err())
}

// UsageStats summarises the stored usage from the running totals kept by
// ingest, without scanning the line items.
func (db *DB) UsageStats(ctx context.Context) (costexplorer.UsageStats, error) {
	var s costexplorer.UsageStats
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var first, last sql.NullInt64
		var total int64
		if err := tx.QueryRowContext(ctx, `SELECT data_version, line_items, total_cents, first_day, last_day,
			(SELECT COUNT(*) FROM rollup), (SELECT COUNT(*) FROM organizations),
			(SELECT COUNT(*) FROM projects), (SELECT COUNT(*) FROM clusters)
			FROM usage_state WHERE id = 1`).Scan(&s.DataVersion, &s.LineItems, &total, &first, &last,
			&s.RollupRows, &s.Organizations, &s.Projects, &s.Clusters); err != nil {
			return err
		}
		s.Total = costexplorer.Cents(total)
		s.FirstDay, s.LastDay = costexplorer.Day(first.Int64), costexplorer.Day(last.Int64)
		return nil
	})
	return s, err
}
