package postgres_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/demo"
	"github.com/costexplorer/costexplorer/internal/engine"
	"github.com/costexplorer/costexplorer/internal/postgres"
	"github.com/costexplorer/costexplorer/internal/postgres/pgtest"
	"github.com/costexplorer/costexplorer/internal/sqlite"
	"github.com/costexplorer/costexplorer/internal/storetest"
)

// benchShape follows the reference workload (DESIGN §4): 50 organizations,
// 2,000 projects, 8,000 clusters, daily usage, about 23,000 line items a day
// (the same shape as internal/sqlite's ingest benchmark).
var benchShape = storetest.Shape{Orgs: 50, ProjectsPerOrg: 40, ClustersPerProject: 4, Start: costexplorer.DayOf(time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)), Days: 1200}

// benchBatch is the number of line items per ingest call.
const benchBatch = 20000

// openWithDimensions opens a fresh schema holding the dimensions (no line
// items) of the synthetic dataset of seed, and returns it with the dataset.
func openWithDimensions(b *testing.B, seed uint64) (*postgres.DB, *storetest.Dataset) {
	b.Helper()
	db := open(b, pgtest.Schema(b), postgres.Options{})
	d := storetest.NewDataset(seed, benchShape)
	if _, err := db.IngestUsage(context.Background(), d.Dimensions()); err != nil {
		b.Fatal(err)
	}
	return db, d
}

// BenchmarkIngest ingests b.N batches of new line items into one growing
// store through COPY and reports the ingest rate. Size the run with
// -benchtime=Nx: N*20,000 line items.
func BenchmarkIngest(b *testing.B) {
	ctx := context.Background()
	db, d := openWithDimensions(b, 7)
	var (
		inserted int
		elapsed  time.Duration
	)
	for b.Loop() {
		b.StopTimer()
		items := d.Items(benchBatch)
		if len(items) == 0 {
			b.Fatal("synthetic data exhausted: raise benchShape.Days")
		}
		b.StartTimer()
		start := time.Now()
		res, err := db.IngestUsage(ctx, &costexplorer.UsageBatch{Items: items})
		elapsed += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		inserted += res.Inserted
	}
	b.ReportMetric(float64(inserted)/elapsed.Seconds(), "items/s")
	st, err := db.UsageStats(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(st.RollupRows)/float64(max(st.LineItems, 1)), "rollup/item")
}

// BenchmarkIngestDuplicates re-ingests a batch that is already stored: the
// cost of an idempotent re-import.
func BenchmarkIngestDuplicates(b *testing.B) {
	ctx := context.Background()
	db, d := openWithDimensions(b, 8)
	items := d.Items(benchBatch)
	if _, err := db.IngestUsage(ctx, &costexplorer.UsageBatch{Items: items}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		res, err := db.IngestUsage(ctx, &costexplorer.UsageBatch{Items: items})
		if err != nil || res.Inserted != 0 {
			b.Fatalf("re-ingest: %+v, %v", res, err)
		}
	}
	b.ReportMetric(float64(b.N*len(items))/b.Elapsed().Seconds(), "items/s")
}

var referenceItems = flag.Int("postgres.reference-items", 200_000, "demo line items of BenchmarkReferenceQueries (-short: 20000; DESIGN §4 figures: 5000000)")

