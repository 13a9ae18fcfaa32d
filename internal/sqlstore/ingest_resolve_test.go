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

	finds     []string   // ids looked up, in order
	skuCalls  [][]SKUKey // keys of each ResolveSKUs call
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

func find[V any](f *fakeFinder, m map[string]V, ext string) (V, bool, error) {
	f.finds = append(f.finds, ext)
	v, ok := m[ext]
	return v, ok, f.err
}

func (f *fakeFinder) FindOrg(ext string) (int64, bool, error) { return find(f, f.orgs, ext) }
func (f *fakeFinder) FindProject(ext string) (ProjectRef, bool, error) {
	return find(f, f.projects, ext)
}
func (f *fakeFinder) FindCluster(ext string) (ClusterRef, bool, error) {
	return find(f, f.clusters, ext)
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
	if want := []string{"org1", "proj10", "clus100", "org2"}; !slices.Equal(f.finds, want) {
		t.Errorf("lookups = %v, want each id once: %v", f.finds, want)
	}
	if rows[2].Item != &items[2] {
		t.Error("rows do not point at the batch's items")
	}
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
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeFinder()
			_, err := NewResolver(nil, f, testServices).ResolveItems(tc.items)
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
	f.finds = nil
	if _, err := NewResolver(cache, f, testServices).ResolveItems(items); err != nil {
		t.Fatal(err)
	}
	if len(f.finds) != 3 {
		t.Errorf("lookups before the merge = %v, want 3", f.finds)
	}

	cache.Merge(&first.Keys)
	f.finds, f.skuCalls = nil, nil
	r := NewResolver(cache, f, testServices)
	rows, err := r.ResolveItems(items)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.finds) != 0 || len(f.skuCalls) != 0 {
		t.Errorf("after the merge: lookups %v, SKU calls %v; want none", f.finds, f.skuCalls)
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
