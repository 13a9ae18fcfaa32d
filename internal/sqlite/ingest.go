package sqlite

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/costexplorer/costexplorer"
)

// insertChunk is how many line items one INSERT statement carries. Fewer,
// larger statements cut the per-statement cost of database/sql and the
// driver, which dominates small inserts; 9 parameters a row stay far below
// SQLite's limit of 32766.
const insertChunk = 256

// rollupChunk is how many rollup cells one upsert statement carries.
const rollupChunk = 256

// cellKey identifies a rollup cell by surrogate keys (0: no project/cluster).
type cellKey struct {
	month   costexplorer.Month
	org     int64
	project int64
	cluster int64
	service int64
}

// skuKey identifies a row of the skus table.
type skuKey struct {
	name    string
	service int64
	unit    string
}

// itemRow is a line item resolved to surrogate keys.
type itemRow struct {
	item    *costexplorer.LineItem
	org     int64
	project int64 // 0: none
	cluster int64 // 0: none
	sku     int64
	service int64
}

// keys maps 24-hex ids (and SKUs) to surrogate keys and back.
type keys struct {
	orgs     map[string]int64
	projects map[string]projectRef
	clusters map[string]clusterRef
	skus     map[skuKey]int64
	// ext maps surrogate keys back to 24-hex ids for the deltas.
	orgExt, projectExt, clusterExt map[int64]string
}

func newKeys() keys {
	return keys{
		orgs: map[string]int64{}, projects: map[string]projectRef{}, clusters: map[string]clusterRef{},
		skus:   map[skuKey]int64{},
		orgExt: map[int64]string{}, projectExt: map[int64]string{}, clusterExt: map[int64]string{},
	}
}

// keyCache holds the surrogate keys of committed dimension rows, so that an
// ingest resolves its items without a query per dimension. Entries stay
// valid forever: dimension rows are never deleted, and a project never moves
// to another organization nor a cluster to another project.
type keyCache struct {
	mu sync.RWMutex
	keys
}

// merge adds the keys of a committed transaction.
func (c *keyCache) merge(k *keys) {
	c.mu.Lock()
	defer c.mu.Unlock()
	maps.Copy(c.orgs, k.orgs)
	maps.Copy(c.projects, k.projects)
	maps.Copy(c.clusters, k.clusters)
	maps.Copy(c.skus, k.skus)
	maps.Copy(c.orgExt, k.orgExt)
	maps.Copy(c.projectExt, k.projectExt)
	maps.Copy(c.clusterExt, k.clusterExt)
}

// ingester resolves the dimensions of one batch inside its transaction. Keys
// it finds or creates go to its own maps, which join the shared cache only
// after the commit: a key cached before could belong to a row rolled back.
type ingester struct {
	db  *DB
	ctx context.Context
	tx  *sql.Tx
	keys

	findOrg, findProject, findCluster, findSKU, insertSKU *sql.Stmt

	changed bool // a dimension was created, renamed or relinked
}

type projectRef struct{ id, org int64 }
type clusterRef struct{ id, project int64 }

