package postgres_test

import (
	"context"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/postgres"
	"github.com/costexplorer/costexplorer/internal/postgres/pgtest"
	"github.com/costexplorer/costexplorer/internal/sqlite"
	"github.com/costexplorer/costexplorer/internal/storetest"
)

// open opens a store on dsn, closed when t ends (before its schema is
// dropped: cleanups run last-in first-out).
func open(t testing.TB, dsn string, opts postgres.Options) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), dsn, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	pgtest.URL(t)
	storetest.Run(t, func(t *testing.T) costexplorer.Store {
		return open(t, pgtest.Schema(t), postgres.Options{})
	})
}

func TestSameResultsAsSQLite(t *testing.T) {
	pgtest.URL(t)
	storetest.SameResults(t,
		func(t *testing.T) costexplorer.Store {
			db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
		func(t *testing.T) costexplorer.Store { return open(t, pgtest.Schema(t), postgres.Options{}) },
	)
}

// rawInt runs a query returning one integer on a separate connection.
func rawInt(t *testing.T, dsn, q string) int64 {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int64
	if err := conn.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func rawExec(t *testing.T, dsn string, stmts ...string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, s := range stmts {
		if _, err := conn.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestReopenKeepsDataAndMigratesOnce(t *testing.T) {
	dsn := pgtest.Schema(t)
	db := open(t, dsn, postgres.Options{})
	storetest.SmallData(t, db)
	before, err := db.UsageStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db2 := open(t, dsn, postgres.Options{})
	after, err := db2.UsageStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if before != after || after.LineItems == 0 {
		t.Fatalf("stats after reopen %+v, want %+v", after, before)
	}
	if n := rawInt(t, dsn, "SELECT COUNT(*) FROM schema_migrations WHERE version = 1"); n != 1 {
		t.Fatalf("migration 1 recorded %d times, want once", n)
	}
	if n := rawInt(t, dsn, "SELECT COUNT(*) FROM services"); n != int64(len(costexplorer.Services)) {
		t.Fatalf("%d services, want %d", n, len(costexplorer.Services))
	}
}

func TestConcurrentOpensMigrateOnce(t *testing.T) {
	dsn := pgtest.Schema(t)
	storetest.OpenConcurrently(t, 4, func() (io.Closer, error) {
		return postgres.Open(context.Background(), dsn, postgres.Options{MaxConns: 2})
	}, func(query string) int64 { return rawInt(t, dsn, query) })
}

func TestVerifyReportsTampering(t *testing.T) {
	dsn := pgtest.Schema(t)
	db := open(t, dsn, postgres.Options{})
	storetest.SmallData(t, db)
	if lines, err := db.Verify(context.Background()); err != nil || len(lines) != 0 {
		t.Fatalf("Verify = %v, %v; want clean", lines, err)
	}
	rawExec(t, dsn,
		"UPDATE rollup SET cents = cents + 1 WHERE (month, org_id, project_id, cluster_id, service) = (SELECT month, org_id, project_id, cluster_id, service FROM rollup LIMIT 1)",
		"UPDATE usage_state SET total_cents = total_cents + 5",
		"UPDATE invoices SET credits_cents = credits_cents + 7 WHERE id = (SELECT MIN(id) FROM invoices)",
		// A line item whose SKU does not exist: line items carry no foreign
		// keys, so Verify is what notices.
		"INSERT INTO line_items (id, org_id, invoice_id, project_id, cluster_id, sku_id, day, quantity, unit_price_nanos, cents) SELECT '\\x00'::bytea, org_id, invoice_id, project_id, cluster_id, 999999, day, quantity, unit_price_nanos, 0 FROM line_items LIMIT 1",
	)
	lines, err := db.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The dangling SKU, the tampered cell, the cell the extra item would
	// belong to (its service unknown), the count (the extra item is not
	// counted), the total, the invoice's credits and its item counts.
	want := []string{"its SKU is missing", "holds", "missing, line items sum to", "usage state: counts", "usage state: total", "its line items sum to",
		"invoice item counts: they differ"}
	if len(lines) != len(want) {
		t.Fatalf("Verify found %d problems %q, want %d", len(lines), lines, len(want))
	}
	for _, w := range want {
		found := false
		for _, l := range lines {
			found = found || strings.Contains(l, w)
		}
		if !found {
			t.Fatalf("Verify = %q, want a line containing %q", lines, w)
		}
	}
}

func TestVerifyReportsBrokenReferences(t *testing.T) {
	// Each statement breaks the references of one line item (line items
	// carry no foreign keys; project and cluster 0 mean none).
	one := func(set, where string) string {
		return "UPDATE line_items SET " + set + " WHERE id = (SELECT id FROM line_items WHERE " + where + " ORDER BY id LIMIT 1)"
	}
	tests := []struct {
		name, stmt, want string
	}{
		{"missing organization", one("org_id = 999999", "TRUE"), "its organization is missing"},
		{"missing project", one("project_id = 999999", "project_id <> 0"), "its project is missing"},
		{"missing cluster", one("cluster_id = 999999", "cluster_id <> 0"), "its cluster is missing"},
		{"missing SKU", one("sku_id = 999999", "TRUE"), "its SKU is missing"},
		{"project of another organization", one("project_id = (SELECT p.id FROM projects p WHERE p.org_id <> line_items.org_id ORDER BY p.id LIMIT 1)", "project_id <> 0"),
			"its project belongs to another organization"},
		{"cluster without its project", one("project_id = 0", "cluster_id <> 0"), "its cluster belongs to another project"},
	}
	for _, tc := range tests {
		t.Run(tc.name+" is reported", func(t *testing.T) {
			dsn := pgtest.Schema(t)
			db := open(t, dsn, postgres.Options{})
			storetest.SmallData(t, db)
			rawExec(t, dsn, tc.stmt)
			lines, err := db.Verify(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, l := range lines {
				found = found || strings.Contains(l, tc.want)
			}
			if !found {
				t.Fatalf("Verify = %q, want a line containing %q", lines, tc.want)
			}
		})
	}
}

func TestCancelledContextPassesThrough(t *testing.T) {
	db := open(t, pgtest.Schema(t), postgres.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := db.IngestUsage(ctx, &costexplorer.UsageBatch{}); err != context.Canceled {
		t.Fatalf("IngestUsage with a cancelled context: %v, want context.Canceled", err)
	}
	if _, err := db.DataVersion(ctx); err != context.Canceled {
		t.Fatalf("DataVersion with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestUnreachableDatabaseIsUnavailable(t *testing.T) {
	// Port 1 on loopback: nothing listens, the connection is refused.
	_, err := postgres.Open(context.Background(), "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", postgres.Options{})
	if code := costexplorer.ErrorCode(err); code != costexplorer.ErrUnavailable {
		t.Fatalf("Open on a closed port: %v (code %q), want %s", err, code, costexplorer.ErrUnavailable)
	}
}

func TestTerminatedConnectionsAreUnavailableThenRecover(t *testing.T) {
	dsn := pgtest.Schema(t)
	u := mustParse(t, dsn)
	app := "terminate-" + u.Query().Get("search_path")
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	db := open(t, u.String(), postgres.Options{MaxConns: 2})
	ctx := context.Background()
	for range 2 {
		if _, err := db.DataVersion(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// pg_terminate_backend ends the store's connections (and only those) the
	// way a fast shutdown does: FATAL 57P01, administrator command.
	if n := rawInt(t, pgtest.URL(t), "SELECT COUNT(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '"+app+"'"); n == 0 {
		t.Fatal("no connection of the store was terminated")
	}
	// Each call either succeeds (the pool noticed the dead connection and
	// replaced it) or fails with ErrUnavailable; never anything else, and the
	// store recovers by itself.
	ok := 0
	for i := range 6 {
		_, err := db.DataVersion(ctx)
		switch code := costexplorer.ErrorCode(err); code {
		case "":
			ok++
		case costexplorer.ErrUnavailable:
			if ok > 0 {
				t.Fatalf("call %d failed (%v) after the store had recovered", i, err)
			}
		default:
			t.Fatalf("call %d after termination: %v (code %q), want success or %s", i, err, code, costexplorer.ErrUnavailable)
		}
	}
	if ok == 0 {
		t.Fatal("the store did not recover after its connections were terminated")
	}
}

func mustParse(t *testing.T, dsn string) *url.URL {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestStatementOfAVanishedClientEnds closes a connection of the store's pool
// under a long statement, as the kernel does when the process is killed: the
// server notices within seconds that its client is gone and ends the
// statement, and with it its transaction and the locks it holds (an
// import's ingest lock), instead of running it to its end first.
func TestStatementOfAVanishedClientEnds(t *testing.T) {
	db := open(t, pgtest.Schema(t), postgres.Options{})
	ctx := context.Background()
	conn, err := db.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pc := conn.Hijack().PgConn()
	pid := pc.PID()
	watch, err := pgx.Connect(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close(ctx)
	var version int
	if err := watch.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version < 140000 {
		t.Skipf("PostgreSQL %d has no client_connection_check_interval", version)
	}
	pc.Exec(ctx, "SELECT pg_sleep(120)") // sent; its result never read
	pc.Conn().Close()
	start := time.Now()
	for {
		var n int
		if err := watch.QueryRow(ctx, "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = $1", pid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Logf("backend %d ended %s after its client", pid, time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > 15*time.Second {
			t.Fatalf("backend %d still there %s after its client was gone", pid, time.Since(start).Round(time.Second))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
