package postgres_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/postgres"
	"github.com/costexplorer/costexplorer/internal/postgres/pgtest"
	"github.com/costexplorer/costexplorer/internal/sqlite"
)

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