func validationErr(format string, args ...any) error {
	return costexplorer.Errorf(costexplorer.ErrValidation, format, args...)
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
		in = &ingester{db: db, ctx: ctx, tx: tx, keys: newKeys()}
		defer in.close()
		if err := in.prepare(); err != nil {
			return err
		}
		if err := in.upsertDimensions(b); err != nil {
			return err
		}
		rows, err := in.resolveItems(b.Items)
		if err != nil {
			return err
		}
		inserted, err := in.insertItems(rows)
		if err != nil {
			return err
		}
		res.Inserted = len(inserted)
		res.Duplicates = len(rows) - len(inserted)
		cellKeys, cells, err := in.applyRollup(inserted)
		if err != nil {
			return err
		}
		res.Deltas = in.deltas(cellKeys, cells)
		res.DataVersion, err = in.finish(inserted)
		return err
	})
	if err != nil {
		return costexplorer.IngestResult{}, err
	}
	db.keys.merge(&in.keys)
	return res, nil
}

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
		in.orgs[o.ID], in.orgExt[id] = id, o.ID
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
				return validationErr("organization %s: paying organization %s not found", o.ID, o.PayingOrgID)
			}
			return err
		}
		in.changed = true
	}

	for _, p := range b.Projects {
		org, err := in.org(p.OrgID)
		if err != nil {
			return validationErr("project %s: %s", p.ID, errDetail(err))
		}
		var ref projectRef
		var name string
		err = tx.QueryRowContext(ctx, "SELECT id, org_id, name FROM projects WHERE ext_id = ?", p.ID).Scan(&ref.id, &ref.org, &name)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			ref.org = org
			if err := tx.QueryRowContext(ctx, "INSERT INTO projects (ext_id, org_id, name) VALUES (?, ?, ?) RETURNING id", p.ID, org, p.Name).Scan(&ref.id); err != nil {
				return fmt.Errorf("insert project %s: %w", p.ID, err)
			}
			in.changed = true
		case err != nil:
			return err
		case ref.org != org:
			return validationErr("project %s belongs to another organization than %s", p.ID, p.OrgID)
		case name != p.Name:
			if _, err := tx.ExecContext(ctx, "UPDATE projects SET name = ? WHERE id = ?", p.Name, ref.id); err != nil {
				return fmt.Errorf("rename project %s: %w", p.ID, err)
			}
			in.changed = true
		}
		in.projects[p.ID], in.projectExt[ref.id] = ref, p.ID
	}

	for _, c := range b.Clusters {
		proj, err := in.project(c.ProjectID)
		if err != nil {
			return validationErr("cluster %s: %s", c.ID, errDetail(err))
		}
		var ref clusterRef
		var name, provider, tier string
		err = tx.QueryRowContext(ctx, "SELECT id, project_id, name, provider, tier FROM clusters WHERE ext_id = ?", c.ID).Scan(&ref.id, &ref.project, &name, &provider, &tier)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			ref.project = proj.id
			if err := tx.QueryRowContext(ctx, "INSERT INTO clusters (ext_id, project_id, name, provider, tier) VALUES (?, ?, ?, ?, ?) RETURNING id",
				c.ID, proj.id, c.Name, c.Provider, c.Tier).Scan(&ref.id); err != nil {
				return fmt.Errorf("insert cluster %s: %w", c.ID, err)
			}
			in.changed = true
		case err != nil:
			return err
		case ref.project != proj.id:
			return validationErr("cluster %s belongs to another project than %s", c.ID, c.ProjectID)
		default:
			// Provider and tier are descriptive: an empty value keeps the stored one.
			newProvider, newTier := cmp.Or(c.Provider, provider), cmp.Or(c.Tier, tier)
			if name != c.Name || newProvider != provider || newTier != tier {
				if _, err := tx.ExecContext(ctx, "UPDATE clusters SET name = ?, provider = ?, tier = ? WHERE id = ?", c.Name, newProvider, newTier, ref.id); err != nil {
					return fmt.Errorf("update cluster %s: %w", c.ID, err)
				}
				in.changed = true
			}
		}
		in.clusters[c.ID], in.clusterExt[ref.id] = ref, c.ID
	}
	return nil
}

func errDetail(err error) string {
	var e *costexplorer.Error
	if errors.As(err, &e) {
		return e.Detail
	}
	return err.Error()
}

// org resolves an organization id, or returns ErrNotFound.
func (in *ingester) org(ext string) (int64, error) {
	if id, ok := in.orgs[ext]; ok {
		return id, nil
	}
	in.db.keys.mu.RLock()
	id, ok := in.db.keys.orgs[ext]
	in.db.keys.mu.RUnlock()
	if ok {
		in.orgs[ext], in.orgExt[id] = id, ext
		return id, nil
	}
	err := in.findOrg.QueryRowContext(in.ctx, ext).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("organization %s not found", ext)
	}
	if err != nil {
		return 0, err
	}
	in.orgs[ext], in.orgExt[id] = id, ext
	return id, nil
}

