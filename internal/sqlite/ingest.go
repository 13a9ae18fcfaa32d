package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/sqlstore"
)

// insertChunk is how many line items one INSERT statement carries. Fewer,
// larger statements cut the per-statement cost of database/sql and the
// driver, which dominates small inserts; 9 parameters a row stay far below
// SQLite's limit of 32766.
const insertChunk = 256

// rollupChunk is how many rollup cells one upsert statement carries.
const rollupChunk = 256

// cellKey identifies a rollup cell and skuKey a row of the skus table, as
// the readers (usage.go, verify.go) scan them; ingest uses [sqlstore.CellKey]
// and [sqlstore.SKUKey].
type cellKey struct {
	month                          costexplorer.Month
	org, project, cluster, service int64
}

type skuKey struct {
	name    string
	service int64
	unit    string
}

func compareCells(a, b cellKey) int {
	return sqlstore.CompareCells(sqlstore.CellKey{Month: a.month, Org: a.org, Project: a.project, Cluster: a.cluster, Service: a.service},
		sqlstore.CellKey{Month: b.month, Org: b.org, Project: b.project, Cluster: b.cluster, Service: b.service})
}

// keyCache holds the surrogate keys of committed dimension rows (see
// [sqlstore.KeyCache]); every ingest of this process shares it.
type keyCache struct{ keys *sqlstore.KeyCache }

// newKeys returns an empty cache for [keyCache].
func newKeys() *sqlstore.KeyCache { return sqlstore.NewKeyCache() }

// ingester writes one batch inside its transaction. Its resolver finds
// dimension rows with prepared statements, one row at a time: the key cache
// answers nearly every lookup after the first batches.
type ingester struct {
	db  *DB
	ctx context.Context
	tx  *sql.Tx
	*sqlstore.Resolver

	findOrg, findProject, findCluster, findSKU, insertSKU *sql.Stmt

	changed bool // a dimension was created, renamed or relinked
}

// ingestCacheKiB is the page cache of the write connection while and after
// this process ingests: 256 MiB.
const ingestCacheKiB = 262144

var ingestCachePragma = fmt.Sprintf("PRAGMA cache_size = -%d", ingestCacheKiB)

// IngestUsage stores a batch in one transaction (see
// [costexplorer.UsageStore]). Dimensions are created or renamed; a project
// cannot move to another organization, nor a cluster to another project.
// Items are validated and must reference organizations, projects and
// clusters that exist in the store or the batch, consistently (the project of
// the item's organization, the cluster of the item's project); otherwise the
// error is ErrValidation and nothing changes. The data version changes when
// items were inserted or a dimension was created, renamed or relinked (names
// appear in query results), and only then.
func (db *DB) IngestUsage(ctx context.Context, b *costexplorer.UsageBatch) (costexplorer.IngestResult, error) {
	if err := b.Validate(); err != nil {
		return costexplorer.IngestResult{}, err
	}
	var (
		res costexplorer.IngestResult
		in  *ingester
	)
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		// The write connection's page cache grows to ingestCacheKiB once
		// this process ingests (see Open), and stays so for later batches.
		if _, err := tx.ExecContext(ctx, ingestCachePragma); err != nil {
			return err
		}
		in = &ingester{db: db, ctx: ctx, tx: tx}
		in.Resolver = sqlstore.NewResolver(db.keys.keys, in, db.serviceCodeOf)
		defer in.close()
		if err := in.prepare(); err != nil {
			return err
		}
		if err := in.upsertDimensions(b); err != nil {
			return err
		}
		rows, err := in.ResolveItems(b.Items)
		if err != nil {
			return err
		}
		inserted, err := in.insertItems(rows)
		if err != nil {
			return err
		}
		res.Inserted = len(inserted)
		res.Duplicates = len(rows) - len(inserted)
		var delta sqlstore.RollupDelta
		delta.Add(inserted)
		cells := delta.Cells()
		if err := in.applyRollup(cells); err != nil {
			return err
		}
		res.Deltas = in.RollupRows(cells, db.serviceNameOf)
		res.DataVersion, err = in.finish(sqlstore.TotalsOf(inserted))
		return err
	})
	if err != nil {
		return costexplorer.IngestResult{}, err
	}
	db.keys.keys.Merge(&in.Keys)
	return res, nil
}

