package web

import (
	"cmp"
	"context"
	"slices"
	"sync"

	"github.com/costexplorer/costexplorer"
)

// dims is a snapshot of the projects and clusters of every organization,
// grouped for the filter lists. It is immutable once built.
type dims struct {
	version  int64
	projects map[string][]*costexplorer.Project // by organization id, by name
	clusters map[string][]*costexplorer.Cluster // by project id, by name
}

// dimCache keeps the latest dims of this replica. It is a cache, keyed by the
// store's data version (which changes on every ingest, on any replica), not
// state another replica needs.
type dimCache struct {
	mu  sync.Mutex
	cur *dims
}

// dimensions returns the projects and clusters as of the store's current
// data version, reading them again only when the version has changed.
func (s *Server) dimensions(ctx context.Context) (*dims, error) {
	v, err := s.store.DataVersion(ctx)
	if err != nil {
		return nil, unavailable("data version", err)
	}
	s.dims.mu.Lock()
	cur := s.dims.cur
	s.dims.mu.Unlock()
	if cur != nil && cur.version == v {
		return cur, nil
	}
	projects, err := s.store.Projects(ctx)
	if err != nil {
		return nil, unavailable("list projects", err)
	}
	clusters, err := s.store.Clusters(ctx)
	if err != nil {
		return nil, unavailable("list clusters", err)
	}
	d := &dims{version: v, projects: map[string][]*costexplorer.Project{}, clusters: map[string][]*costexplorer.Cluster{}}
	for _, p := range projects {
		d.projects[p.OrgID] = append(d.projects[p.OrgID], p)
	}
	for _, c := range clusters {
		d.clusters[c.ProjectID] = append(d.clusters[c.ProjectID], c)
	}
	for _, ps := range d.projects {
		slices.SortFunc(ps, func(a, b *costexplorer.Project) int {
			return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
		})
	}
	for _, cs := range d.clusters {
		slices.SortFunc(cs, func(a, b *costexplorer.Cluster) int {
			return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
		})
	}
	s.dims.mu.Lock()
	if s.dims.cur == nil || s.dims.cur.version <= v {
		s.dims.cur = d
	}
	s.dims.mu.Unlock()
	return d, nil
}

// scope is what a signed-in organization may filter on: itself and, when it
// pays for others, its linked organizations (DESIGN §1.4), with their
// projects and clusters.
type scope struct {
	orgs     []*costexplorer.Organization // the principal's own first, then linked by name
	projects []*costexplorer.Project      // by organization, then name
	clusters []*costexplorer.Cluster      // by project, then name

	org     map[string]*costexplorer.Organization
	project map[string]*costexplorer.Project
	cluster map[string]*costexplorer.Cluster
}

// loadScope returns the scope of org.
func (s *Server) loadScope(ctx context.Context, org *costexplorer.Organization) (*scope, error) {
	linked, err := s.store.LinkedOrganizations(ctx, org.ID)
	if err != nil {
		return nil, unavailable("list linked organizations", err)
	}
	sc := &scope{
		orgs:    []*costexplorer.Organization{org},
		org:     map[string]*costexplorer.Organization{org.ID: org},
		project: map[string]*costexplorer.Project{},
		cluster: map[string]*costexplorer.Cluster{},
	}
	var others []*costexplorer.Organization
	for _, id := range linked {
		o, err := s.store.Organization(ctx, id)
		if costexplorer.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, unavailable("look up linked organization", err)
		}
		others = append(others, o)
		sc.org[o.ID] = o
	}
	slices.SortFunc(others, func(a, b *costexplorer.Organization) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	sc.orgs = append(sc.orgs, others...)
	d, err := s.dimensions(ctx)
	if err != nil {
		return nil, err
	}
	for _, o := range sc.orgs {
		for _, p := range d.projects[o.ID] {
			sc.projects = append(sc.projects, p)
			sc.project[p.ID] = p
			for _, c := range d.clusters[p.ID] {
				sc.clusters = append(sc.clusters, c)
				sc.cluster[c.ID] = c
			}
		}
	}
	return sc, nil
}