func (in *ingester) project(ext string) (projectRef, error) {
	if r, ok := in.projects[ext]; ok {
		return r, nil
	}
	in.db.keys.mu.RLock()
	r, ok := in.db.keys.projects[ext]
	in.db.keys.mu.RUnlock()
	if ok {
		in.projects[ext], in.projectExt[r.id] = r, ext
		return r, nil
	}
	err := in.findProject.QueryRowContext(in.ctx, ext).Scan(&r.id, &r.org)
	if errors.Is(err, sql.ErrNoRows) {
		return r, notFound("project %s not found", ext)
	}
	if err != nil {
		return r, err
	}
	in.projects[ext], in.projectExt[r.id] = r, ext
	return r, nil
}

func (in *ingester) cluster(ext string) (clusterRef, error) {
	if r, ok := in.clusters[ext]; ok {
		return r, nil
	}
	in.db.keys.mu.RLock()
	r, ok := in.db.keys.clusters[ext]
	in.db.keys.mu.RUnlock()
	if ok {
		in.clusters[ext], in.clusterExt[r.id] = r, ext
		return r, nil
	}
	err := in.findCluster.QueryRowContext(in.ctx, ext).Scan(&r.id, &r.project)
	if errors.Is(err, sql.ErrNoRows) {
		return r, notFound("cluster %s not found", ext)
	}
	if err != nil {
		return r, err
	}
	in.clusters[ext], in.clusterExt[r.id] = r, ext
	return r, nil
}

func (in *ingester) sku(k skuKey) (int64, error) {
	if id, ok := in.skus[k]; ok {
		return id, nil
	}
	in.db.keys.mu.RLock()
	id, ok := in.db.keys.skus[k]
	in.db.keys.mu.RUnlock()
	if ok {
		in.skus[k] = id
		return id, nil
	}
	if _, err := in.insertSKU.ExecContext(in.ctx, k.name, k.service, k.unit); err != nil {
		return 0, fmt.Errorf("insert sku %q: %w", k.name, err)
	}
	if err := in.findSKU.QueryRowContext(in.ctx, k.name, k.service, k.unit).Scan(&id); err != nil {
		return 0, fmt.Errorf("find sku %q: %w", k.name, err)
	}
	in.skus[k] = id
	return id, nil
}

// resolveItems maps every item to surrogate keys, checking that its
// dimensions exist and belong together.
func (in *ingester) resolveItems(items []costexplorer.LineItem) ([]itemRow, error) {
	rows := make([]itemRow, len(items))
	for i := range items {
		li := &items[i]
		r := itemRow{item: li}
		var err error
		if r.org, err = in.org(li.OrgID); err != nil {
			return nil, in.itemErr(li, err)
		}
		if li.ProjectID != "" {
			p, err := in.project(li.ProjectID)
			if err != nil {
				return nil, in.itemErr(li, err)
			}
			if p.org != r.org {
				return nil, validationErr("line item %s: project %s does not belong to organization %s", li.ID, li.ProjectID, li.OrgID)
			}
			r.project = p.id
		}
		if li.ClusterID != "" {
			c, err := in.cluster(li.ClusterID)
			if err != nil {
				return nil, in.itemErr(li, err)
			}
			if c.project != r.project {
				return nil, validationErr("line item %s: cluster %s does not belong to project %s", li.ID, li.ClusterID, li.ProjectID)
			}
			r.cluster = c.id
		}
		svc, _ := costexplorer.ParseService(string(li.Service)) // validated
		code, ok := in.db.serviceCode[svc]
		if !ok {
			return nil, fmt.Errorf("service %q has no code", svc)
		}
		r.service = code
		if r.sku, err = in.sku(skuKey{li.SKU, code, li.Unit}); err != nil {
			return nil, err
		}
		rows[i] = r
	}
	return rows, nil
}

func (in *ingester) itemErr(li *costexplorer.LineItem, err error) error {
	if costexplorer.IsNotFound(err) {
		return validationErr("line item %s: %s", li.ID, errDetail(err))
	}
	return err
}

