package sqlstore

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/costexplorer/costexplorer"
)

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

// storedByID reads the stored dimensions among ids, by id: query selects
// ext_id first and ends in "WHERE ext_id", and scan reads a row's ext_id into
// ext and its other columns into s.
func storedByID[S any](t *ingestTx, query string, ids []string, scan func(r Row, ext *string, s *S) error) (map[string]S, error) {
	stored := map[string]S{}
	err := t.selectIn(query, ids, func(r Row) error {
		var ext string
		var s S
		if err := scan(r, &ext, &s); err != nil {
			return err
		}
		stored[ext] = s
		return nil
	})
	return stored, err
}

// insertAdded inserts added, the dimensions an upsert did not find stored
// (none: nothing to do), into the columns cols ("table (a, b)"), a
// statement per chunk, and marks the ingest as a change; row appends the
// values of one to args. The statement returns returning ("ext_id, id"),
// which scan reads row by row. what names the dimensions in an error.
func insertAdded[T any](t *ingestTx, what string, added []T, cols string, width int, row func(v T, args []any) []any, returning string, scan func(Row) error) error {
	if len(added) == 0 {
		return nil
	}
	t.changed = true
	args := make([]any, 0, min(len(added), chunk)*width)
	err := eachChunk(len(added), func(start, end int) error {
		args = args[:0]
		for _, v := range added[start:end] {
			args = row(v, args)
		}
		return Each(t.ctx, t.q, "INSERT INTO "+cols+" VALUES "+values(end-start, width)+" RETURNING "+returning, scan, args...)
	})
	if err != nil {
		return fmt.Errorf("insert %s: %w", what, err)
	}
	return nil
}

// upsertDimensions creates or renames the batch's organizations, projects and
// clusters, in that order, so that each may refer to the ones before. A
// dimension repeated in the batch counts once, with its last value. Stored
// rows are read and new ones inserted a chunk at a time; renames, rare, go
// one at a time.
func (t *ingestTx) upsertDimensions(b *costexplorer.UsageBatch) error {
	orgs := lastByID(b.Organizations, func(o *costexplorer.Organization) string { return o.ID })
	if err := t.upsertOrgs(orgs); err != nil {
		return err
	}
	// Links after every organization exists, so a batch may carry a paying
	// organization and its linked ones in any order.
	for i := range orgs {
		o := &orgs[i]
		if o.PayingOrgID == "" {
			continue
		}
		var current string
		if err := t.q.QueryRow(t.ctx, "SELECT COALESCE(p.ext_id, '') FROM organizations o LEFT JOIN organizations p ON p.id = o.paying_org_id WHERE o.ext_id = ?", o.ID).Scan(&current); err != nil {
			return err
		}
		if current == o.PayingOrgID {
			continue
		}
		if err := LinkOrg(t.ctx, t.s.d, t.q, o.PayingOrgID, o.ID); err != nil {
			if costexplorer.IsNotFound(err) {
				return validationErr("organization %s: paying organization %s not found", o.ID, o.PayingOrgID)
			}
			return err
		}
		t.changed = true
	}
	if err := t.upsertProjects(lastByID(b.Projects, func(p *costexplorer.Project) string { return p.ID })); err != nil {
		return err
	}
	return t.upsertClusters(lastByID(b.Clusters, func(c *costexplorer.Cluster) string { return c.ID }))
}

func (t *ingestTx) upsertOrgs(orgs []costexplorer.Organization) error {
	if len(orgs) == 0 {
		return nil
	}
	ids := make([]string, len(orgs))
	for i := range orgs {
		ids[i] = orgs[i].ID
	}
	names, err := storedByID(t, "SELECT ext_id, id, name FROM organizations WHERE ext_id", ids, func(r Row, ext, name *string) error {
		var id int64
		if err := r.Scan(ext, &id, name); err != nil {
			return err
		}
		t.PutOrg(*ext, id)
		return nil
	})
	if err != nil {
		return err
	}
	var added []*costexplorer.Organization
	for i := range orgs {
		o := &orgs[i]
		id, ok := t.Orgs[o.ID]
		switch {
		case !ok:
			added = append(added, o)
		case names[o.ID] != o.Name:
			if _, err := t.q.Exec(t.ctx, "UPDATE organizations SET name = ?, name_lower = ? WHERE id = ?", o.Name, strings.ToLower(o.Name), id); err != nil {
				return fmt.Errorf("rename organization %s: %w", o.ID, err)
			}
			t.changed = true
		}
	}
	return insertAdded(t, "organizations", added, "organizations (ext_id, name, name_lower, requires_access_list, created_at)", 5, func(o *costexplorer.Organization, args []any) []any {
		created := o.CreatedAt
		if created.IsZero() {
			created = t.s.now()
		}
		return append(args, o.ID, o.Name, strings.ToLower(o.Name), t.s.d.Bool(o.RequiresAccessList), created.UnixMicro())
	}, "ext_id, id", orgKeys(&t.Keys))
}

