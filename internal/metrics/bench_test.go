package metrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/metrics"
)

// constStore answers DataVersion from memory, so that a benchmark measures
// the wrapper, not a database.
type constStore struct{ costexplorer.Store }

func (constStore) DataVersion(context.Context) (int64, error) { return 1, nil }

// BenchmarkStoreCall compares a store call with and without InstrumentStore:
// the difference is what timing every store call costs.
func BenchmarkStoreCall(b *testing.B) {
	ctx := context.Background()
	for _, bc := range []struct {
		name  string
		store costexplorer.Store
	}{
		{"Raw", constStore{}},
		{"Instrumented", metrics.New(nil).InstrumentStore(constStore{})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.store.DataVersion(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkObserveRequest is the per-request cost of the HTTP metrics.
func BenchmarkObserveRequest(b *testing.B) {
	m := metrics.New(nil)
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveRequest("GET /api/atlas/v2/orgs/{orgId}/billing/costExplorer/usage/{token}", 200, 3*time.Millisecond)
	}
}
