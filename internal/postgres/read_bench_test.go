package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/postgres"
)

// BenchmarkAuthReads measures the reads every authenticated API request
// makes: the organization, the service account, the token revocation and
// the query process. pgx caches their prepared statements per connection.
func BenchmarkAuthReads(b *testing.B) {
	ctx := context.Background()
	db := open(b, freshSchema(b), postgres.Options{})
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
	b.Run("Organization", func(b *testing.B) {
		for range b.N {
			if _, err := db.Organization(ctx, org); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ServiceAccount", func(b *testing.B) {
		for range b.N {
			if _, err := db.ServiceAccount(ctx, sa.ClientID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("TokenRevoked", func(b *testing.B) {
		for range b.N {
			if _, err := db.TokenRevoked(ctx, "some-jti"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Process", func(b *testing.B) {
		for range b.N {
			if _, err := db.Process(ctx, org, p.Token, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}
