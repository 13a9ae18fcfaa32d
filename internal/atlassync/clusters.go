package atlassync

import (
	"context"
	"errors"
	"net/http"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/client"
)

// clusterIDs maps a cluster's project id and name to the source's id of
// it. An invoice names a cluster only by project and name; the cost
// explorer reports its id, and the store should answer with the same one.
type clusterIDs map[clusterKey]string

type clusterKey struct{ project, name string }

// lookup returns the id of the named cluster, or "" (the importer then
// derives one) when the cost explorer did not report it.
func (m clusterIDs) lookup(projectID, name string) string {
	return m[clusterKey{projectID, name}]
}

// clusterIDs asks the source's cost explorer, once for orgID (whose answer
// covers its linked organizations), for the clusters of the months of the
// planned invoices, as far back as the cost explorer reaches (18 months).
// A query the source refuses (it may not serve the cost explorer, or not so
// far back) leaves the ids to be derived; a failure to reach it is an error.
func (s *syncer) clusterIDs(ctx context.Context, orgID string, units []*unit) (clusterIDs, error) {
	var first, last costexplorer.Month
	for _, u := range units {
		for _, p := range u.invoices {
			if m := p.plan.Month; first == 0 || m < first {
				first = m
			}
			last = max(last, p.plan.Month)
		}
	}
	if first == 0 {
		return nil, nil
	}
	first = max(first, last-costexplorer.DefaultHistoryMonths+1)
	c := s.cfg.Client
	req := client.QueryRequest{Start: first, End: last + 1}
	var u *client.Usage
	err := s.retry(ctx, "cost explorer of "+orgID, func() error {
		tok, err := c.CreateQuery(ctx, orgID, req)
		if err == nil {
			u, err = c.WaitForUsage(ctx, orgID, tok)
		}
		return err
	})
	var ae *client.APIError
	if errors.As(err, &ae) && ae.StatusCode != http.StatusUnauthorized && ae.StatusCode < 500 {
		s.cfg.Logger.Warn("sync: the cost explorer does not name the clusters: their ids are derived", "org", orgID, "err", err)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m := clusterIDs{}
	for _, r := range u.Rows {
		if r.ClusterID == "" {
			continue
		}
		k := clusterKey{r.ProjectID, r.ClusterName}
		if _, ok := m[k]; !ok { // a name used twice in a project: the first id
			m[k] = r.ClusterID
		}
	}
	return m, nil
}