func (db *DB) serviceCodeOf(s costexplorer.Service) (int64, bool) {
	code, ok := db.serviceCode[s]
	return code, ok
}

func (db *DB) serviceNameOf(code int64) costexplorer.Service { return db.serviceName[code] }

func (in *ingester) prepare() error {
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{
		{&in.findOrg, "SELECT id FROM organizations WHERE ext_id = ?"},
		{&in.findProject, "SELECT id, org_id FROM projects WHERE ext_id = ?"},
		{&in.findCluster, "SELECT id, project_id FROM clusters WHERE ext_id = ?"},
		{&in.findSKU, "SELECT id FROM skus WHERE name = ? AND service = ? AND unit = ?"},
		{&in.insertSKU, "INSERT INTO skus (name, service, unit) VALUES (?, ?, ?) ON CONFLICT (name, service, unit) DO NOTHING"},
	} {
		s, err := in.tx.PrepareContext(in.ctx, p.q)
		if err != nil {
			return err
		}
		*p.dst = s
	}
	return nil
}

func (in *ingester) close() {
	for _, s := range []*sql.Stmt{in.findOrg, in.findProject, in.findCluster, in.findSKU, in.insertSKU} {
		if s != nil {
			s.Close()
		}
	}
}

// upsertDimensions creates or renames the batch's organizations, projects and
// clusters, in that order, so that each may refer to the ones before.
func (in *ingester) upsertDimensions(b *costexplorer.UsageBatch) error {
	ctx, tx := in.ctx, in.tx
	for i := range b.Organizations {
		o := &b.Organizations[i]
		var id int64
		var name string
		err := tx.QueryRowContext(ctx, "SELECT id, name FROM organizations WHERE ext_id = ?", o.ID).Scan(&id, &name)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			created := o.CreatedAt
			if created.IsZero() {
				created = in.db.now()
			}
			err = tx.QueryRowContext(ctx, `INSERT INTO organizations (ext_id, name, name_lower, requires_access_list, created_at)
				VALUES (?, ?, ?, ?, ?) RETURNING id`, o.ID, o.Name, strings.ToLower(o.Name), boolInt(o.RequiresAccessList), created.UnixMicro()).Scan(&id)
			if err != nil {
				return fmt.Errorf("insert organization %s: %w", o.ID, err)
			}
			in.changed = true
		case err != nil:
			return err
		case name != o.Name:
			if _, err := tx.ExecContext(ctx, "UPDATE organizations SET name = ?, name_lower = ? WHERE id = ?", o.Name, strings.ToLower(o.Name), id); err != nil {
				return fmt.Errorf("rename organization %s: %w", o.ID, err)
			}
			in.changed = true
		}
		in.PutOrg(o.ID, id)
	}
	// Links after every organization exists, so a batch may carry a paying
	// organization and its linked ones in any order.
	for i := range b.Organizations {
		o := &b.Organizations[i]
		if o.PayingOrgID == "" {
			continue
		}
		var current string
		if err := tx.QueryRowContext(ctx, "SELECT COALESCE(p.ext_id, '') FROM organizations o LEFT JOIN organizations p ON p.id = o.paying_org_id WHERE o.ext_id = ?", o.ID).Scan(&current); err != nil {
			return err
		}
		if current == o.PayingOrgID {
			continue
		}
		if err := linkOrg(ctx, tx, o.PayingOrgID, o.ID); err != nil {
			if costexplorer.IsNotFound(err) {
				return sqlstore.ValidationErr("organization %s: paying organization %s not found", o.ID, o.PayingOrgID)
			}
			return err
		}
		in.changed = true
	}

	for _, p := range b.Projects {
		org, err := in.Org(p.OrgID)
		if err != nil {
			return sqlstore.In("project "+p.ID, err)
		}
		var ref sqlstore.ProjectRef
		var name string
		err = tx.QueryRowContext(ctx, "SELECT id, org_id, name FROM projects WHERE ext_id = ?", p.ID).Scan(&ref.ID, &ref.Org, &name)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			ref.Org = org
			if err := tx.QueryRowContext(ctx, "INSERT INTO projects (ext_id, org_id, name) VALUES (?, ?, ?) RETURNING id", p.ID, org, p.Name).Scan(&ref.ID); err != nil {
				return fmt.Errorf("insert project %s: %w", p.ID, err)
			}
			in.changed = true
		case err != nil:
			return err
		case ref.Org != org:
			return sqlstore.ValidationErr("project %s belongs to another organization than %s", p.ID, p.OrgID)
		case name != p.Name:
			if _, err := tx.ExecContext(ctx, "UPDATE projects SET name = ? WHERE id = ?", p.Name, ref.ID); err != nil {
				return fmt.Errorf("rename project %s: %w", p.ID, err)
			}
			in.changed = true
		}
		in.PutProject(p.ID, ref)
	}

	for _, c := range b.Clusters {
		proj, err := in.Project(c.ProjectID)
		if err != nil {
			return sqlstore.In("cluster "+c.ID, err)
		}
		var ref sqlstore.ClusterRef
		var name, provider, tier string
		err = tx.QueryRowContext(ctx, "SELECT id, project_id, name, provider, tier FROM clusters WHERE ext_id = ?", c.ID).Scan(&ref.ID, &ref.Project, &name, &provider, &tier)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			ref.Project = proj.ID
			if err := tx.QueryRowContext(ctx, "INSERT INTO clusters (ext_id, project_id, name, provider, tier) VALUES (?, ?, ?, ?, ?) RETURNING id",
				c.ID, proj.ID, c.Name, c.Provider, c.Tier).Scan(&ref.ID); err != nil {
				return fmt.Errorf("insert cluster %s: %w", c.ID, err)
			}
			in.changed = true
		case err != nil:
			return err
		case ref.Project != proj.ID:
			return sqlstore.ValidationErr("cluster %s belongs to another project than %s", c.ID, c.ProjectID)
		default:
			// Provider and tier are descriptive: an empty value keeps the stored one.
			newProvider, newTier := cmp.Or(c.Provider, provider), cmp.Or(c.Tier, tier)
			if name != c.Name || newProvider != provider || newTier != tier {
				if _, err := tx.ExecContext(ctx, "UPDATE clusters SET name = ?, provider = ?, tier = ? WHERE id = ?", c.Name, newProvider, newTier, ref.ID); err != nil {
					return fmt.Errorf("update cluster %s: %w", c.ID, err)
				}
				in.changed = true
			}
		}
		in.PutCluster(c.ID, ref)
	}
	return nil
}