// insertItems inserts the rows, skipping ids already stored (or earlier in
// the batch), and returns the rows that were inserted.
//
// The table's key is (org, project, cluster, day, id) and the id fixes the
// other key columns (it names one charge of one resource on one day), so a
// conflict on the key is a conflict on the id. Within the batch, repeated ids are dropped
// here whatever their other columns, so that each id is inserted at most once
// and RETURNING id names one row of its chunk.
func (in *ingester) insertItems(rows []itemRow) ([]itemRow, error) {
	const cols = "(org_id, project_id, cluster_id, sku_id, day, id, quantity, unit_price_nanos, cents)"
	stmtFor := func(n int) (*sql.Stmt, error) {
		q := "INSERT INTO line_items " + cols + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)" +
			strings.Repeat(", (?, ?, ?, ?, ?, ?, ?, ?, ?)", n-1) +
			" ON CONFLICT (org_id, project_id, cluster_id, day, id) DO NOTHING RETURNING id"
		return in.tx.PrepareContext(in.ctx, q)
	}
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	seen := make(map[costexplorer.LineItemID]struct{}, len(rows))
	unique := make([]itemRow, 0, len(rows))
	for _, r := range rows {
		if _, dup := seen[r.item.ID]; !dup {
			seen[r.item.ID] = struct{}{}
			unique = append(unique, r)
		}
	}
	// Key order turns the b-tree inserts into an ordered merge: each leaf is
	// visited once per batch, with its path still in the page cache.
	slices.SortFunc(unique, compareItems)
	rows = unique
	inserted := make([]itemRow, 0, len(rows))
	args := make([]any, 0, insertChunk*9)
	first := make(map[costexplorer.LineItemID]int, insertChunk)
	for start := 0; start < len(rows); start += insertChunk {
		chunk := rows[start:min(start+insertChunk, len(rows))]
		args = args[:0]
		clear(first)
		for i := range chunk {
			r := &chunk[i]
			li := r.item
			first[li.ID] = i
			args = append(args, r.org, r.project, r.cluster, r.sku, int64(li.Date), li.ID[:],
				li.Quantity, li.UnitPriceNanos, int64(li.Amount))
		}
		var stmt *sql.Stmt
		var err error
		if len(chunk) == insertChunk {
			if full == nil {
				if full, err = stmtFor(insertChunk); err != nil {
					return nil, err
				}
			}
			stmt = full
		} else {
			if stmt, err = stmtFor(len(chunk)); err != nil {
				return nil, err
			}
			defer stmt.Close()
		}
		res, err := stmt.QueryContext(in.ctx, args...)
		if err != nil {
			return nil, fmt.Errorf("insert line items: %w", err)
		}
		var raw sql.RawBytes
		for res.Next() {
			if err := res.Scan(&raw); err != nil {
				res.Close()
				return nil, err
			}
			var id costexplorer.LineItemID
			copy(id[:], raw)
			i, ok := first[id]
			if !ok {
				res.Close()
				return nil, fmt.Errorf("insert line items: unexpected id %s returned", id)
			}
			inserted = append(inserted, chunk[i])
		}
		res.Close()
		if err := res.Err(); err != nil {
			return nil, fmt.Errorf("insert line items: %w", err)
		}
	}
	return inserted, nil
}

// compareItems orders rows as the line_items key does.
func compareItems(a, b itemRow) int {
	return cmp.Or(cmp.Compare(a.org, b.org), cmp.Compare(a.project, b.project), cmp.Compare(a.cluster, b.cluster),
		cmp.Compare(a.item.Date, b.item.Date), bytes.Compare(a.item.ID[:], b.item.ID[:]))
}

