package sqlstore

import (
	"context"
	"fmt"

	"github.com/costexplorer/costexplorer"
)

// DataVersion returns the data version, which every change to usage data or
// dimensions increments (in any process or on any replica).
func (s *Store) DataVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.r.Read(ctx, func(q Querier) error {
		return q.QueryRow(ctx, "SELECT data_version FROM usage_state WHERE id = 1").Scan(&v)
	})
	return v, err
}

// Dims holds the surrogate keys of one snapshot mapped to 24-hex ids (0 to
// ""), so that scans resolve them with a map lookup instead of a join per
// row.
type Dims struct {
	Orgs, Projects, Clusters map[int64]string
	SKUs                     map[int64]SKUKey
}

// LoadDims reads the dimension tables within q (the SKUs too when withSKUs).
func LoadDims(ctx context.Context, q Querier, withSKUs bool) (*Dims, error) {
	d := &Dims{Orgs: map[int64]string{0: ""}, Projects: map[int64]string{0: ""}, Clusters: map[int64]string{0: ""}, SKUs: map[int64]SKUKey{}}
	for _, t := range []struct {
		table string
		dst   map[int64]string
	}{{"organizations", d.Orgs}, {"projects", d.Projects}, {"clusters", d.Clusters}} {
		err := Each(ctx, q, "SELECT id, ext_id FROM "+t.table, func(r Row) error {
			var id int64
			var ext string
			if err := r.Scan(&id, &ext); err != nil {
				return err
			}
			t.dst[id] = ext
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if !withSKUs {
		return d, nil
	}
	err := Each(ctx, q, "SELECT id, name, service, unit FROM skus", func(r Row) error {
		var id int64
		var k SKUKey
		if err := r.Scan(&id, &k.Name, &k.Service, &k.Unit); err != nil {
			return err
		}
		d.SKUs[id] = k
		return nil
	})
	return d, err
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

// resolve sets the 24-hex ids of a cell's or an item's organization, project
// and cluster.
func (d *Dims) resolve(org, project, cluster int64, orgID, projectID, clusterID *string) error {
	var err error
	if *orgID, err = lookup(d.Orgs, org, "organization"); err != nil {
		return err
	}
	if *projectID, err = lookup(d.Projects, project, "project"); err != nil {
		return err
	}
	*clusterID, err = lookup(d.Clusters, cluster, "cluster")
	return err
}

// ScanRollup calls fn for every rollup row, from one snapshot.
func (s *Store) ScanRollup(ctx context.Context, fn func(*costexplorer.RollupRow) error) error {
	return s.r.ReadTx(ctx, func(q Querier) error {
		d, err := LoadDims(ctx, q, false)
		if err != nil {
			return err
		}
		return Each(ctx, q, "SELECT month, org_id, project_id, cluster_id, service, cents FROM rollup", func(row Row) error {
			var month, org, project, cluster, service, cents int64
			if err := row.Scan(&month, &org, &project, &cluster, &service, &cents); err != nil {
				return err
			}
			r := &costexplorer.RollupRow{Month: costexplorer.Month(month), Amount: costexplorer.Cents(cents), Service: s.services.Name[service]}
			if err := d.resolve(org, project, cluster, &r.OrgID, &r.ProjectID, &r.ClusterID); err != nil {
				return err
			}
			return fn(r)
		})
	})
}

// lineItemID scans a 16-byte id column into a LineItemID without keeping
// the driver's bytes.
type lineItemID struct{ dst *costexplorer.LineItemID }

// Scan implements [sql.Scanner].
func (s lineItemID) Scan(src any) error {
	b, ok := src.([]byte)
	if !ok {
		return fmt.Errorf("line item id: unsupported %T", src)
	}
	if len(b) != len(s.dst) {
		return fmt.Errorf("line item id of %d bytes", len(b))
	}
	copy(s.dst[:], b)
	return nil
}

// ScanLineItems calls fn for every line item, from one snapshot (SQLite:
// in the table's key order), with its invoice's id and every field an
// invoice shows of it.
func (s *Store) ScanLineItems(ctx context.Context, fn func(*costexplorer.LineItem) error) error {
	return s.r.ReadTx(ctx, func(q Querier) error {
		d, err := LoadDims(ctx, q, true)
		if err != nil {
			return err
		}
		x, err := loadItemDicts(ctx, q)
		if err != nil {
			return err
		}
		return Each(ctx, q, `SELECT id, org_id, invoice_id, project_id, cluster_id, sku_id, day, quantity, unit_price_nanos, cents,
			COALESCE(bill_day, 0), COALESCE(detail_id, 0), COALESCE(tag_set_id, 0), COALESCE(discount_percent, 0), COALESCE(discount_cents, 0)
			FROM line_items`, func(r Row) error {
			var (
				li                                       costexplorer.LineItem
				org, invoice, project, cluster, sku, day int64 // project, cluster 0: none
				price, cents, billDay, detail, tagSet    int64
				discount                                 int64
			)
			if err := r.Scan(lineItemID{&li.ID}, &org, &invoice, &project, &cluster, &sku, &day, &li.Quantity, &price, &cents,
				&billDay, &detail, &tagSet, &li.DiscountPercent, &discount); err != nil {
				return err
			}
			if err := d.resolve(org, project, cluster, &li.OrgID, &li.ProjectID, &li.ClusterID); err != nil {
				return err
			}
			k, ok := d.SKUs[sku]
			if !ok {
				return fmt.Errorf("dangling sku key %d", sku)
			}
			li.SKU, li.Unit, li.Service = k.Name, k.Unit, s.services.Name[k.Service]
			li.Date = costexplorer.Day(day)
			li.UnitPriceNanos, li.Amount = price, costexplorer.Cents(cents)
			li.BillDate, li.Discount = costexplorer.Day(billDay), costexplorer.Cents(discount)
			var okI, okT, okD bool
			li.InvoiceID, okI = x.invoices[invoice]
			li.Tags, okT = x.tags[tagSet]
			det, okD := x.details[detail]
			if !okI || !okT || !okD {
				return fmt.Errorf("line item %s: dangling key (invoice %d, tag set %d, details %d)", li.ID, invoice, tagSet, detail)
			}
			det.Apply(&li)
			return fn(&li)
		})
	})
}

// itemDicts maps the invoice, tag-set and details keys of line items to
// their values (0: none).
type itemDicts struct {
	invoices map[int64]string
	tags     map[int64]costexplorer.Tags
	details  map[int64]Details
}

// eachText calls put for every row of (id, text) query returns.
func eachText(ctx context.Context, q Querier, query string, put func(id int64, v string) error) error {
	return Each(ctx, q, query, func(r Row) error {
		var id int64
		var v string
		if err := r.Scan(&id, &v); err != nil {
			return err
		}
		return put(id, v)
	})
}

// loadTagSets reads every tag set within q (0: no tags).
func loadTagSets(ctx context.Context, q Querier) (map[int64]costexplorer.Tags, error) {
	tags := map[int64]costexplorer.Tags{0: {}}
	err := eachText(ctx, q, "SELECT id, enc FROM tag_sets", func(id int64, v string) (err error) {
		tags[id], err = costexplorer.ParseTags(v)
		return err
	})
	return tags, err
}

// loadItemDicts reads every invoice id, tag set and details row within q.
func loadItemDicts(ctx context.Context, q Querier) (*itemDicts, error) {
	x := &itemDicts{invoices: map[int64]string{}, details: map[int64]Details{0: {}}}
	if err := eachText(ctx, q, "SELECT id, ext_id FROM invoices WHERE ext_id IS NOT NULL", func(id int64, v string) error {
		x.invoices[id] = v
		return nil
	}); err != nil {
		return nil, err
	}
	var err error
	if x.tags, err = loadTagSets(ctx, q); err != nil {
		return nil, err
	}
	err = eachText(ctx, q, "SELECT id, enc FROM item_details", func(id int64, v string) (err error) {
		x.details[id], err = DecodeDetails(v)
		return err
	})
	return x, err
}

// ScanDailyRollup calls fn for every daily rollup cell, from one snapshot,
// in key order (an organization's month together). Ingest deletes a cell
// whose items were all removed; one left with none (a store written before
// that rule) is skipped. fn must not keep the row.
func (s *Store) ScanDailyRollup(ctx context.Context, fn func(*costexplorer.DailyRollupRow) error) error {
	return s.r.ReadTx(ctx, func(q Querier) error {
		d, err := LoadDims(ctx, q, true)
		if err != nil {
			return err
		}
		tags, err := loadTagSets(ctx, q)
		if err != nil {
			return err
		}
		var r costexplorer.DailyRollupRow
		return Each(ctx, q, `SELECT org_id, project_id, cluster_id, sku_id, tag_set_id, day, cents, quantity, items FROM daily_rollup
			WHERE items <> 0 ORDER BY org_id, month, project_id, cluster_id, sku_id, tag_set_id, day`, func(row Row) error {
			var org, project, cluster, sku, tagSet, day, cents int64
			if err := row.Scan(&org, &project, &cluster, &sku, &tagSet, &day, &cents, &r.Quantity, &r.Items); err != nil {
				return err
			}
			if err := d.resolve(org, project, cluster, &r.OrgID, &r.ProjectID, &r.ClusterID); err != nil {
				return err
			}
			k, ok := d.SKUs[sku]
			if !ok {
				return fmt.Errorf("dangling sku key %d", sku)
			}
			if r.Tags, ok = tags[tagSet]; !ok {
				return fmt.Errorf("dangling tag set key %d", tagSet)
			}
			r.SKU, r.Service = k.Name, s.services.Name[k.Service]
			r.Day, r.Amount = costexplorer.Day(day), costexplorer.Cents(cents)
			return fn(&r)
		})
	})
}

// Projects returns every project, in id order.
func (s *Store) Projects(ctx context.Context) ([]*costexplorer.Project, error) {
	return list(ctx, s, func(r Row) (*costexplorer.Project, error) {
		var p costexplorer.Project
		return &p, r.Scan(&p.ID, &p.OrgID, &p.Name)
	}, "SELECT p.ext_id, o.ext_id, p.name FROM projects p JOIN organizations o ON o.id = p.org_id ORDER BY p.ext_id")
}

// Clusters returns every cluster, in id order.
func (s *Store) Clusters(ctx context.Context) ([]*costexplorer.Cluster, error) {
	return list(ctx, s, func(r Row) (*costexplorer.Cluster, error) {
		var c costexplorer.Cluster
		return &c, r.Scan(&c.ID, &c.ProjectID, &c.Name, &c.Provider, &c.Tier)
	}, "SELECT c.ext_id, p.ext_id, c.name, c.provider, c.tier FROM clusters c JOIN projects p ON p.id = c.project_id ORDER BY c.ext_id")
}

// UsageStats summarises the stored usage from the running totals kept by
// ingest, without scanning the line items.
func (s *Store) UsageStats(ctx context.Context) (costexplorer.UsageStats, error) {
	var st costexplorer.UsageStats
	err := s.r.ReadTx(ctx, func(q Querier) error {
		var first, last NullInt64
		var total int64
		if err := q.QueryRow(ctx, `SELECT data_version, line_items, total_cents, first_day, last_day,
			(SELECT COUNT(*) FROM rollup), (SELECT COUNT(*) FROM organizations),
			(SELECT COUNT(*) FROM projects), (SELECT COUNT(*) FROM clusters)
			FROM usage_state WHERE id = 1`).Scan(&st.DataVersion, &st.LineItems, &total, &first, &last,
			&st.RollupRows, &st.Organizations, &st.Projects, &st.Clusters); err != nil {
			return err
		}
		st.Total = costexplorer.Cents(total)
		st.FirstDay, st.LastDay = costexplorer.Day(first), costexplorer.Day(last)
		return nil
	})
	return st, err
}
