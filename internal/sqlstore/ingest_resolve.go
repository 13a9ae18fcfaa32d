package sqlstore

import (
	"errors"
	"fmt"

	"github.com/costexplorer/costexplorer"
)

// Finder reads stored dimension rows for a [Resolver], inside the ingest's
// transaction. The Find methods report found false, and no error, for an id
// that is not stored.
type Finder interface {
	FindOrg(ext string) (id int64, found bool, err error)
	FindProject(ext string) (ref ProjectRef, found bool, err error)
	FindCluster(ext string) (ref ClusterRef, found bool, err error)
	// ResolveSKUs creates the SKUs among keys that do not exist yet and puts
	// the surrogate keys of all of them into into.
	ResolveSKUs(keys []SKUKey, into map[SKUKey]int64) error
}

// Resolver maps 24-hex ids and SKUs to surrogate keys for one ingest
// transaction. It looks in its own Keys first, then in the committed Cache
// (if any), and asks Find last; every key it finds joins its own Keys, which
// the caller merges into Cache once the transaction commits.
type Resolver struct {
	Keys
	Cache *KeyCache // nil: none
	Find  Finder
	// ServiceCodes maps services to their codes (the services table).
	ServiceCodes map[costexplorer.Service]int64
}

// NewResolver returns a resolver with empty Keys.
func NewResolver(cache *KeyCache, find Finder, serviceCodes map[costexplorer.Service]int64) *Resolver {
	return &Resolver{Keys: NewKeys(), Cache: cache, Find: find, ServiceCodes: serviceCodes}
}

// ValidationErr returns an ErrValidation error with the detail given.
func ValidationErr(format string, args ...any) error {
	return costexplorer.Errorf(costexplorer.ErrValidation, format, args...)
}

// errDetail returns the detail of a domain error, or the error's text.
func errDetail(err error) string {
	var e *costexplorer.Error
	if errors.As(err, &e) {
		return e.Detail
	}
	return err.Error()
}

// In returns an ErrNotFound error as an ErrValidation error about what (an
// item or dimension of the batch, such as "project <id>"), and any other
// error as it is.
func In(what string, err error) error {
	if costexplorer.IsNotFound(err) {
		return ValidationErr("%s: %s", what, errDetail(err))
	}
	return err
}

func orgsOf(k *Keys) map[string]int64          { return k.Orgs }
func projectsOf(k *Keys) map[string]ProjectRef { return k.Projects }
func clustersOf(k *Keys) map[string]ClusterRef { return k.Clusters }
func skusOf(k *Keys) map[SKUKey]int64          { return k.SKUs }

// cached returns the key of ext from the transaction's keys (local) or else
// from the cache, which it then copies into the transaction's with put.
func cached[V any](local map[string]V, c *KeyCache, of func(*Keys) map[string]V, ext string, put func(string, V)) (V, bool) {
	if v, ok := local[ext]; ok {
		return v, true
	}
	v, ok := cacheLookup(c, of, ext)
	if ok {
		put(ext, v)
	}
	return v, ok
}

// Org resolves an organization id, or returns ErrNotFound.
func (r *Resolver) Org(ext string) (int64, error) {
	if v, ok := r.Orgs[ext]; ok {
		return v, nil
	}
	if v, ok := cached(r.Orgs, r.Cache, orgsOf, ext, r.PutOrg); ok {
		return v, nil
	}
	v, ok, err := r.Find.FindOrg(ext)
	if err != nil {
		return v, err
	}
	if !ok {
		return v, notFound("organization %s not found", ext)
	}
	r.PutOrg(ext, v)
	return v, nil
}

// Project resolves a project id, or returns ErrNotFound.
func (r *Resolver) Project(ext string) (ProjectRef, error) {
	if v, ok := r.Projects[ext]; ok {
		return v, nil
	}
	if v, ok := cached(r.Projects, r.Cache, projectsOf, ext, r.PutProject); ok {
		return v, nil
	}
	v, ok, err := r.Find.FindProject(ext)
	if err != nil {
		return v, err
	}
	if !ok {
		return v, notFound("project %s not found", ext)
	}
	r.PutProject(ext, v)
	return v, nil
}

