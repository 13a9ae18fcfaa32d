package engine

import (
	"context"

	"github.com/costexplorer/costexplorer"
)

// IngestUsage is a stand-in for the SQLite store while internal/sqlite is
// being written: dimensions upserted, duplicate item ids skipped, the rollup
// summed by (month, org, project, cluster, service).
func (m *memSource) IngestUsage(_ context.Context, b *costexplorer.UsageBatch) (costexplorer.IngestResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range b.Organizations {
		o := b.Organizations[i]
		m.orgs = upsert(m.orgs, &o, func(x *costexplorer.Organization) string { return x.ID })
	}
	for i := range b.Projects {
		p := b.Projects[i]
		m.projects = upsert(m.projects, &p, func(x *costexplorer.Project) string { return x.ID })
	}
	for i := range b.Clusters {
		c := b.Clusters[i]
		m.clusters = upsert(m.clusters, &c, func(x *costexplorer.Cluster) string { return x.ID })
	}
	if m.seen == nil {
		m.seen = map[costexplorer.LineItemID]bool{}
	}
	var res costexplorer.IngestResult
	rollup := append([]costexplorer.RollupRow(nil), m.rollup...)
	for _, it := range b.Items {
		if m.seen[it.ID] {
			res.Duplicates++
			continue
		}
		m.seen[it.ID] = true
		res.Inserted++
		found := false
		for j := range rollup {
			r := &rollup[j]
			if r.Month == it.Month() && r.OrgID == it.OrgID && r.ProjectID == it.ProjectID && r.ClusterID == it.ClusterID && r.Service == it.Service {
				r.Amount += it.Amount
				found = true
				break
			}
		}
		if !found {
			rollup = append(rollup, costexplorer.RollupRow{Month: it.Month(), OrgID: it.OrgID, ProjectID: it.ProjectID, ClusterID: it.ClusterID, Service: it.Service, Amount: it.Amount})
		}
	}
	m.rollup = rollup
	m.version++
	res.DataVersion = m.version
	return res, nil
}

func upsert[T any](list []*T, v *T, id func(*T) string) []*T {
	for i, x := range list {
		if id(x) == id(v) {
			list[i] = v
			return list
		}
	}
	return append(list, v)
}
