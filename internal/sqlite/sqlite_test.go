package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/sqlite"
	"github.com/costexplorer/costexplorer/internal/storetest"
)

// open opens a store on a new file in t's temporary directory.
func open(t testing.TB) (*sqlite.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "costexplorer.db")
	return openAt(t, path), path
}

// openAt opens a store on the file at path (another handle when it is
// open already, as another process would), closed when t ends.
func openAt(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) costexplorer.Store {
		db, _ := open(t)
		return db
	})
}

// rawInt runs a query returning one integer on the file, with a separate
// connection.
func rawInt(t *testing.T, path, q string) int64 {
	t.Helper()
	conn, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int64
	if err := conn.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// TestReopenKeepsDataAndMigratesOnce reopens a store twice: its data (the
// version and the stats) is kept, and migration 1 is recorded once.
func TestReopenKeepsDataAndMigratesOnce(t *testing.T) {
	db, path := open(t)
	storetest.SmallData(t, db)
	v1, err := db.DataVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	before, err := db.UsageStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	for range 2 {
		db, err := sqlite.Open(context.Background(), path, sqlite.Options{})
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		v, err := db.DataVersion(context.Background())
		if err != nil || v != v1 {
			t.Fatalf("after reopen DataVersion = %d, %v; want %d (data kept)", v, err, v1)
		}
		after, err := db.UsageStats(context.Background())
		db.Close()
		if err != nil || before != after || after.LineItems == 0 {
			t.Fatalf("stats after reopen %+v, %v; want %+v", after, err, before)
		}
	}
	if n := rawInt(t, path, "SELECT COUNT(*) FROM schema_migrations WHERE version = 1"); n != 1 {
		t.Fatalf("migration 1 recorded %d times, want once", n)
	}
	if n := rawInt(t, path, "SELECT COUNT(*) FROM services"); n != int64(len(costexplorer.Services)) {
		t.Fatalf("%d services, want %d", n, len(costexplorer.Services))
	}
}

// TestPageSizeOfNewAndExistingStores checks that Open creates a database
// with 16 KiB pages in WAL mode, and that a database SQLite created with its
// default 4 KiB pages (as stores were before) opens, migrates and takes
// data with its own page size, in WAL mode too.
func TestPageSizeOfNewAndExistingStores(t *testing.T) {
	_, path := open(t)
	if n := rawInt(t, path, "PRAGMA page_size"); n != 16384 {
		t.Errorf("new store: page size %d, want 16384", n)
	}
	old := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("PRAGMA page_size = 4096; CREATE TABLE before (x)"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	db := openAt(t, old)
	storetest.SmallData(t, db)
	if st, err := db.UsageStats(context.Background()); err != nil || st.LineItems == 0 {
		t.Fatalf("stats %+v, %v; want the small data", st, err)
	}
	if n := rawInt(t, old, "PRAGMA page_size"); n != 4096 {
		t.Errorf("existing store: page size %d, want its own 4096", n)
	}
	for _, p := range []string{path, old} {
		var mode string
		conn, err := sql.Open("sqlite", p)
		if err != nil {
			t.Fatal(err)
		}
		err = conn.QueryRow("PRAGMA journal_mode").Scan(&mode)
		conn.Close()
		if err != nil || mode != "wal" {
			t.Errorf("%s: journal mode %q, %v; want wal", filepath.Base(p), mode, err)
		}
	}
}

func TestConcurrentOpensMigrateOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	storetest.OpenConcurrently(t, 4, func() (io.Closer, error) {
		return sqlite.Open(context.Background(), path, sqlite.Options{})
	}, func(query string) int64 { return rawInt(t, path, query) })
}

func TestBackupOpensAndVerifies(t *testing.T) {
	db, _ := open(t)
	storetest.SmallData(t, db)
	dest := filepath.Join(t.TempDir(), "backups", "copy.db")
	if err := db.Backup(context.Background(), dest); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if err := db.Backup(context.Background(), dest); costexplorer.ErrorCode(err) != costexplorer.ErrConflict {
		t.Fatalf("Backup over an existing file: %v, want conflict", err)
	}
	cp, err := sqlite.Open(context.Background(), dest, sqlite.Options{})
	if err != nil {
		t.Fatalf("open backup: %v", err)
	}
	defer cp.Close()
	lines, err := cp.Verify(context.Background())
	if err != nil || len(lines) != 0 {
		t.Fatalf("Verify(backup) = %v, %v; want clean", lines, err)
	}
	want, _ := db.UsageStats(context.Background())
	got, _ := cp.UsageStats(context.Background())
	if got != want {
		t.Fatalf("backup stats %+v, want %+v", got, want)
	}
}

func TestVerifyReportsTampering(t *testing.T) {
	lines := verifyAfterTampering(t,
		"UPDATE rollup SET cents = cents + 1 WHERE (month, org_id, project_id, cluster_id, service) = (SELECT month, org_id, project_id, cluster_id, service FROM rollup LIMIT 1)",
		"UPDATE usage_state SET line_items = line_items + 1")
	if len(lines) != 2 {
		t.Fatalf("Verify found %d problems %q, want 2 (one rollup cell, the count)", len(lines), lines)
	}
}

func TestNonFiniteQuantityIsRefused(t *testing.T) {
	db, _ := open(t)
	o := costexplorer.Organization{ID: costexplorer.DeriveID("o"), Name: "O"}
	for _, q := range []float64{math.NaN(), math.Inf(1)} {
		_, err := db.IngestUsage(context.Background(), &costexplorer.UsageBatch{
			Organizations: []costexplorer.Organization{o},
			Items: []costexplorer.LineItem{{ID: costexplorer.NewLineItemID("x"), OrgID: o.ID, Service: costexplorer.ServiceSupport,
				SKU: "ATLAS_SUPPORT_PRO", Date: 20000, Quantity: q, Amount: 1}},
		})
		if costexplorer.ErrorCode(err) != costexplorer.ErrValidation {
			t.Fatalf("quantity %v: %v, want validation error", q, err)
		}
	}
}

func TestFinishAfterLapsedLeaseWithoutReclaimSucceeds(t *testing.T) {
	db, _ := open(t)
	ctx := context.Background()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	q := costexplorer.Query{OrgID: costexplorer.DeriveID("o"), Start: costexplorer.MonthOf(t0) - 1, End: costexplorer.MonthOf(t0)}
	p := &costexplorer.QueryProcess{Token: q.Token(1), OrgID: q.OrgID, Query: q, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if _, err := db.CreateProcess(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ClaimProcess(ctx, "a", t0, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishProcess(ctx, p.Token, "a", []byte("{}"), t0.Add(time.Minute)); err != nil {
		t.Fatalf("finish after the lease lapsed, nobody else claiming: %v", err)
	}
	if err := db.FinishProcess(ctx, (&costexplorer.Query{}).Token(9), "a", nil, t0); !costexplorer.IsNotFound(err) {
		t.Fatalf("finish of an unknown process: %v, want not found", err)
	}
}

func TestCancelledContextPassesThrough(t *testing.T) {
	db, _ := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := db.IngestUsage(ctx, &costexplorer.UsageBatch{})
	if err != context.Canceled {
		t.Fatalf("IngestUsage with a cancelled context: %v, want context.Canceled", err)
	}
}

// TestTwoHandlesShareOneFile opens the file twice, as two server processes
// would: separate pools whose writers meet only at SQLite's lock. Claims must
// still go to exactly one caller and concurrent ingests must not fail busy.
func TestTwoHandlesShareOneFile(t *testing.T) {
	a, path := open(t)
	b := openAt(t, path)
	ctx := context.Background()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	const processes = 30
	org := costexplorer.DeriveID("o")
	for i := range processes {
		q := costexplorer.Query{OrgID: org, Start: costexplorer.MonthOf(t0) - 1, End: costexplorer.MonthOf(t0)}
		p := &costexplorer.QueryProcess{Token: q.Token(int64(i)), OrgID: org, Query: q, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		if _, err := a.CreateProcess(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	d := storetest.NewDataset(9, storetest.Shape{Orgs: 2, ProjectsPerOrg: 2, ClustersPerProject: 2, Start: costexplorer.DayOf(t0), Days: 40})
	if _, err := a.IngestUsage(ctx, d.Dimensions()); err != nil {
		t.Fatal(err)
	}
	items := d.All()

	// Eight claimers and eight ingesters, alternating between the handles.
	var claims storetest.Claims
	storetest.AtOnce(t, 16, "two handles", func(i int) error {
		db := []*sqlite.DB{a, b}[i%2]
		if w := i - 8; w >= 0 {
			_, err := db.IngestUsage(ctx, &costexplorer.UsageBatch{Items: items[w*len(items)/8 : (w+1)*len(items)/8]})
			return err
		}
		return storetest.Drain(&claims, fmt.Sprintf("w%d", i), func(owner string) (*costexplorer.QueryProcess, error) {
			return db.ClaimProcess(ctx, owner, t0, time.Minute)
		}, func(p *costexplorer.QueryProcess) string { return p.Token })
	})
	claims.Check(t, "process", processes)
	st, err := b.UsageStats(ctx)
	if err != nil || st.LineItems != int64(len(items)) {
		t.Fatalf("stats %+v, %v; want %d line items", st, err, len(items))
	}
	if lines, err := a.Verify(ctx); err != nil || len(lines) != 0 {
		t.Fatalf("Verify = %v, %v", lines, err)
	}
}

func TestContextCancelledDuringScanPassesThrough(t *testing.T) {
	db, _ := open(t)
	storetest.SmallData(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := db.ScanLineItems(ctx, func(*costexplorer.LineItem) error {
		if n++; n == 10 {
			cancel()
		}
		return nil
	})
	if err != context.Canceled {
		t.Fatalf("ScanLineItems cancelled half-way: %v after %d items, want context.Canceled", err, n)
	}
}

// TestFilesArePrivate checks that the database, its WAL and a backup are
// readable by their owner only: they hold Digest hashes, which are enough to
// sign requests.
func TestFilesArePrivate(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "costexplorer.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateOrganization(ctx, &costexplorer.Organization{ID: "aaaaaaaaaaaaaaaaaaaaaaaa", Name: "A"}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]os.FileMode{dir: 0o700, path: 0o600, path + "-wal": 0o600} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", name, fi.Mode().Perm(), want)
		}
	}
	backup := filepath.Join(t.TempDir(), "b.db")
	if err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(backup); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}

	// A dangling symlink in the backup's place is refused, not followed.
	target := filepath.Join(t.TempDir(), "elsewhere.db")
	link := filepath.Join(t.TempDir(), "link.db")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := db.Backup(ctx, link); costexplorer.ErrorCode(err) != costexplorer.ErrConflict {
		t.Errorf("backup through a dangling symlink: %v, want a conflict", err)
	}
	if _, err := os.Lstat(target); err == nil {
		t.Error("the backup followed the symlink and created its target")
	}
}
