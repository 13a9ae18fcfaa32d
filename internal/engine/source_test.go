package engine

import (
	"context"
	"sync"

	"github.com/costexplorer/costexplorer"
)

// memSource is an in-memory Source whose rollup is given cell by cell. The
// benchmarks use it to hold hundreds of thousands of cells without a
// database; the correctness tests read a real SQLite store instead.
type memSource struct {
	mu       sync.Mutex
	version  int64
	orgs     []*costexplorer.Organization
	projects []*costexplorer.Project
	clusters []*costexplorer.Cluster
	rollup   []costexplorer.RollupRow
	daily    []costexplorer.DailyRollupRow
	invoices []costexplorer.InvoiceRef // none: every invoice id is derived
}

var _ Source = (*memSource)(nil)

func (m *memSource) DataVersion(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.version, nil
}

func (m *memSource) ScanRollup(ctx context.Context, fn func(*costexplorer.RollupRow) error) error {
	return scanAll(m, &m.rollup, fn)
}

func (m *memSource) ScanDailyRollup(ctx context.Context, fn func(*costexplorer.DailyRollupRow) error) error {
	return scanAll(m, &m.daily, fn)
}

// scanAll calls fn with a copy of each of the rows m holds at the call.
func scanAll[T any](m *memSource, rows *[]T, fn func(*T) error) error {
	m.mu.Lock()
	rs := *rows
	m.mu.Unlock()
	for i := range rs {
		r := rs[i]
		if err := fn(&r); err != nil {
			return err
		}
	}
	return nil
}

func (m *memSource) Organizations(context.Context, costexplorer.OrganizationFilter) ([]*costexplorer.Organization, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.orgs, len(m.orgs), nil
}

func (m *memSource) Projects(context.Context) ([]*costexplorer.Project, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.projects, nil
}

func (m *memSource) Clusters(context.Context) ([]*costexplorer.Cluster, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.clusters, nil
}

func (m *memSource) InvoiceIDs(context.Context) ([]costexplorer.InvoiceRef, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.invoices, nil
}
