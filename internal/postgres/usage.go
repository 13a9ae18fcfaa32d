package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/costexplorer/costexplorer"
)

// DataVersion returns the data version, which every change to usage data or
// dimensions increments (on any replica).
func (db *DB) DataVersion(ctx context.Context) (int64, error) {
	var v int64
	err := db.run(ctx, func(c *pgxpool.Conn) error {
		return c.QueryRow(ctx, "SELECT data_version FROM usage_state WHERE id = 1").Scan(&v)
	})
	return v, err
}

// dims holds the surrogate keys of one snapshot mapped to 24-hex ids, so that
// scans resolve them with a map lookup instead of a join per row.
type dims struct {
	orgs, projects, clusters map[int32]string
	skus                     map[int32]skuKey
}

func loadDims(ctx context.Context, tx pgx.Tx, withSKUs bool) (*dims, error) {
	d := &dims{orgs: map[int32]string{0: ""}, projects: map[int32]string{0: ""}, clusters: map[int32]string{0: ""}, skus: map[int32]skuKey{}}
	for _, t := range []struct {
		table string
		dst   map[int32]string
	}{{"organizations", d.orgs}, {"projects", d.projects}, {"clusters", d.clusters}} {
		rows, err := tx.Query(ctx, "SELECT id, ext_id FROM "+t.table)
		if err != nil {
			return nil, err
		}
		var id int32
		var ext string
		if _, err := pgx.ForEachRow(rows, []any{&id, &ext}, func() error { t.dst[id] = ext; return nil }); err != nil {
			return nil, err
		}
	}
	if !withSKUs {
		return d, nil
	}
	rows, err := tx.Query(ctx, "SELECT id, name, service, unit FROM skus")
	if err != nil {
		return nil, err
	}
	var id int32
	var k skuKey
	_, err = pgx.ForEachRow(rows, []any{&id, &k.name, &k.service, &k.unit}, func() error { d.skus[id] = k; return nil })
	return d, err
}

// lookup returns the 24-hex id of a surrogate key, or an error for a dangling
// one (which Verify would also report).
func lookup(m map[int32]string, id int32, what string) (string, error) {
	ext, ok := m[id]
	if !ok {
		return "", fmt.Errorf("dangling %s key %d", what, id)
	}
	return ext, nil
}

// ScanRollup calls fn for every rollup row, from one snapshot.
func (db *DB) ScanRollup(ctx context.Context, fn func(*costexplorer.RollupRow) error) error {
	return db.readTx(ctx, func(tx pgx.Tx) error {
		d, err := loadDims(ctx, tx, false)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT month, org_id, project_id, cluster_id, service, cents FROM rollup")
		if err != nil {
			return err
		}
		var month, org, project, cluster, service int32
		var cents int64
		_, err = pgx.ForEachRow(rows, []any{&month, &org, &project, &cluster, &service, &cents}, func() error {
			r := &costexplorer.RollupRow{Month: costexplorer.Month(month), Amount: costexplorer.Cents(cents), Service: db.serviceName[service]}
			var err error
			if r.OrgID, err = lookup(d.orgs, org, "organization"); err != nil {
				return err
			}
			if r.ProjectID, err = lookup(d.projects, project, "project"); err != nil {
				return err
			}
			if r.ClusterID, err = lookup(d.clusters, cluster, "cluster"); err != nil {
				return err
			}
			return fn(r)
		})
		return err
	})
}

// ScanLineItems calls fn for every line item, from one snapshot.
func (db *DB) ScanLineItems(ctx context.Context, fn func(*costexplorer.LineItem) error) error {
	return db.readTx(ctx, func(tx pgx.Tx) error {
		d, err := loadDims(ctx, tx, true)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT id, org_id, project_id, cluster_id, sku_id, day, quantity, unit_price_nanos, cents FROM line_items")
		if err != nil {
			return err
		}
		var (
			raw                             []byte
			org, project, cluster, sku, day int32 // project, cluster 0: none
			qty                             float64
			price, cents                    int64
		)
		_, err = pgx.ForEachRow(rows, []any{&raw, &org, &project, &cluster, &sku, &day, &qty, &price, &cents}, func() error {
			var li costexplorer.LineItem
			if len(raw) != len(li.ID) {
				return fmt.Errorf("line item id of %d bytes", len(raw))
			}
			copy(li.ID[:], raw)
			var err error
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
			return fn(&li)
		})
		return err
	})
}

func deref(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

// Projects returns every project, in id order.
func (db *DB) Projects(ctx context.Context) ([]*costexplorer.Project, error) {
	out := []*costexplorer.Project{}
	err := db.run(ctx, func(c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, "SELECT p.ext_id, o.ext_id, p.name FROM projects p JOIN organizations o ON o.id = p.org_id ORDER BY p.ext_id")
		if err != nil {
			return err
		}
		var p costexplorer.Project
		_, err = pgx.ForEachRow(rows, []any{&p.ID, &p.OrgID, &p.Name}, func() error {
			cp := p
			out = append(out, &cp)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Clusters returns every cluster, in id order.
func (db *DB) Clusters(ctx context.Context) ([]*costexplorer.Cluster, error) {
	out := []*costexplorer.Cluster{}
	err := db.run(ctx, func(c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, "SELECT c.ext_id, p.ext_id, c.name, c.provider, c.tier FROM clusters c JOIN projects p ON p.id = c.project_id ORDER BY c.ext_id")
		if err != nil {
			return err
		}
		var cl costexplorer.Cluster
		_, err = pgx.ForEachRow(rows, []any{&cl.ID, &cl.ProjectID, &cl.Name, &cl.Provider, &cl.Tier}, func() error {
			cp := cl
			out = append(out, &cp)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UsageStats summarises the stored usage from the running totals kept by
// ingest, without scanning the line items.
func (db *DB) UsageStats(ctx context.Context) (costexplorer.UsageStats, error) {
	var s costexplorer.UsageStats
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		var first, last *int32
		var total int64
		if err := tx.QueryRow(ctx, `SELECT data_version, line_items, total_cents, first_day, last_day,
			(SELECT COUNT(*) FROM rollup), (SELECT COUNT(*) FROM organizations),
			(SELECT COUNT(*) FROM projects), (SELECT COUNT(*) FROM clusters)
			FROM usage_state WHERE id = 1`).Scan(&s.DataVersion, &s.LineItems, &total, &first, &last,
			&s.RollupRows, &s.Organizations, &s.Projects, &s.Clusters); err != nil {
			return err
		}
		s.Total = costexplorer.Cents(total)
		s.FirstDay, s.LastDay = costexplorer.Day(deref(first)), costexplorer.Day(deref(last))
		return nil
	})
	return s, err
}
