package sqlstore

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/costexplorer/costexplorer"
)

// fakeFinder is a store of dimensions that counts the lookups made.
type fakeFinder struct {
	orgs     map[string]int64
	projects map[string]ProjectRef
	clusters map[string]ClusterRef
	skus     map[SKUKey]int64
	err      error // returned by every lookup when set

	loads     [][3][]string // ids of each Load call
	skuCalls  [][]SKUKey    // keys of each ResolveSKUs call
	nextSKUID int64
}

func newFakeFinder() *fakeFinder {
	return &fakeFinder{
		orgs:     map[string]int64{"org1": 1, "org2": 2},
		projects: map[string]ProjectRef{"proj10": {10, 1}, "proj20": {20, 2}},
		clusters: map[string]ClusterRef{"clus100": {100, 10}},
		skus:     map[SKUKey]int64{},
	}
}

func (f *fakeFinder) Load(orgs, projects, clusters []string, keys *Keys) error {
	f.loads = append(f.loads, [3][]string{orgs, projects, clusters})
	for _, id := range orgs {
		if v, ok := f.orgs[id]; ok {
			keys.PutOrg(id, v)
		}
	}
	for _, id := range projects {
		if v, ok := f.projects[id]; ok {
			keys.PutProject(id, v)
		}
	}
	for _, id := range clusters {
		if v, ok := f.clusters[id]; ok {
			keys.PutCluster(id, v)
		}
	}
	return f.err
}

func (f *fakeFinder) ResolveSKUs(keys []SKUKey, into map[SKUKey]int64) error {
	f.skuCalls = append(f.skuCalls, slices.Clone(keys))
	for _, k := range keys {
		if _, ok := f.skus[k]; !ok {
			f.nextSKUID++
			f.skus[k] = f.nextSKUID
		}
		into[k] = f.skus[k]
	}
	return nil
}

var testServices = map[costexplorer.Service]int64{costexplorer.ServiceSupport: 0, costexplorer.ServiceClusters: 1}

func item(name, org, project, cluster string, svc costexplorer.Service, sku string) costexplorer.LineItem {
	return costexplorer.LineItem{ID: costexplorer.NewLineItemID(name), OrgID: org, ProjectID: project, ClusterID: cluster,
		Service: svc, SKU: sku, Unit: "hours", Date: jan2, Amount: 1}
}

func TestResolveItems(t *testing.T) {
	f := newFakeFinder()
	r := NewResolver(nil, f, testServices)
	items := []costexplorer.LineItem{
		item("a", "org1", "proj10", "clus100", costexplorer.ServiceClusters, "M10"),
		item("b", "org1", "proj10", "", costexplorer.ServiceClusters, "M10"),
		item("c", "org2", "", "", costexplorer.ServiceSupport, "SUPPORT"),
		item("d", "org1", "proj10", "clus100", costexplorer.ServiceClusters, "M20"),
	}
	rows, err := r.ResolveItems(items)
	if err != nil {
		t.Fatal(err)
	}
	type keys struct{ org, project, cluster, service int64 }
	var got []keys
	for _, row := range rows {
		got = append(got, keys{row.Org, row.Project, row.Cluster, row.Service})
	}
	want := []keys{{1, 10, 100, 1}, {1, 10, 0, 1}, {2, 0, 0, 0}, {1, 10, 100, 1}}
	if !slices.Equal(got, want) {
		t.Errorf("keys = %v, want %v", got, want)
	}
	if rows[0].SKU == 0 || rows[0].SKU != rows[1].SKU || rows[0].SKU == rows[3].SKU || rows[2].SKU == 0 {
		t.Errorf("SKUs %d %d %d %d: want one per (name, service, unit), none 0", rows[0].SKU, rows[1].SKU, rows[2].SKU, rows[3].SKU)
	}
	if len(f.skuCalls) != 1 || len(f.skuCalls[0]) != 3 {
		t.Errorf("ResolveSKUs calls = %v, want one call with the 3 distinct SKUs", f.skuCalls)
	}
	if want := [][3][]string{{{"org1", "org2"}, {"proj10"}, {"clus100"}}}; !slices.EqualFunc(f.loads, want, equalLoad) {
		t.Errorf("loads = %v, want one of each id: %v", f.loads, want)
	}
	if rows[2].Item != &items[2] {
		t.Error("rows do not point at the batch's items")
	}
}

func equalLoad(a, b [3][]string) bool {
	return slices.Equal(a[0], b[0]) && slices.Equal(a[1], b[1]) && slices.Equal(a[2], b[2])
}

func TestResolveItemsErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		items  []costexplorer.LineItem
		detail string
	}{
		{"ErrOrgNotFound", []costexplorer.LineItem{item("a", "org9", "", "", costexplorer.ServiceSupport, "S")},
			"line item %s: organization org9 not found"},
		{"ErrProjectNotFound", []costexplorer.LineItem{item("a", "org1", "proj99", "", costexplorer.ServiceSupport, "S")},
			"line item %s: project proj99 not found"},
		{"ErrClusterNotFound", []costexplorer.LineItem{item("a", "org1", "proj10", "clus999", costexplorer.ServiceSupport, "S")},
			"line item %s: cluster clus999 not found"},
		{"ErrProjectOfAnotherOrg", []costexplorer.LineItem{item("a", "org2", "proj10", "", costexplorer.ServiceSupport, "S")},
			"line item %s: project proj10 does not belong to organization org2"},
		{"ErrClusterOfAnotherProject", []costexplorer.LineItem{item("a", "org2", "proj20", "clus100", costexplorer.ServiceSupport, "S")},
			"line item %s: cluster clus100 does not belong to project proj20"},
		{"ErrClusterWithoutProject", []costexplorer.LineItem{item("a", "org1", "", "clus100", costexplorer.ServiceSupport, "S")},
			"line item %s: cluster clus100 does not belong to project "},
		{"ErrFirstBadItemNamed", []costexplorer.LineItem{
			item("ok", "org1", "", "", costexplorer.ServiceSupport, "S"),
			item("a", "org8", "", "", costexplorer.ServiceSupport, "S"),
			item("b", "org9", "", "", costexplorer.ServiceSupport, "S"),
		}, "line item %s: organization org8 not found"},
		// org1 and proj20 are known before the store is read (the batch
		// carried them): b is found bad at once, but a, read later, comes
		// first.
		{"ErrFirstBadItemNamedWhenReadLater", []costexplorer.LineItem{
			item("a", "org7", "", "", costexplorer.ServiceSupport, "S"),
			item("b", "org1", "proj20", "", costexplorer.ServiceSupport, "S"),
		}, "line item %s: organization org7 not found"},
		{"ErrKnownBadItemBeforeUnknownOne", []costexplorer.LineItem{
			item("a", "org1", "proj20", "", costexplorer.ServiceSupport, "S"),
			item("b", "org7", "", "", costexplorer.ServiceSupport, "S"),
		}, "line item %s: project proj20 does not belong to organization org1"},
		{"ErrProjectCheckedBeforeCluster", []costexplorer.LineItem{item("a", "org2", "proj10", "clus999", costexplorer.ServiceSupport, "S")},
			"line item %s: project proj10 does not belong to organization org2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeFinder()
			r := NewResolver(nil, f, testServices)
			r.PutOrg("org1", 1)
			r.PutProject("proj20", f.projects["proj20"])
			_, err := r.ResolveItems(tc.items)
			var e *costexplorer.Error
			if !errors.As(err, &e) || e.Code != costexplorer.ErrValidation {
				t.Fatalf("error = %v, want ErrValidation", err)
			}
			if want := fmt.Sprintf(tc.detail, costexplorer.NewLineItemID("a")); e.Detail != want {
				t.Errorf("detail = %q, want %q", e.Detail, want)
			}
			if len(f.skuCalls) != 0 {
				t.Errorf("SKUs created for a batch that fails: %v", f.skuCalls)
			}
		})
	}
}

func TestResolveItemsPassesLookupErrors(t *testing.T) {
	f := newFakeFinder()
	f.err = errors.New("connection lost")
	_, err := NewResolver(nil, f, testServices).ResolveItems([]costexplorer.LineItem{item("a", "org1", "", "", costexplorer.ServiceSupport, "S")})
	if !errors.Is(err, f.err) {
		t.Errorf("error = %v, want the lookup's", err)
	}
}

func TestOrgAndProject(t *testing.T) {
	f := newFakeFinder()
	r := NewResolver(nil, f, testServices)
	if id, err := r.Org("org2"); err != nil || id != 2 {
		t.Errorf("Org(org2) = %d, %v; want 2", id, err)
	}
	if p, err := r.Project("proj20"); err != nil || p != (ProjectRef{20, 2}) {
		t.Errorf("Project(proj20) = %v, %v; want {20 2}", p, err)
	}
	if _, err := r.Org("org2"); err != nil || len(f.loads) != 2 {
		t.Errorf("Org(org2) again: %v, %d loads; want no new load", err, len(f.loads))
	}
	for name, err := range map[string]error{"ErrOrgNotFound": second(r.Org("org9")), "ErrProjectNotFound": second(r.Project("proj99"))} {
		if !costexplorer.IsNotFound(err) {
			t.Errorf("%s: error = %v, want ErrNotFound", name, err)
		}
	}
}

func second[V any](_ V, err error) error { return err }

func TestKeyCache(t *testing.T) {
	cache := NewKeyCache()
	f := newFakeFinder()
	first := NewResolver(cache, f, testServices)
	items := []costexplorer.LineItem{item("a", "org1", "proj10", "clus100", costexplorer.ServiceClusters, "M10")}
	if _, err := first.ResolveItems(items); err != nil {
		t.Fatal(err)
	}
	// Before the merge (the first transaction has not committed), a second
	// transaction finds nothing in the cache.
	f.loads = nil
	if _, err := NewResolver(cache, f, testServices).ResolveItems(items); err != nil {
		t.Fatal(err)
	}
	if len(f.loads) != 1 {
		t.Errorf("loads before the merge = %v, want 1", f.loads)
	}

	cache.Merge(&first.Keys)
	f.loads, f.skuCalls = nil, nil
	r := NewResolver(cache, f, testServices)
	rows, err := r.ResolveItems(items)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.loads) != 0 || len(f.skuCalls) != 0 {
		t.Errorf("after the merge: loads %v, SKU calls %v; want none", f.loads, f.skuCalls)
	}
	if rows[0].Org != 1 || rows[0].Project != 10 || rows[0].Cluster != 100 || rows[0].SKU == 0 {
		t.Errorf("row from the cache = %+v", rows[0])
	}
	// Keys read from the cache join the transaction's, so that the deltas
	// name their ids.
	deltas := r.RollupRows([]Cell{{CellKey{jan2.Month(), 1, 10, 100, 1}, 1}}, map[int64]costexplorer.Service{1: costexplorer.ServiceClusters})
	if d := deltas[0]; d.OrgID != "org1" || d.ProjectID != "proj10" || d.ClusterID != "clus100" {
		t.Errorf("delta = %+v, want the cached ids", d)
	}
}
