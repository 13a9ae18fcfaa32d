package sqlstore

import (
	"errors"
	"fmt"

	"github.com/costexplorer/costexplorer"
)

// Finder reads stored dimension rows for a [Resolver], inside the ingest's
// transaction.
type Finder interface {
	// Load puts into keys the keys of the stored organizations, projects
	// and clusters among the ids given (each list distinct); ids not stored
	// are left out.
	Load(orgs, projects, clusters []string, keys *Keys) error
	// ResolveSKUs creates the SKUs among keys that do not exist yet and puts
	// the surrogate keys of all of them into into.
	ResolveSKUs(keys []SKUKey, into map[SKUKey]int64) error
}

// Resolver maps 24-hex ids and SKUs to surrogate keys for one ingest
// transaction. It looks in its own Keys first, then in the committed Cache
// (if any), and asks Find last, for all the ids it lacks at once; every key
// it finds joins its own Keys, which the caller merges into Cache once the
// transaction commits.
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

// validationErr returns an ErrValidation error with the detail given.
func validationErr(format string, args ...any) error {
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

// inBatch returns an ErrNotFound error as an ErrValidation error about what
// (an item or dimension of the batch, such as "project <id>"), and any other
// error as it is.
func inBatch(what string, err error) error {
	if costexplorer.IsNotFound(err) {
		return validationErr("%s: %s", what, errDetail(err))
	}
	return err
}

func orgsOf(k *Keys) map[string]int64               { return k.Orgs }
func projectsOf(k *Keys) map[string]ProjectRef      { return k.Projects }
func clustersOf(k *Keys) map[string]ClusterRef      { return k.Clusters }
func skusOf(k *Keys) map[SKUKey]int64               { return k.SKUs }
func invoicesOf(k *Keys) map[InvoiceKey]InvoiceRef  { return k.Invoices }
func tagSetsOf(k *Keys) map[costexplorer.Tags]int64 { return k.TagSets }
func detailsOf(k *Keys) map[Details]int64           { return k.Details }

// org, project and cluster return the key of ext if the transaction or the
// cache knows it, copying a cached key into the transaction's. The
// transaction's own map, which answers nearly every call, is read inline.
func (r *Resolver) org(ext string) (int64, bool) {
	if id, ok := r.Orgs[ext]; ok {
		return id, true
	}
	return known(r.Cache, orgsOf, ext, r.PutOrg)
}

func (r *Resolver) project(ext string) (ProjectRef, bool) {
	if p, ok := r.Projects[ext]; ok {
		return p, true
	}
	return known(r.Cache, projectsOf, ext, r.PutProject)
}

func (r *Resolver) cluster(ext string) (ClusterRef, bool) {
	if c, ok := r.Clusters[ext]; ok {
		return c, true
	}
	return known(r.Cache, clustersOf, ext, r.PutCluster)
}

// known looks ext up in the cache and copies what it finds with put.
func known[V any](c *KeyCache, of func(*Keys) map[string]V, ext string, put func(string, V)) (V, bool) {
	v, ok := cacheLookup(c, of, ext)
	if ok {
		put(ext, v)
	}
	return v, ok
}

// Org resolves an organization id, or returns ErrNotFound.
func (r *Resolver) Org(ext string) (int64, error) {
	if err := r.Prefetch([]string{ext}, nil); err != nil {
		return 0, err
	}
	if id, ok := r.Orgs[ext]; ok {
		return id, nil
	}
	return 0, notFound("organization %s not found", ext)
}

// Project resolves a project id, or returns ErrNotFound.
func (r *Resolver) Project(ext string) (ProjectRef, error) {
	if err := r.Prefetch(nil, []string{ext}); err != nil {
		return ProjectRef{}, err
	}
	if p, ok := r.Projects[ext]; ok {
		return p, nil
	}
	return ProjectRef{}, notFound("project %s not found", ext)
}

// Prefetch reads the keys of the organizations and projects among the ids
// given that neither the transaction nor the cache knows, all at once.
func (r *Resolver) Prefetch(orgs, projects []string) error {
	var m unknownIDs
	for _, id := range orgs {
		if _, ok := r.org(id); !ok {
			m.add(0, id)
		}
	}
	for _, id := range projects {
		if _, ok := r.project(id); !ok {
			m.add(1, id)
		}
	}
	return m.load(r)
}

// unknownIDs collects the distinct ids of organizations (0), projects (1)
// and clusters (2) to read from the store.
type unknownIDs struct {
	seen [3]map[string]bool
	ids  [3][]string
	any  bool
}

func (m *unknownIDs) add(kind int, id string) {
	if m.seen[kind] == nil {
		m.seen[kind], m.any = map[string]bool{}, true
	}
	if !m.seen[kind][id] {
		m.seen[kind][id] = true
		m.ids[kind] = append(m.ids[kind], id)
	}
}

func (m *unknownIDs) load(r *Resolver) error {
	if !m.any {
		return nil
	}
	return r.Find.Load(m.ids[0], m.ids[1], m.ids[2], &r.Keys)
}

// ResolveItems maps every item to surrogate keys, checking that its
// dimensions exist and belong together (the project of the item's
// organization, the cluster of the item's project); the first bad item, in
// batch order, names the ErrValidation error. Ids that neither the
// transaction nor the cache knows are read in one call to Find, and SKUs not
// known yet are created in another.
func (r *Resolver) ResolveItems(items []costexplorer.LineItem) ([]ItemRow, error) {
	if len(items) == 0 {
		return nil, nil
	}
	rows := make([]ItemRow, len(items))
	var (
		unknown unknownIDs
		pending []int // items with an unknown id, in batch order
		badErr  error // of the first item found bad with all its ids known
		skus    map[SKUKey]bool
	)
	for i := range items {
		row, known, err := r.resolve(&items[i], &unknown)
		if err != nil {
			badErr = err // items after it cannot come first
			break
		}
		if !known {
			pending = append(pending, i)
			continue
		}
		r.sku(&row, &skus)
		rows[i] = row
	}
	if len(pending) > 0 {
		if err := unknown.load(r); err != nil {
			return nil, err
		}
		for _, i := range pending {
			row, _, err := r.resolve(&items[i], nil)
			if err != nil {
				return nil, err
			}
			r.sku(&row, &skus)
			rows[i] = row
		}
	}
	if badErr != nil {
		return nil, badErr
	}
	if len(skus) == 0 {
		return rows, nil
	}
	if err := r.resolveSKUs(skus); err != nil {
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

// resolve maps li to keys and checks them. An id not known yet is added to
// unknown, and known is false; with unknown nil, it is an error. The checks
// run in the order of the item's fields, so that the first failing one
// names the error.
func (r *Resolver) resolve(li *costexplorer.LineItem, unknown *unknownIDs) (row ItemRow, known bool, err error) {
	row = ItemRow{Item: li}
	known = true
	missing := func(kind int, what, id string) error {
		if unknown == nil {
			return validationErr("line item %s: %s %s not found", li.ID, what, id)
		}
		unknown.add(kind, id)
		known = false
		return nil
	}
	var ok bool
	if row.Org, ok = r.org(li.OrgID); !ok {
		if err := missing(0, "organization", li.OrgID); err != nil {
			return row, false, err
		}
	}
	if li.ProjectID != "" {
		p, ok := r.project(li.ProjectID)
		switch {
		case !ok:
			if err := missing(1, "project", li.ProjectID); err != nil {
				return row, false, err
			}
		case known && p.Org != row.Org:
			return row, false, validationErr("line item %s: project %s does not belong to organization %s", li.ID, li.ProjectID, li.OrgID)
		}
		row.Project = p.ID
	}
	if li.ClusterID != "" {
		c, ok := r.cluster(li.ClusterID)
		switch {
		case !ok:
			if err := missing(2, "cluster", li.ClusterID); err != nil {
				return row, false, err
			}
		case known && c.Project != row.Project:
			return row, false, validationErr("line item %s: cluster %s does not belong to project %s", li.ID, li.ClusterID, li.ProjectID)
		}
		row.Cluster = c.ID
	}
	if !known {
		return row, false, nil
	}
	svc, _ := costexplorer.ParseService(string(li.Service)) // validated
	code, ok := r.ServiceCodes[svc]
	if !ok {
		return row, false, fmt.Errorf("service %q has no code", svc)
	}
	row.Service = code
	return row, true, nil
}

// sku sets the SKU of row if the transaction or the cache knows it, and adds
// it to missing otherwise.
func (r *Resolver) sku(row *ItemRow, missing *map[SKUKey]bool) {
	li := row.Item
	k := SKUKey{li.SKU, row.Service, li.Unit}
	var ok bool
	if row.SKU, ok = r.SKUs[k]; ok {
		return
	}
	if row.SKU, ok = cacheLookup(r.Cache, skusOf, k); ok {
		r.SKUs[k] = row.SKU
		return
	}
	if *missing == nil {
		*missing = map[SKUKey]bool{}
	}
	(*missing)[k] = true
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