// BenchmarkReferenceQueries loads the same demo dataset (internal/demo) into
// SQLite and PostgreSQL, reporting each store's ingest rate and the time the
// query engine takes to load its snapshot from each, then times the four
// reference queries of DESIGN §4 on each engine, as benchrun picks them
// (demo.ReferenceQueries):
//
//	Q1 the largest organization, 6 months, group by services
//	Q2 the largest organization, 18 months, group by projects (all of them)
//	Q3 the largest organization, 3 months, 5 projects, group by clusters
//	Q4 the paying organization with its linked ones, 18 months, by organizations
//
// Run: go test -run '^$' -bench ReferenceQueries -postgres.reference-items 5000000 ./internal/postgres/
func BenchmarkReferenceQueries(b *testing.B) {
	ctx := context.Background()
	items := *referenceItems
	if testing.Short() {
		items = 20_000
	}
	cfg := demo.Config{Seed: 1, LineItems: items, Now: time.Date(2025, 6, 20, 12, 0, 0, 0, time.UTC)}
	lay := demo.Describe(cfg)
	sq, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "ref.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sq.Close() })
	stores := []struct {
		name string
		s    costexplorer.Store
	}{{"SQLite", sq}, {"PostgreSQL", open(b, pgtest.Schema(b), postgres.Options{})}}

	engines := make([]*engine.Engine, len(stores))
	var dims demo.Dims
	for i, st := range stores {
		// Only the store's time counts, not the generator's.
		var took time.Duration
		err := demo.Generate(ctx, cfg, func(batch *costexplorer.UsageBatch) error {
			if i == 0 {
				dims.Add(batch)
			}
			start := time.Now()
			_, err := st.s.IngestUsage(ctx, batch)
			took += time.Since(start)
			return err
		})
		if err != nil {
			b.Fatalf("%s: ingest: %v", st.name, err)
		}
		engines[i] = engine.New(st.s, engine.Options{RefreshInterval: time.Hour})
		start := time.Now()
		if err := engines[i].Load(ctx); err != nil {
			b.Fatal(err)
		}
		es := engines[i].Stats()
		b.Logf("%s: %d line items ingested in %v (%.0f items/s in IngestUsage); engine load %v (%d rollup rows)",
			st.name, lay.LineItems, took.Round(time.Millisecond), float64(lay.LineItems)/took.Seconds(), time.Since(start).Round(time.Millisecond), es.RollupRows)
	}

	qs := demo.ReferenceQueries(&dims, lay.PayingOrg.ID, lay.LastDay.Month())
	for i, st := range stores {
		for _, q := range qs {
			b.Run(st.name+"/"+q.Name, func(b *testing.B) {
				var rows []costexplorer.Row
				for b.Loop() {
					if rows, err = engines[i].Evaluate(ctx, &q.Query); err != nil {
						b.Fatal(err)
					}
				}
				if len(rows) == 0 {
					b.Fatal("the query found no rows")
				}
				b.ReportMetric(float64(len(rows)), "rows")
			})
		}
	}
}

// BenchmarkRestate restates a pending invoice every iteration, as a daily
// sync does, beside a re-import of the same invoice (all duplicates) as the
// baseline (see storetest.BenchRestate). Only wall time: the work is the
// server's.
func BenchmarkRestate(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		for _, replace := range []bool{true, false} {
			b.Run(fmt.Sprintf("items=%d/restate=%v", n, replace), func(b *testing.B) {
				storetest.BenchRestate(b, open(b, pgtest.Schema(b), postgres.Options{}), n, replace, nil)
			})
		}
	}
}

// BenchmarkAuthReads measures, on both stores, the reads every authenticated
// API request makes: the organization, the service account, the token
// revocation and the query process. SQLite serves them through its cache of
// prepared statements, pgx through its per-connection statement cache.
// PostgreSQL runs when TEST_DATABASE_URL is set.
//
// Run: go test -run '^$' -bench AuthReads -benchmem ./internal/postgres/
func BenchmarkAuthReads(b *testing.B) {
	b.Run("SQLite", func(b *testing.B) {
		db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "auth.db"), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		authReads(b, db)
	})
	b.Run("PostgreSQL", func(b *testing.B) {
		if os.Getenv("TEST_DATABASE_URL") == "" {
			b.Skip("TEST_DATABASE_URL is not set")
		}
		authReads(b, open(b, pgtest.Schema(b), postgres.Options{}))
	})
}

func authReads(b *testing.B, db costexplorer.Store) {
	ctx := context.Background()
	now := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	org := costexplorer.DeriveID("bench-org")
	if err := db.CreateOrganization(ctx, &costexplorer.Organization{ID: org, Name: "Bench", CreatedAt: now}); err != nil {
		b.Fatal(err)
	}
	sa := &costexplorer.ServiceAccount{ClientID: "mdb_sa_id_" + costexplorer.DeriveID("bench-sa"), OrgID: org, Name: "sa",
		SecretHash: "$argon2id$v=19$...", Roles: []costexplorer.Role{costexplorer.RoleOrgOwner}, Enabled: true,
		CreatedAt: now, SecretExpiresAt: now.Add(time.Hour)}
	if err := db.CreateServiceAccount(ctx, sa); err != nil {
		b.Fatal(err)
	}
	q := costexplorer.Query{OrgID: org, Start: costexplorer.MonthOf(now) - 3, End: costexplorer.MonthOf(now),
		Services: []costexplorer.Service{costexplorer.ServiceClusters}, GroupBy: costexplorer.GroupByServices}
	p, err := db.CreateProcess(ctx, &costexplorer.QueryProcess{Token: q.Token(1), OrgID: org, Query: q,
		State: costexplorer.ProcessPending, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range []struct {
		name string
		read func() error
	}{
		{"Organization", func() error { _, err := db.Organization(ctx, org); return err }},
		{"ServiceAccount", func() error { _, err := db.ServiceAccount(ctx, sa.ClientID); return err }},
		{"TokenRevoked", func() error { _, err := db.TokenRevoked(ctx, "some-jti"); return err }},
		{"Process", func() error { _, err := db.Process(ctx, org, p.Token, now); return err }},
	} {
		b.Run(r.name, func(b *testing.B) {
			for range b.N {
				if err := r.read(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
