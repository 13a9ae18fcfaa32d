package bench

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/demo"
	"github.com/costexplorer/costexplorer/internal/engine"
	"github.com/costexplorer/costexplorer/internal/sqlite"
)

// ReferenceNow pins the end of every generated dataset, so that a size always
// yields the same line items (DESIGN §4: 18 months of daily usage).
var ReferenceNow = time.Date(2025, time.June, 30, 0, 0, 0, 0, time.UTC)

// ReferenceMonths is the history of the reference dataset.
const ReferenceMonths = 18

// Config returns the demo configuration of the reference dataset with about
// lineItems line items.
func Config(lineItems int) demo.Config {
	return demo.Config{Seed: 1, LineItems: lineItems, Months: ReferenceMonths, Now: ReferenceNow}
}

// rollupKey is one cell of the monthly rollup while it is summed.
type rollupKey struct {
	month costexplorer.Month
	org   string
	proj  string
	clus  string
	svc   costexplorer.Service
}

// Dataset is a generated reference dataset without its line items: the
// dimensions, the monthly rollup summed exactly from the items, and what the
// reference queries need to know about its shape. Memory grows with rollup
// cells, not line items.
type Dataset struct {
	Config    demo.Config
	Layout    demo.Layout
	LineItems int64
	Total     costexplorer.Cents

	// The organizations, projects and clusters in generation order, and
	// the line items per organization.
	demo.Dims
	Rollup []costexplorer.RollupRow // ordered by month, org, project, cluster, service
}

// Generate streams the reference dataset of about lineItems items to every
// sink, batch by batch (a sink's error stops it), and returns the dataset
// with its rollup. The time spent in the sinks is theirs to measure.
func Generate(ctx context.Context, lineItems int, sinks ...func(*costexplorer.UsageBatch) error) (*Dataset, error) {
	cfg := Config(lineItems)
	d := &Dataset{Config: cfg, Layout: demo.Describe(cfg)}
	sums := map[rollupKey]costexplorer.Cents{}
	err := demo.Generate(ctx, cfg, func(b *costexplorer.UsageBatch) error {
		for _, sink := range sinks {
			if err := sink(b); err != nil {
				return err
			}
		}
		d.Add(b)
		for i := range b.Items {
			it := &b.Items[i]
			sums[rollupKey{it.Date.Month(), it.OrgID, it.ProjectID, it.ClusterID, it.Service}] += it.Amount
			d.Total += it.Amount
		}
		d.LineItems += int64(len(b.Items))
		return nil
	})
	if err != nil {
		return nil, err
	}
	d.Rollup = make([]costexplorer.RollupRow, 0, len(sums))
	for k, v := range sums {
		d.Rollup = append(d.Rollup, costexplorer.RollupRow{Month: k.month, OrgID: k.org, ProjectID: k.proj, ClusterID: k.clus, Service: k.svc, Amount: v})
	}
	slices.SortFunc(d.Rollup, func(a, b costexplorer.RollupRow) int {
		return cmp.Or(cmp.Compare(a.Month, b.Month), cmp.Compare(a.OrgID, b.OrgID), cmp.Compare(a.ProjectID, b.ProjectID),
			cmp.Compare(a.ClusterID, b.ClusterID), cmp.Compare(a.Service, b.Service))
	})
	return d, nil
}

// Source returns the dataset as an engine source (internal/engine.Source):
// the engine then builds its snapshot exactly as it does from a store.
func (d *Dataset) Source() *MemSource { return &MemSource{d: d} }

// MemSource serves a Dataset to the engine.
type MemSource struct{ d *Dataset }

// DataVersion is constant: the dataset never changes.
func (s *MemSource) DataVersion(context.Context) (int64, error) { return 1, nil }

// ScanRollup calls fn for every rollup cell.
func (s *MemSource) ScanRollup(_ context.Context, fn func(*costexplorer.RollupRow) error) error {
	for i := range s.d.Rollup {
		r := s.d.Rollup[i]
		if err := fn(&r); err != nil {
			return err
		}
	}
	return nil
}

// ScanDailyRollup generates the dataset again and calls fn for every line
// item as its own daily cell: the generator makes one item a resource, SKU
// and day, so its items are the daily rollup's cells. They come resource by
// resource and day by day, not in the store's key order, so the engine holds
// them in more series and segments than it would when loading the store.
func (s *MemSource) ScanDailyRollup(ctx context.Context, fn func(*costexplorer.DailyRollupRow) error) error {
	return demo.Generate(ctx, s.d.Config, func(b *costexplorer.UsageBatch) error {
		for i := range b.Items {
			it := &b.Items[i]
			r := costexplorer.DailyRollupRow{Day: it.Date, OrgID: it.OrgID, ProjectID: it.ProjectID, ClusterID: it.ClusterID,
				Service: it.Service, SKU: it.SKU, Tags: it.Tags, Amount: it.Amount, Quantity: it.Quantity, Items: 1}
			if err := fn(&r); err != nil {
				return err
			}
		}
		return nil
	})
}

// InvoiceIDs returns none: the engine then derives each invoice's id, as a
// store does for usage that names no invoice.
func (s *MemSource) InvoiceIDs(context.Context) ([]costexplorer.InvoiceRef, error) { return nil, nil }

// Organizations returns every organization (the filter is ignored: the
// engine asks for all of them).
func (s *MemSource) Organizations(context.Context, costexplorer.OrganizationFilter) ([]*costexplorer.Organization, int, error) {
	return s.d.Orgs, len(s.d.Orgs), nil
}

// Projects returns every project.
func (s *MemSource) Projects(context.Context) ([]*costexplorer.Project, error) {
	return s.d.Projects, nil
}

// Clusters returns every cluster.
func (s *MemSource) Clusters(context.Context) ([]*costexplorer.Cluster, error) {
	return s.d.Clusters, nil
}

// LoadEngine opens the SQLite store at dbPath and loads an engine on it, as
// a server does (the data never changes during a run: the version is checked
// once an hour). The caller closes the store.
func LoadEngine(ctx context.Context, dbPath string) (*engine.Engine, *sqlite.DB, error) {
	store, err := sqlite.Open(ctx, dbPath, sqlite.Options{})
	if err != nil {
		return nil, nil, err
	}
	eng := engine.New(store, engine.Options{RefreshInterval: time.Hour})
	if err := eng.Load(ctx); err != nil {
		store.Close()
		return nil, nil, err
	}
	return eng, store, nil
}
