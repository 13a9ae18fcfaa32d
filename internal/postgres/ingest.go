package postgres

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/costexplorer/costexplorer"
)

// cellKey identifies a rollup cell by surrogate keys (0: no project/cluster).
type cellKey struct {
	month   costexplorer.Month
	org     int32
	project int32
	cluster int32
	service int32
}

// skuKey identifies a row of the skus table.
type skuKey struct {
	name    string
	service int32
	unit    string
}

// itemRow is a line item resolved to surrogate keys.
type itemRow struct {
	item    *costexplorer.LineItem
	org     int32
	project int32 // 0: none
	cluster int32 // 0: none
	sku     int32
	service int32
}

type projectRef struct{ id, org int32 }
type clusterRef struct{ id, project int32 }

// ingester resolves the dimensions of one batch inside its transaction, with
// a fixed number of round trips per batch whatever its size: every lookup and
// every insert of dimensions is one statement over arrays. Its maps cache
// surrogate keys for this transaction only.
type ingester struct {
	db  *DB
	ctx context.Context
	tx  pgx.Tx

	orgs     map[string]int32
	projects map[string]projectRef
	clusters map[string]clusterRef
	skus     map[skuKey]int32
	// ext maps surrogate keys back to 24-hex ids for the deltas.
	orgExt, projectExt, clusterExt map[int32]string

	changed bool // a dimension was created, renamed or relinked
}

func validationErr(format string, args ...any) error {
	return costexplorer.Errorf(costexplorer.ErrValidation, format, args...)
}

// IngestUsage stores a batch in one transaction (see
// [costexplorer.UsageStore]), with the same rules as internal/sqlite:
// dimensions are created or renamed; a project cannot move to another
// organization, nor a cluster to another project; items must reference
// dimensions that exist in the store or the batch, consistently, otherwise
// the error is ErrValidation and nothing changes. Line items go through COPY
// and are inserted in primary-key order; items already stored (or repeated in
// the batch) are skipped. The data
// version changes when items were inserted or a dimension was created,
// renamed or relinked, and only then.
func (db *DB) IngestUsage(ctx context.Context, b *costexplorer.UsageBatch) (costexplorer.IngestResult, error) {
	if err := ctx.Err(); err != nil {
		return costexplorer.IngestResult{}, err
	}
	if err := b.Validate(); err != nil {
		return costexplorer.IngestResult{}, err
	}
	var res costexplorer.IngestResult
	err := db.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		res = costexplorer.IngestResult{}
		if err := lockData(ctx, tx); err != nil {
			return err
		}
		in := &ingester{
			db: db, ctx: ctx, tx: tx,
			orgs: map[string]int32{}, projects: map[string]projectRef{}, clusters: map[string]clusterRef{},
			skus:   map[skuKey]int32{},
			orgExt: map[int32]string{}, projectExt: map[int32]string{}, clusterExt: map[int32]string{},
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
		cells, err := in.applyRollup(inserted)
		if err != nil {
			return err
		}
		res.Deltas = in.deltas(cells)
		res.DataVersion, err = in.finish(inserted)
		return err
	})
	if err != nil {
		return costexplorer.IngestResult{}, err
	}
	return res, nil
}

// lastByID returns the elements of s with distinct ids, each at the position
// of its first occurrence with the value of its last (as if applied one after
// the other).
func lastByID[T any](s []T, id func(*T) string) []T {
	pos := map[string]int{}
	var out []T
	for i := range s {
		k := id(&s[i])
		if j, ok := pos[k]; ok {
			out[j] = s[i]
			continue
		}
		pos[k] = len(out)
		out = append(out, s[i])
	}
	return out
}

