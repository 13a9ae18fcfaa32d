package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"

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
	return d, loadSKUs(ctx, q, d.SKUs)
}

// loadSKUs reads every SKU within q into skus.
func loadSKUs(ctx context.Context, q Querier, skus map[int64]SKUKey) error {
	return Each(ctx, q, "SELECT id, name, service, unit FROM skus", func(r Row) error {
		var id int64
		var k SKUKey
		if err := r.Scan(&id, &k.Name, &k.Service, &k.Unit); err != nil {
			return err
		}
		skus[id] = k
		return nil
	})
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

// streamDims runs fn in one snapshot (streamTx) with its dimensions read
// first (LoadDims, the SKUs too when withSKUs): the scans of stored usage
// resolve surrogate keys with them.
func (s *Store) streamDims(ctx context.Context, withSKUs bool, fn func(q Querier, d *Dims) error) error {
	return s.streamTx(ctx, func(q Querier) error {
		d, err := LoadDims(ctx, q, withSKUs)
		if err != nil {
			return err
		}
		return fn(q, d)
	})
}

// ScanRollup calls fn for every rollup row, from one snapshot.
func (s *Store) ScanRollup(ctx context.Context, fn func(*costexplorer.RollupRow) error) error {
	return s.streamDims(ctx, false, func(q Querier, d *Dims) error {
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
	return s.ScanBytes(b)
}

// ScanBytes implements [BytesScanner].
func (s lineItemID) ScanBytes(b []byte) error {
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
	return s.streamDims(ctx, true, func(q Querier, d *Dims) error {
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
func eachText(ctx context.Context, q Querier, query string, put func(id int64, v string) error, args ...any) error {
	return Each(ctx, q, query, func(r Row) error {
		var id int64
		var v string
		if err := r.Scan(&id, &v); err != nil {
			return err
		}
		return put(id, v)
	}, args...)
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

// ScanDailyRollup calls fn for every daily cell (an organization, day,
// project, cluster, SKU and tag set) with the sums of its line items, from
// one snapshot, an organization's month at a time and each series (project,
// cluster, SKU, tag set) day by day, as the engine's daily build reads them.
// fn must not keep the row.
//
// No table holds the cells: a cell is almost always one line item (in the
// demo and in Atlas data alike), so a table of them doubled what ingest
// writes and what the store holds. They are summed from line_items read in
// its key order (org_id, invoice_id, project_id, cluster_id, day, id): an
// invoice is one organization and month, so the items of one organization,
// month, project and cluster come together, and only their cells are held
// at a time (see [dailyGroup]).
func (s *Store) ScanDailyRollup(ctx context.Context, fn func(*costexplorer.DailyRollupRow) error) error {
	return s.streamDims(ctx, true, func(q Querier, d *Dims) error {
		tags, err := loadTagSets(ctx, q)
		if err != nil {
			return err
		}
		g := dailyGroup{emit: func(k *dailyGroupKey, c *dailyItem, items int64) error {
			return s.emitDaily(d, tags, k, c, items, fn)
		}}
		err = Each(ctx, q, `SELECT org_id, invoice_id, project_id, cluster_id, sku_id, COALESCE(tag_set_id, 0), day, cents, quantity
			FROM line_items ORDER BY org_id, invoice_id, project_id, cluster_id`, func(row Row) error {
			var k dailyGroupKey
			var c dailyItem
			var day, cents int64
			if err := row.Scan(&k.org, &k.invoice, &k.project, &k.cluster, &c.sku, &c.tagSet, &day, &cents, &c.quantity); err != nil {
				return err
			}
			c.day, c.amount = costexplorer.Day(day), costexplorer.Cents(cents)
			return g.add(k, c)
		})
		if err != nil {
			return err
		}
		return g.flush()
	})
}

// emitDaily calls fn with cell c of group k, which sums items line items,
// resolved to 24-hex ids, names and tags.
func (s *Store) emitDaily(d *Dims, tags map[int64]costexplorer.Tags, k *dailyGroupKey, c *dailyItem, items int64,
	fn func(*costexplorer.DailyRollupRow) error) error {
	r := costexplorer.DailyRollupRow{Day: c.day, Amount: c.amount, Quantity: c.quantity, Items: items}
	if err := d.resolve(k.org, k.project, k.cluster, &r.OrgID, &r.ProjectID, &r.ClusterID); err != nil {
		return err
	}
	sku, ok := d.SKUs[c.sku]
	if !ok {
		return fmt.Errorf("dangling sku key %d", c.sku)
	}
	if r.Tags, ok = tags[c.tagSet]; !ok {
		return fmt.Errorf("dangling tag set key %d", c.tagSet)
	}
	r.SKU, r.Service = sku.Name, s.services.Name[sku.Service]
	return fn(&r)
}

// dailyGroupKey is what the line items of one group share: an invoice (an
// organization and month), a project and a cluster (0: none).
type dailyGroupKey struct{ org, invoice, project, cluster int64 }

// dailyItem is a line item as a daily cell reads it, or the sums of a cell.
type dailyItem struct {
	sku, tagSet int64
	day         costexplorer.Day
	amount      costexplorer.Cents
	quantity    float64
}

// dailyGroup sums the line items of one group at a time into daily cells:
// it holds the group's items (one resource's month: at most a few thousand),
// and when the next group begins, orders them by SKU, tag set and day and
// emits each run of equal keys as one cell.
type dailyGroup struct {
	key   dailyGroupKey
	items []dailyItem
	emit  func(k *dailyGroupKey, c *dailyItem, items int64) error
}

// add reads one line item of group k.
func (g *dailyGroup) add(k dailyGroupKey, c dailyItem) error {
	if k != g.key && len(g.items) > 0 {
		if err := g.flush(); err != nil {
			return err
		}
	}
	g.key = k
	g.items = append(g.items, c)
	return nil
}

// flush emits the cells of the group read so far and forgets its items.
func (g *dailyGroup) flush() error {
	items := g.items
	slices.SortFunc(items, func(a, b dailyItem) int {
		return cmp.Or(cmp.Compare(a.sku, b.sku), cmp.Compare(a.tagSet, b.tagSet), cmp.Compare(a.day, b.day))
	})
	for i := 0; i < len(items); {
		c := items[i]
		j := i + 1
		for ; j < len(items) && items[j].sku == c.sku && items[j].tagSet == c.tagSet && items[j].day == c.day; j++ {
			c.amount += items[j].amount
			c.quantity += items[j].quantity
		}
		if err := g.emit(&g.key, &c, int64(j-i)); err != nil {
			return err
		}
		i = j
	}
	g.items = items[:0]
	return nil
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