// FindOrg reads an organization's key (see [sqlstore.Finder]).
func (in *ingester) FindOrg(ext string) (id int64, found bool, err error) {
	found, err = found1(in.findOrg.QueryRowContext(in.ctx, ext).Scan(&id))
	return id, found, err
}

// FindProject reads a project's keys.
func (in *ingester) FindProject(ext string) (r sqlstore.ProjectRef, found bool, err error) {
	found, err = found1(in.findProject.QueryRowContext(in.ctx, ext).Scan(&r.ID, &r.Org))
	return r, found, err
}

// FindCluster reads a cluster's keys.
func (in *ingester) FindCluster(ext string) (r sqlstore.ClusterRef, found bool, err error) {
	found, err = found1(in.findCluster.QueryRowContext(in.ctx, ext).Scan(&r.ID, &r.Project))
	return r, found, err
}

// found1 turns the error of a single-row lookup into found and error.
func found1(err error) (bool, error) {
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// ResolveSKUs creates and finds the SKUs one at a time: they are few, and
// the key cache knows them after the first batches.
func (in *ingester) ResolveSKUs(keys []sqlstore.SKUKey, into map[sqlstore.SKUKey]int64) error {
	for _, k := range keys {
		if _, err := in.insertSKU.ExecContext(in.ctx, k.Name, k.Service, k.Unit); err != nil {
			return fmt.Errorf("insert sku %q: %w", k.Name, err)
		}
		var id int64
		if err := in.findSKU.QueryRowContext(in.ctx, k.Name, k.Service, k.Unit).Scan(&id); err != nil {
			return fmt.Errorf("find sku %q: %w", k.Name, err)
		}
		into[k] = id
	}
	return nil
}

// insertItems inserts the rows, skipping ids already stored (or earlier in
// the batch, see [sqlstore.UniqueItems]), in key order, and returns the rows
// that were inserted.
func (in *ingester) insertItems(rows []sqlstore.ItemRow) ([]sqlstore.ItemRow, error) {
	const cols = "(org_id, project_id, cluster_id, sku_id, day, id, quantity, unit_price_nanos, cents)"
	unique, index := sqlstore.UniqueItems(rows)
	inserted := make([]sqlstore.ItemRow, 0, len(unique))
	args := make([]any, 0, insertChunk*9)
	err := in.chunked(len(unique), insertChunk, func(n int) string {
		return "INSERT INTO line_items " + cols + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)" +
			strings.Repeat(", (?, ?, ?, ?, ?, ?, ?, ?, ?)", n-1) +
			" ON CONFLICT (org_id, project_id, cluster_id, day, id) DO NOTHING RETURNING id"
	}, func(stmt *sql.Stmt, start, end int) error {
		args = args[:0]
		for i := start; i < end; i++ {
			r := &unique[i]
			li := r.Item
			args = append(args, r.Org, r.Project, r.Cluster, r.SKU, int64(li.Date), li.ID[:],
				li.Quantity, li.UnitPriceNanos, int64(li.Amount))
		}
		res, err := stmt.QueryContext(in.ctx, args...)
		if err != nil {
			return err
		}
		defer res.Close()
		var raw sql.RawBytes
		for res.Next() {
			if err := res.Scan(&raw); err != nil {
				return err
			}
			r, err := sqlstore.Returned(unique, index, raw)
			if err != nil {
				return err
			}
			inserted = append(inserted, *r)
		}
		return res.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("insert line items: %w", err)
	}
	return inserted, nil
}

// chunked runs fn over [0, n) in chunks of size, with a statement of the
// chunk's length: one prepared for full chunks and reused, one for the last.
func (in *ingester) chunked(n, size int, query func(rows int) string, fn func(stmt *sql.Stmt, start, end int) error) error {
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	for start := 0; start < n; start += size {
		end := min(start+size, n)
		stmt := full
		if end-start < size || full == nil {
			s, err := in.tx.PrepareContext(in.ctx, query(end-start))
			if err != nil {
				return err
			}
			if end-start == size {
				full = s
			} else {
				defer s.Close()
			}
			stmt = s
		}
		if err := fn(stmt, start, end); err != nil {
			return err
		}
	}
	return nil
}

// applyRollup adds the cells' amounts to the rollup.
func (in *ingester) applyRollup(cells []sqlstore.Cell) error {
	args := make([]any, 0, rollupChunk*6)
	err := in.chunked(len(cells), rollupChunk, func(n int) string {
		return "INSERT INTO rollup (month, org_id, project_id, cluster_id, service, cents) VALUES (?, ?, ?, ?, ?, ?)" +
			strings.Repeat(", (?, ?, ?, ?, ?, ?)", n-1) +
			" ON CONFLICT (month, org_id, project_id, cluster_id, service) DO UPDATE SET cents = rollup.cents + excluded.cents"
	}, func(stmt *sql.Stmt, start, end int) error {
		args = args[:0]
		for _, c := range cells[start:end] {
			args = append(args, int64(c.Month), c.Org, c.Project, c.Cluster, c.Service, int64(c.Amount))
		}
		_, err := stmt.ExecContext(in.ctx, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("update rollup: %w", err)
	}
	return nil
}

// finish updates the running totals and the data version, and returns the
// version after the ingest.
func (in *ingester) finish(t sqlstore.Totals) (int64, error) {
	var v int64
	if t.Items == 0 {
		if in.changed {
			return bumpDataVersion(in.ctx, in.tx)
		}
		err := in.tx.QueryRowContext(in.ctx, "SELECT data_version FROM usage_state WHERE id = 1").Scan(&v)
		return v, err
	}
	err := in.tx.QueryRowContext(in.ctx, `UPDATE usage_state SET
		data_version = data_version + 1,
		line_items   = line_items + ?,
		total_cents  = total_cents + ?,
		first_day    = CASE WHEN first_day IS NULL OR first_day > ? THEN ? ELSE first_day END,
		last_day     = CASE WHEN last_day IS NULL OR last_day < ? THEN ? ELSE last_day END
		WHERE id = 1 RETURNING data_version`,
		t.Items, int64(t.Cents), int64(t.FirstDay), int64(t.FirstDay), int64(t.LastDay), int64(t.LastDay)).Scan(&v)
	return v, err
}