// upsertDimensions creates or renames the batch's organizations, projects and
// clusters, in that order, so that each may refer to the ones before.
func (in *ingester) upsertDimensions(b *costexplorer.UsageBatch) error {
	ctx, tx := in.ctx, in.tx
	orgs := lastByID(b.Organizations, func(o *costexplorer.Organization) string { return o.ID })
	if len(orgs) > 0 {
		ids := make([]string, len(orgs))
		for i := range orgs {
			ids[i] = orgs[i].ID
		}
		names := map[string]string{}
		rows, err := tx.Query(ctx, "SELECT ext_id, id, name FROM organizations WHERE ext_id = ANY($1)", ids)
		if err != nil {
			return err
		}
		var ext, name string
		var id int32
		if _, err := pgx.ForEachRow(rows, []any{&ext, &id, &name}, func() error {
			in.orgs[ext], in.orgExt[id], names[ext] = id, ext, name
			return nil
		}); err != nil {
			return err
		}
		var newExt, newName, newLower []string
		var newACL []bool
		var newCreated []int64
		var renID []int32
		var renName, renLower []string
		for i := range orgs {
			o := &orgs[i]
			if id, ok := in.orgs[o.ID]; !ok {
				created := o.CreatedAt
				if created.IsZero() {
					created = in.db.now()
				}
				newExt, newName, newLower = append(newExt, o.ID), append(newName, o.Name), append(newLower, strings.ToLower(o.Name))
				newACL, newCreated = append(newACL, o.RequiresAccessList), append(newCreated, created.UnixMicro())
			} else if names[o.ID] != o.Name {
				renID, renName, renLower = append(renID, id), append(renName, o.Name), append(renLower, strings.ToLower(o.Name))
			}
		}
		if len(newExt) > 0 {
			rows, err := tx.Query(ctx, `INSERT INTO organizations (ext_id, name, name_lower, requires_access_list, created_at)
				SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::bigint[]) RETURNING ext_id, id`,
				newExt, newName, newLower, newACL, newCreated)
			if err != nil {
				return fmt.Errorf("insert organizations: %w", err)
			}
			if _, err := pgx.ForEachRow(rows, []any{&ext, &id}, func() error {
				in.orgs[ext], in.orgExt[id] = id, ext
				return nil
			}); err != nil {
				return fmt.Errorf("insert organizations: %w", err)
			}
			in.changed = true
		}
		if len(renID) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE organizations o SET name = u.name, name_lower = u.lower
				FROM unnest($1::int[], $2::text[], $3::text[]) AS u(id, name, lower) WHERE o.id = u.id`, renID, renName, renLower); err != nil {
				return fmt.Errorf("rename organizations: %w", err)
			}
			in.changed = true
		}
	}
	// Links after every organization exists, so a batch may carry a paying
	// organization and its linked ones in any order.
	for i := range orgs {
		o := &orgs[i]
		if o.PayingOrgID == "" {
			continue
		}
		var current string
		if err := tx.QueryRow(ctx, "SELECT COALESCE(p.ext_id, '') FROM organizations o LEFT JOIN organizations p ON p.id = o.paying_org_id WHERE o.ext_id = $1", o.ID).Scan(&current); err != nil {
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

	if err := in.upsertProjects(lastByID(b.Projects, func(p *costexplorer.Project) string { return p.ID })); err != nil {
		return err
	}
	return in.upsertClusters(lastByID(b.Clusters, func(c *costexplorer.Cluster) string { return c.ID }))
}

func (in *ingester) upsertProjects(projects []costexplorer.Project) error {
	if len(projects) == 0 {
		return nil
	}
	ctx, tx := in.ctx, in.tx
	var orgIDs, ids []string
	for _, p := range projects {
		orgIDs, ids = append(orgIDs, p.OrgID), append(ids, p.ID)
	}
	if err := in.loadOrgs(orgIDs); err != nil {
		return err
	}
	type stored struct {
		ref  projectRef
		name string
	}
	existing := map[string]stored{}
	rows, err := tx.Query(ctx, "SELECT ext_id, id, org_id, name FROM projects WHERE ext_id = ANY($1)", ids)
	if err != nil {
		return err
	}
	var ext, name string
	var id, org int32
	if _, err := pgx.ForEachRow(rows, []any{&ext, &id, &org, &name}, func() error {
		existing[ext] = stored{projectRef{id, org}, name}
		return nil
	}); err != nil {
		return err
	}
	var newExt, newName []string
	var newOrg, renID []int32
	var renName []string
	for _, p := range projects {
		org, ok := in.orgs[p.OrgID]
		if !ok {
			return validationErr("project %s: organization %s not found", p.ID, p.OrgID)
		}
		s, ok := existing[p.ID]
		switch {
		case !ok:
			newExt, newOrg, newName = append(newExt, p.ID), append(newOrg, org), append(newName, p.Name)
			continue
		case s.ref.org != org:
			return validationErr("project %s belongs to another organization than %s", p.ID, p.OrgID)
		case s.name != p.Name:
			renID, renName = append(renID, s.ref.id), append(renName, p.Name)
		}
		in.projects[p.ID], in.projectExt[s.ref.id] = s.ref, p.ID
	}
	if len(newExt) > 0 {
		rows, err := tx.Query(ctx, `INSERT INTO projects (ext_id, org_id, name)
			SELECT * FROM unnest($1::text[], $2::int[], $3::text[]) RETURNING ext_id, id, org_id`, newExt, newOrg, newName)
		if err != nil {
			return fmt.Errorf("insert projects: %w", err)
		}
		if _, err := pgx.ForEachRow(rows, []any{&ext, &id, &org}, func() error {
			in.projects[ext], in.projectExt[id] = projectRef{id, org}, ext
			return nil
		}); err != nil {
			return fmt.Errorf("insert projects: %w", err)
		}
		in.changed = true
	}
	if len(renID) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE projects p SET name = u.name FROM unnest($1::int[], $2::text[]) AS u(id, name) WHERE p.id = u.id`,
			renID, renName); err != nil {
			return fmt.Errorf("rename projects: %w", err)
		}
		in.changed = true
	}
	return nil
}