// Cluster resolves a cluster id, or returns ErrNotFound.
func (r *Resolver) Cluster(ext string) (ClusterRef, error) {
	if v, ok := r.Clusters[ext]; ok {
		return v, nil
	}
	if v, ok := cached(r.Clusters, r.Cache, clustersOf, ext, r.PutCluster); ok {
		return v, nil
	}
	v, ok, err := r.Find.FindCluster(ext)
	if err != nil {
		return v, err
	}
	if !ok {
		return v, notFound("cluster %s not found", ext)
	}
	r.PutCluster(ext, v)
	return v, nil
}

// ResolveItems maps every item to surrogate keys, checking that its
// dimensions exist and belong together (the project of the item's
// organization, the cluster of the item's project); the first bad item, in
// batch order, names the ErrValidation error. SKUs not known yet are created
// through Find, all in one call.
func (r *Resolver) ResolveItems(items []costexplorer.LineItem) ([]ItemRow, error) {
	if len(items) == 0 {
		return nil, nil
	}
	rows := make([]ItemRow, len(items))
	var missing map[SKUKey]bool
	for i := range items {
		li := &items[i]
		row := ItemRow{Item: li}
		var err error
		if row.Org, err = r.Org(li.OrgID); err != nil {
			return nil, In("line item "+li.ID.String(), err)
		}
		if li.ProjectID != "" {
			p, err := r.Project(li.ProjectID)
			if err != nil {
				return nil, In("line item "+li.ID.String(), err)
			}
			if p.Org != row.Org {
				return nil, ValidationErr("line item %s: project %s does not belong to organization %s", li.ID, li.ProjectID, li.OrgID)
			}
			row.Project = p.ID
		}
		if li.ClusterID != "" {
			c, err := r.Cluster(li.ClusterID)
			if err != nil {
				return nil, In("line item "+li.ID.String(), err)
			}
			if c.Project != row.Project {
				return nil, ValidationErr("line item %s: cluster %s does not belong to project %s", li.ID, li.ClusterID, li.ProjectID)
			}
			row.Cluster = c.ID
		}
		svc, _ := costexplorer.ParseService(string(li.Service)) // validated
		code, ok := r.ServiceCodes[svc]
		if !ok {
			return nil, fmt.Errorf("service %q has no code", svc)
		}
		row.Service = code
		k := SKUKey{li.SKU, code, li.Unit}
		if row.SKU, ok = r.SKUs[k]; !ok {
			if row.SKU, ok = cacheLookup(r.Cache, skusOf, k); ok {
				r.SKUs[k] = row.SKU
			} else {
				if missing == nil {
					missing = map[SKUKey]bool{}
				}
				missing[k] = true
			}
		}
		rows[i] = row
	}
	if len(missing) == 0 {
		return rows, nil
	}
	if err := r.resolveSKUs(missing); err != nil {
		return nil, err
	}
	for i := range rows {
		if rows[i].SKU == 0 {
			li := rows[i].Item
			rows[i].SKU = r.SKUs[SKUKey{li.SKU, rows[i].Service, li.Unit}]
		}
	}
	return rows, nil
}

func (r *Resolver) resolveSKUs(missing map[SKUKey]bool) error {
	keys := make([]SKUKey, 0, len(missing))
	for k := range missing {
		keys = append(keys, k)
	}
	if err := r.Find.ResolveSKUs(keys, r.SKUs); err != nil {
		return err
	}
	for _, k := range keys {
		if r.SKUs[k] == 0 {
			return fmt.Errorf("find skus: SKU %q was neither inserted nor found", k.Name)
		}
	}
	return nil
}
