package demo

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/sqlite"
)

func openSQLite(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "demo.db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// ingest generates cfg into db, one IngestUsage per batch, and returns the
// number of items and their total.
func ingest(tb testing.TB, db *sqlite.DB, cfg Config) (int64, costexplorer.Cents) {
	tb.Helper()
	var n int64
	var total costexplorer.Cents
	err := Generate(context.Background(), cfg, func(b *costexplorer.UsageBatch) error {
		res, err := db.IngestUsage(context.Background(), b)
		if err != nil {
			return err
		}
		if res.Inserted != len(b.Items) {
			tb.Fatalf("inserted %d of a batch of %d", res.Inserted, len(b.Items))
		}
		n += int64(len(b.Items))
		for i := range b.Items {
			total += b.Items[i].Amount
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n, total
}

// TestGenerate_IngestsIntoSQLite checks against the real store that every
// batch ingests on its own, that the store ends up with exactly the generated
// data, that a second run inserts nothing, and that the rollup is consistent.
func TestGenerate_IngestsIntoSQLite(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	cfg := testConfig(60_000)
	n, total := ingest(t, db, cfg)
	l := Describe(cfg)
	st, err := db.UsageStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	orgs := int64(1 + len(l.Linked) + len(l.Others))
	if st.LineItems != n || st.Total != total || st.Organizations != orgs || st.Projects != int64(l.Projects) || st.Clusters != int64(l.Clusters) {
		t.Errorf("store stats %+v; generated %d items, %s, %d orgs, %d projects, %d clusters", st, n, total, orgs, l.Projects, l.Clusters)
	}
	if st.FirstDay != l.FirstDay || st.LastDay != l.LastDay {
		t.Errorf("store days %s..%s, layout %s..%s", st.FirstDay, st.LastDay, l.FirstDay, l.LastDay)
	}
	linked, err := db.LinkedOrganizations(ctx, l.PayingOrg.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(linked) != len(l.Linked) {
		t.Errorf("store links %d organizations to the paying one, layout %d", len(linked), len(l.Linked))
	}
	if problems, err := db.Verify(ctx); err != nil || len(problems) > 0 {
		t.Errorf("Verify: %v %v", err, problems)
	}

	// A second run is a no-op.
	version := st.DataVersion
	err = Generate(ctx, cfg, func(b *costexplorer.UsageBatch) error {
		res, err := db.IngestUsage(ctx, b)
		if err == nil && res.Inserted != 0 {
			t.Errorf("second run inserted %d items", res.Inserted)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := db.DataVersion(ctx); v != version {
		t.Errorf("data version %d after a second run, was %d", v, version)
	}
}

// BenchmarkGenerateIngestSQLite is what `costexplorer demo` does on first
// start: the default dataset generated and ingested into a fresh SQLite file.
func BenchmarkGenerateIngestSQLite(b *testing.B) {
	cfg := Config{Seed: 1, Now: pinnedNow}
	var n int64
	for b.Loop() {
		b.StopTimer()
		db := openSQLite(b)
		b.StartTimer()
		items, _ := ingest(b, db, cfg)
		n += items
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "items/s")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/dataset")
}