func (in *ingester) upsertClusters(clusters []costexplorer.Cluster) error {
	if len(clusters) == 0 {
		return nil
	}
	ctx, tx := in.ctx, in.tx
	var projectIDs, ids []string
	for _, c := range clusters {
		projectIDs, ids = append(projectIDs, c.ProjectID), append(ids, c.ID)
	}
	if err := in.loadProjects(projectIDs); err != nil {
		return err
	}
	type stored struct {
		ref                  clusterRef
		name, provider, tier string
	}
	existing := map[string]stored{}
	rows, err := tx.Query(ctx, "SELECT ext_id, id, project_id, name, provider, tier FROM clusters WHERE ext_id = ANY($1)", ids)
	if err != nil {
		return err
	}
	var ext, name, provider, tier string
	var id, project int32
	if _, err := pgx.ForEachRow(rows, []any{&ext, &id, &project, &name, &provider, &tier}, func() error {
		existing[ext] = stored{clusterRef{id, project}, name, provider, tier}
		return nil
	}); err != nil {
		return err
	}
	var newExt, newName, newProvider, newTier []string
	var newProject []int32
	var updID []int32
	var updName, updProvider, updTier []string
	for _, c := range clusters {
		proj, ok := in.projects[c.ProjectID]
		if !ok {
			return validationErr("cluster %s: project %s not found", c.ID, c.ProjectID)
		}
		s, ok := existing[c.ID]
		if !ok {
			newExt, newProject, newName = append(newExt, c.ID), append(newProject, proj.id), append(newName, c.Name)
			newProvider, newTier = append(newProvider, c.Provider), append(newTier, c.Tier)
			continue
		}
		if s.ref.project != proj.id {
			return validationErr("cluster %s belongs to another project than %s", c.ID, c.ProjectID)
		}
		// Provider and tier are descriptive: an empty value keeps the stored one.
		p, t := cmp.Or(c.Provider, s.provider), cmp.Or(c.Tier, s.tier)
		if s.name != c.Name || p != s.provider || t != s.tier {
			updID, updName, updProvider, updTier = append(updID, s.ref.id), append(updName, c.Name), append(updProvider, p), append(updTier, t)
		}
		in.clusters[c.ID], in.clusterExt[s.ref.id] = s.ref, c.ID
	}
	if len(newExt) > 0 {
		rows, err := tx.Query(ctx, `INSERT INTO clusters (ext_id, project_id, name, provider, tier)
			SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[]) RETURNING ext_id, id, project_id`,
			newExt, newProject, newName, newProvider, newTier)
		if err != nil {
			return fmt.Errorf("insert clusters: %w", err)
		}
		if _, err := pgx.ForEachRow(rows, []any{&ext, &id, &project}, func() error {
			in.clusters[ext], in.clusterExt[id] = clusterRef{id, project}, ext
			return nil
		}); err != nil {
			return fmt.Errorf("insert clusters: %w", err)
		}
		in.changed = true
	}
	if len(updID) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE clusters c SET name = u.name, provider = u.provider, tier = u.tier
			FROM unnest($1::int[], $2::text[], $3::text[], $4::text[]) AS u(id, name, provider, tier) WHERE c.id = u.id`,
			updID, updName, updProvider, updTier); err != nil {
			return fmt.Errorf("update clusters: %w", err)
		}
		in.changed = true
	}
	return nil
}

// missing returns the distinct non-empty ids for which has is false.
func missing(ids []string, has func(string) bool) []string {
	var out []string
	seen := map[string]bool{}
	for _, id := range ids {
		if id != "" && !seen[id] && !has(id) {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// loadOrgs caches the surrogate keys of the stored organizations among ids.
func (in *ingester) loadOrgs(ids []string) error {
	ids = missing(ids, func(s string) bool { _, ok := in.orgs[s]; return ok })
	if len(ids) == 0 {
		return nil
	}
	rows, err := in.tx.Query(in.ctx, "SELECT ext_id, id FROM organizations WHERE ext_id = ANY($1)", ids)
	if err != nil {
		return err
	}
	var ext string
	var id int32
	_, err = pgx.ForEachRow(rows, []any{&ext, &id}, func() error {
		in.orgs[ext], in.orgExt[id] = id, ext
		return nil
	})
	return err
}

// loadProjects caches the stored projects among ids.
func (in *ingester) loadProjects(ids []string) error {
	ids = missing(ids, func(s string) bool { _, ok := in.projects[s]; return ok })
	if len(ids) == 0 {
		return nil
	}
	rows, err := in.tx.Query(in.ctx, "SELECT ext_id, id, org_id FROM projects WHERE ext_id = ANY($1)", ids)
	if err != nil {
		return err
	}
	var ext string
	var id, org int32
	_, err = pgx.ForEachRow(rows, []any{&ext, &id, &org}, func() error {
		in.projects[ext], in.projectExt[id] = projectRef{id, org}, ext
		return nil
	})
	return err
}

// loadClusters caches the stored clusters among ids.
func (in *ingester) loadClusters(ids []string) error {
	ids = missing(ids, func(s string) bool { _, ok := in.clusters[s]; return ok })
	if len(ids) == 0 {
		return nil
	}
	rows, err := in.tx.Query(in.ctx, "SELECT ext_id, id, project_id FROM clusters WHERE ext_id = ANY($1)", ids)
	if err != nil {
		return err
	}
	var ext string
	var id, project int32
	_, err = pgx.ForEachRow(rows, []any{&ext, &id, &project}, func() error {
		in.clusters[ext], in.clusterExt[id] = clusterRef{id, project}, ext
		return nil
	})
	return err
}

// resolveItems maps every item to surrogate keys, checking that its
// dimensions exist and belong together; the first bad item, in batch order,
// names the error.
func (in *ingester) resolveItems(items []costexplorer.LineItem) ([]itemRow, error) {
	if len(items) == 0 {
		return nil, nil
	}
	var orgIDs, projectIDs, clusterIDs []string
	keys := map[skuKey]bool{}
	for i := range items {
		li := &items[i]
		orgIDs, projectIDs, clusterIDs = append(orgIDs, li.OrgID), append(projectIDs, li.ProjectID), append(clusterIDs, li.ClusterID)
	}
	if err := in.loadOrgs(orgIDs); err != nil {
		return nil, err
	}
	if err := in.loadProjects(projectIDs); err != nil {
		return nil, err
	}
	if err := in.loadClusters(clusterIDs); err != nil {
		return nil, err
	}
	rows := make([]itemRow, len(items))
	for i := range items {
		li := &items[i]
		r := itemRow{item: li}
		var ok bool
		if r.org, ok = in.orgs[li.OrgID]; !ok {
			return nil, validationErr("line item %s: organization %s not found", li.ID, li.OrgID)
		}
		if li.ProjectID != "" {
			p, ok := in.projects[li.ProjectID]
			if !ok {
				return nil, validationErr("line item %s: project %s not found", li.ID, li.ProjectID)
			}
			if p.org != r.org {
				return nil, validationErr("line item %s: project %s does not belong to organization %s", li.ID, li.ProjectID, li.OrgID)
			}
			r.project = p.id
		}
		if li.ClusterID != "" {
			c, ok := in.clusters[li.ClusterID]
			if !ok {
				return nil, validationErr("line item %s: cluster %s not found", li.ID, li.ClusterID)
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
		keys[skuKey{li.SKU, code, li.Unit}] = true
		rows[i] = r
	}
	if err := in.resolveSKUs(keys); err != nil {
		return nil, err
	}
	for i := range rows {
		li := rows[i].item
		rows[i].sku = in.skus[skuKey{li.SKU, rows[i].service, li.Unit}]
	}
	return rows, nil
}

// resolveSKUs creates the SKUs of keys that do not exist yet and caches the
// surrogate keys of all of them.
func (in *ingester) resolveSKUs(keys map[skuKey]bool) error {
	var names, units []string
	var services []int32
	for k := range keys {
		names, services, units = append(names, k.name), append(services, k.service), append(units, k.unit)
	}
	if _, err := in.tx.Exec(in.ctx, `INSERT INTO skus (name, service, unit)
		SELECT * FROM unnest($1::text[], $2::int[], $3::text[]) ON CONFLICT (name, service, unit) DO NOTHING`, names, services, units); err != nil {
		return fmt.Errorf("insert skus: %w", err)
	}
	rows, err := in.tx.Query(in.ctx, `SELECT s.id, s.name, s.service, s.unit FROM skus s
		JOIN unnest($1::text[], $2::int[], $3::text[]) AS k(name, service, unit)
		  ON s.name = k.name AND s.service = k.service AND s.unit = k.unit`, names, services, units)
	if err != nil {
		return fmt.Errorf("find skus: %w", err)
	}
	var id int32
	var k skuKey
	if _, err := pgx.ForEachRow(rows, []any{&id, &k.name, &k.service, &k.unit}, func() error {
		in.skus[k] = id
		return nil
	}); err != nil {
		return fmt.Errorf("find skus: %w", err)
	}
	if len(in.skus) < len(keys) {
		return errors.New("find skus: some SKUs were neither inserted nor found")
	}
	return nil
}

// stagingDDL creates the session's staging table once per connection. Its
// rows vanish at the end of each transaction (also on rollback), so a pooled
// connection never carries one batch's items into the next.
const stagingDDL = `CREATE TEMP TABLE IF NOT EXISTS staging_items (
	org_id INTEGER, project_id INTEGER, cluster_id INTEGER, sku_id INTEGER, day INTEGER,
	id BYTEA, quantity DOUBLE PRECISION, unit_price_nanos BIGINT, cents BIGINT
) ON COMMIT DELETE ROWS`

var itemColumns = []string{"org_id", "project_id", "cluster_id", "sku_id", "day", "id", "quantity", "unit_price_nanos", "cents"}

// compareItemKeys orders rows as the primary key of line_items does:
// (org_id, project_id, cluster_id, day, id), ids byte-wise as BYTEA
// compares.
func compareItemKeys(a, b itemRow) int {
	return cmp.Or(cmp.Compare(a.org, b.org), cmp.Compare(a.project, b.project), cmp.Compare(a.cluster, b.cluster),
		cmp.Compare(a.item.Date, b.item.Date), bytes.Compare(a.item.ID[:], b.item.ID[:]))
}

// insertItems streams the rows through COPY into the staging table, moves
// those not stored yet into line_items, and returns them. An id repeated
// within the batch counts once (its first occurrence) and is dropped before
// COPY, so each id returned names exactly one row. Every other key column is
// fixed by the id (it names one charge of one resource on one day), so a
// conflict on the whole primary key is a conflict on the id: re-ingesting
// stays a no-op.
func (in *ingester) insertItems(rows []itemRow) ([]itemRow, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	first := make(map[costexplorer.LineItemID]int, len(rows))
	unique := make([]itemRow, 0, len(rows))
	for i := range rows {
		if _, ok := first[rows[i].item.ID]; !ok {
			first[rows[i].item.ID] = len(unique)
			unique = append(unique, rows[i])
		}
	}
	// Key order makes the primary-key inserts an ordered merge, each b-tree
	// leaf visited once per batch, and the heap rows follow the same order.
	slices.SortFunc(unique, compareItemKeys)
	for i := range unique {
		first[unique[i].item.ID] = i
	}

	if _, err := in.tx.Exec(in.ctx, stagingDDL); err != nil {
		return nil, fmt.Errorf("staging table: %w", err)
	}
	if _, err := in.tx.CopyFrom(in.ctx, pgx.Identifier{"staging_items"}, itemColumns, &itemSource{rows: unique, i: -1}); err != nil {
		return nil, fmt.Errorf("copy line items: %w", err)
	}
	// Most batches are new data, and a plain INSERT moves them a third faster
	// than ON CONFLICT, whose speculative insertion costs a WAL record and a
	// buffer lock per row (probing the key first costs as much again). So the
	// plain INSERT is tried under a savepoint; when the primary key refuses a
	// row, stored already, the savepoint is rolled back and ON CONFLICT skips
	// what is stored. Rows go in key order, so a batch that is all stored (a
	// re-import) fails at its first row. Ingests are serialised (lockData), so
	// nothing else inserts in between.
	sp, err := in.tx.Begin(in.ctx)
	if err != nil {
		return nil, fmt.Errorf("insert line items: %w", err)
	}
	inserted, err := in.moveItems(sp, unique, first, "")
	if err == nil {
		if err := sp.Commit(in.ctx); err != nil {
			return nil, fmt.Errorf("insert line items: %w", err)
		}
		return inserted, nil
	}
	if pe := (*pgconn.PgError)(nil); !errors.As(err, &pe) || pe.Code != "23505" {
		return nil, err
	}
	if err := sp.Rollback(in.ctx); err != nil {
		return nil, fmt.Errorf("insert line items: %w", err)
	}
	return in.moveItems(in.tx, unique, first, " ON CONFLICT (org_id, project_id, cluster_id, day, id) DO NOTHING")
}

// moveItems inserts the staged rows into line_items in key order, with the
// conflict clause given, and returns those inserted.
func (in *ingester) moveItems(tx pgx.Tx, unique []itemRow, first map[costexplorer.LineItemID]int, conflict string) ([]itemRow, error) {
	res, err := tx.Query(in.ctx, `INSERT INTO line_items (org_id, project_id, cluster_id, sku_id, day, id, quantity, unit_price_nanos, cents)
		SELECT org_id, project_id, cluster_id, sku_id, day, id, quantity, unit_price_nanos, cents FROM staging_items
		ORDER BY org_id, project_id, cluster_id, day, id`+conflict+" RETURNING id")
	if err != nil {
		return nil, fmt.Errorf("insert line items: %w", err)
	}
	inserted := make([]itemRow, 0, len(unique))
	var raw []byte
	if _, err := pgx.ForEachRow(res, []any{&raw}, func() error {
		var id costexplorer.LineItemID
		copy(id[:], raw)
		i, ok := first[id]
		if !ok || len(raw) != len(id) {
			return fmt.Errorf("unexpected id %x returned", raw)
		}
		inserted = append(inserted, unique[i])
		return nil
	}); err != nil {
		return nil, fmt.Errorf("insert line items: %w", err)
	}
	return inserted, nil
}

// itemSource feeds COPY from resolved rows, reusing one value slice (pgx
// encodes each row before asking for the next).
type itemSource struct {
	rows []itemRow
	i    int
	vals [9]any
}

func (s *itemSource) Next() bool { s.i++; return s.i < len(s.rows) }
func (s *itemSource) Err() error { return nil }
func (s *itemSource) Values() ([]any, error) {
	r := &s.rows[s.i]
	li := r.item
	s.vals = [9]any{r.org, r.project, r.cluster, r.sku, int32(li.Date),
		li.ID[:], li.Quantity, li.UnitPriceNanos, int64(li.Amount)}
	return s.vals[:], nil
}

// applyRollup adds the inserted items' amounts to the rollup, cell by cell,
// in one upsert, and returns the cells it added to.
func (in *ingester) applyRollup(inserted []itemRow) (map[cellKey]costexplorer.Cents, error) {
	cells := map[cellKey]costexplorer.Cents{}
	for i := range inserted {
		r := &inserted[i]
		cells[cellKey{r.item.Date.Month(), r.org, r.project, r.cluster, r.service}] += r.item.Amount
	}
	if len(cells) == 0 {
		return cells, nil
	}
	keys := sortedCells(cells)
	n := len(keys)
	months, orgs, projects, clusters, services := make([]int32, n), make([]int32, n), make([]int32, n), make([]int32, n), make([]int32, n)
	cents := make([]int64, n)
	for i, k := range keys {
		months[i], orgs[i], projects[i], clusters[i], services[i] = int32(k.month), k.org, k.project, k.cluster, k.service
		cents[i] = int64(cells[k])
	}
	if _, err := in.tx.Exec(in.ctx, `INSERT INTO rollup (month, org_id, project_id, cluster_id, service, cents)
		SELECT * FROM unnest($1::int[], $2::int[], $3::int[], $4::int[], $5::int[], $6::bigint[])
		ON CONFLICT (month, org_id, project_id, cluster_id, service) DO UPDATE SET cents = rollup.cents + excluded.cents`,
		months, orgs, projects, clusters, services, cents); err != nil {
		return nil, fmt.Errorf("update rollup: %w", err)
	}
	return cells, nil
}

func sortedCells(cells map[cellKey]costexplorer.Cents) []cellKey {
	keys := make([]cellKey, 0, len(cells))
	for k := range cells {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareCells)
	return keys
}

func compareCells(a, b cellKey) int {
	return cmp.Or(cmp.Compare(a.month, b.month), cmp.Compare(a.org, b.org), cmp.Compare(a.project, b.project),
		cmp.Compare(a.cluster, b.cluster), cmp.Compare(a.service, b.service))
}

// deltas returns the cells as rollup rows with 24-hex ids, in key order.
func (in *ingester) deltas(cells map[cellKey]costexplorer.Cents) []costexplorer.RollupRow {
	keys := sortedCells(cells)
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
		err := in.tx.QueryRow(in.ctx, "SELECT data_version FROM usage_state WHERE id = 1").Scan(&v)
		return v, err
	}
	var total costexplorer.Cents
	lo, hi := inserted[0].item.Date, inserted[0].item.Date
	for i := range inserted {
		li := inserted[i].item
		total += li.Amount
		lo, hi = min(lo, li.Date), max(hi, li.Date)
	}
	err := in.tx.QueryRow(in.ctx, `UPDATE usage_state SET
		data_version = data_version + 1,
		line_items   = line_items + $1,
		total_cents  = total_cents + $2,
		first_day    = LEAST(COALESCE(first_day, $3), $3),
		last_day     = GREATEST(COALESCE(last_day, $4), $4)
		WHERE id = 1 RETURNING data_version`,
		int64(len(inserted)), int64(total), int32(lo), int32(hi)).Scan(&v)
	return v, err
}