// applyRollup adds the inserted items' amounts to the rollup, cell by cell,
// and returns the cells it added to.
func (in *ingester) applyRollup(inserted []itemRow) ([]cellKey, map[cellKey]costexplorer.Cents, error) {
	cells := map[cellKey]costexplorer.Cents{}
	for i := range inserted {
		r := &inserted[i]
		cells[cellKey{r.item.Date.Month(), r.org, r.project, r.cluster, r.service}] += r.item.Amount
	}
	keys := make([]cellKey, 0, len(cells))
	for k := range cells {
		keys = append(keys, k)
	}
	// Key order makes the b-tree inserts sequential and the deltas stable.
	slices.SortFunc(keys, compareCells)
	stmtFor := func(n int) (*sql.Stmt, error) {
		return in.tx.PrepareContext(in.ctx, "INSERT INTO rollup (month, org_id, project_id, cluster_id, service, cents) VALUES (?, ?, ?, ?, ?, ?)"+
			strings.Repeat(", (?, ?, ?, ?, ?, ?)", n-1)+
			" ON CONFLICT (month, org_id, project_id, cluster_id, service) DO UPDATE SET cents = rollup.cents + excluded.cents")
	}
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	args := make([]any, 0, rollupChunk*6)
	for start := 0; start < len(keys); start += rollupChunk {
		chunk := keys[start:min(start+rollupChunk, len(keys))]
		args = args[:0]
		for _, k := range chunk {
			args = append(args, int64(k.month), k.org, k.project, k.cluster, k.service, int64(cells[k]))
		}
		stmt := full
		if len(chunk) < rollupChunk || full == nil {
			s, err := stmtFor(len(chunk))
			if err != nil {
				return nil, nil, err
			}
			if len(chunk) == rollupChunk {
				full = s
			} else {
				defer s.Close()
			}
			stmt = s
		}
		if _, err := stmt.ExecContext(in.ctx, args...); err != nil {
			return nil, nil, fmt.Errorf("update rollup: %w", err)
		}
	}
	return keys, cells, nil
}

func compareCells(a, b cellKey) int {
	return cmp.Or(cmp.Compare(a.month, b.month), cmp.Compare(a.org, b.org), cmp.Compare(a.project, b.project),
		cmp.Compare(a.cluster, b.cluster), cmp.Compare(a.service, b.service))
}

// deltas returns the cells as rollup rows with 24-hex ids, in key order.
func (in *ingester) deltas(keys []cellKey, cells map[cellKey]costexplorer.Cents) []costexplorer.RollupRow {
	out := make([]costexplorer.RollupRow, 0, len(keys))
	for _, k := range keys {
		out = append(out, costexplorer.RollupRow{
			Month:     k.month,
			OrgID:     in.orgExt[k.org],
			ProjectID: in.projectExt[k.project],
			ClusterID: in.clusterExt[k.cluster],
			Service:   in.db.serviceName[k.service],
			Amount:    cells[k],
		})
	}
	return out
}

// finish updates the running totals and the data version, and returns the
// version after the ingest.
func (in *ingester) finish(inserted []itemRow) (int64, error) {
	var v int64
	if len(inserted) == 0 {
		if in.changed {
			return bumpDataVersion(in.ctx, in.tx)
		}
		err := in.tx.QueryRowContext(in.ctx, "SELECT data_version FROM usage_state WHERE id = 1").Scan(&v)
		return v, err
	}
	var total costexplorer.Cents
	lo, hi := inserted[0].item.Date, inserted[0].item.Date
	for i := range inserted {
		li := inserted[i].item
		total += li.Amount
		lo, hi = min(lo, li.Date), max(hi, li.Date)
	}
	err := in.tx.QueryRowContext(in.ctx, `UPDATE usage_state SET
		data_version = data_version + 1,
		line_items   = line_items + ?,
		total_cents  = total_cents + ?,
		first_day    = CASE WHEN first_day IS NULL OR first_day > ? THEN ? ELSE first_day END,
		last_day     = CASE WHEN last_day IS NULL OR last_day < ? THEN ? ELSE last_day END
		WHERE id = 1 RETURNING data_version`,
		len(inserted), int64(total), int64(lo), int64(lo), int64(hi), int64(hi)).Scan(&v)
	return v, err
}