func (t *ingestTx) upsertProjects(projects []costexplorer.Project) error {
	if len(projects) == 0 {
		return nil
	}
	orgIDs, ids := make([]string, len(projects)), make([]string, len(projects))
	for i, p := range projects {
		orgIDs[i], ids[i] = p.OrgID, p.ID
	}
	if err := t.Prefetch(orgIDs, nil); err != nil {
		return err
	}
	type stored struct {
		ref  ProjectRef
		name string
	}
	existing, err := storedByID(t, "SELECT ext_id, id, org_id, name FROM projects WHERE ext_id", ids, func(r Row, ext *string, s *stored) error {
		return r.Scan(ext, &s.ref.ID, &s.ref.Org, &s.name)
	})
	if err != nil {
		return err
	}
	type newProject struct {
		*costexplorer.Project
		org int64
	}
	var added []newProject
	for i := range projects {
		p := &projects[i]
		org, err := t.Org(p.OrgID)
		if err != nil {
			return inBatch("project "+p.ID, err)
		}
		s, ok := existing[p.ID]
		switch {
		case !ok:
			added = append(added, newProject{p, org})
			continue
		case s.ref.Org != org:
			return validationErr("project %s belongs to another organization than %s", p.ID, p.OrgID)
		case s.name != p.Name:
			if _, err := t.q.Exec(t.ctx, "UPDATE projects SET name = ? WHERE id = ?", p.Name, s.ref.ID); err != nil {
				return fmt.Errorf("rename project %s: %w", p.ID, err)
			}
			t.changed = true
		}
		t.PutProject(p.ID, s.ref)
	}
	return insertAdded(t, "projects", added, "projects (ext_id, org_id, name)", 3, func(p newProject, args []any) []any {
		return append(args, p.ID, p.org, p.Name)
	}, "ext_id, id, org_id", projectKeys(&t.Keys))
}

func (t *ingestTx) upsertClusters(clusters []costexplorer.Cluster) error {
	if len(clusters) == 0 {
		return nil
	}
	projectIDs, ids := make([]string, len(clusters)), make([]string, len(clusters))
	for i, c := range clusters {
		projectIDs[i], ids[i] = c.ProjectID, c.ID
	}
	if err := t.Prefetch(nil, projectIDs); err != nil {
		return err
	}
	type stored struct {
		ref                  ClusterRef
		name, provider, tier string
	}
	existing, err := storedByID(t, "SELECT ext_id, id, project_id, name, provider, tier FROM clusters WHERE ext_id", ids, func(r Row, ext *string, s *stored) error {
		return r.Scan(ext, &s.ref.ID, &s.ref.Project, &s.name, &s.provider, &s.tier)
	})
	if err != nil {
		return err
	}
	type newCluster struct {
		*costexplorer.Cluster
		project int64
	}
	var added []newCluster
	for i := range clusters {
		c := &clusters[i]
		proj, err := t.Project(c.ProjectID)
		if err != nil {
			return inBatch("cluster "+c.ID, err)
		}
		s, ok := existing[c.ID]
		if !ok {
			added = append(added, newCluster{c, proj.ID})
			continue
		}
		if s.ref.Project != proj.ID {
			return validationErr("cluster %s belongs to another project than %s", c.ID, c.ProjectID)
		}
		// Provider and tier are descriptive: an empty value keeps the stored one.
		provider, tier := cmp.Or(c.Provider, s.provider), cmp.Or(c.Tier, s.tier)
		if s.name != c.Name || provider != s.provider || tier != s.tier {
			if _, err := t.q.Exec(t.ctx, "UPDATE clusters SET name = ?, provider = ?, tier = ? WHERE id = ?", c.Name, provider, tier, s.ref.ID); err != nil {
				return fmt.Errorf("update cluster %s: %w", c.ID, err)
			}
			t.changed = true
		}
		t.PutCluster(c.ID, s.ref)
	}
	return insertAdded(t, "clusters", added, "clusters (ext_id, project_id, name, provider, tier)", 5, func(c newCluster, args []any) []any {
		return append(args, c.ID, c.project, c.Name, c.Provider, c.Tier)
	}, "ext_id, id, project_id", clusterKeys(&t.Keys))
}
