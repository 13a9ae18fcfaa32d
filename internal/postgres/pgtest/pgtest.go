// Package pgtest gives a test a PostgreSQL of its own: the server named by
// TEST_DATABASE_URL (the test is skipped without it; scripts/test.sh starts a
// throwaway cluster and sets it) and, in its database, a fresh schema per
// test, dropped with everything in it when the test ends, so that tests
// running side by side on one database share nothing. It is imported by
// tests only.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// URL returns TEST_DATABASE_URL, or skips t.
func URL(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("TEST_DATABASE_URL")
	if dsn == "" {
		t.Skip("TEST_DATABASE_URL is not set: skipping the PostgreSQL tests (scripts/test.sh starts a throwaway cluster and sets it)")
	}
	return dsn
}

// Schema creates an empty schema for t in the database of TEST_DATABASE_URL
// (skipping t without it), dropped when t ends, and returns a DSN whose
// connections use it. A store opened on that DSN must be closed before then:
// register its Close with t.Cleanup after calling Schema (cleanups run
// last-in first-out).
func Schema(t testing.TB) string {
	t.Helper()
	base := URL(t)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	admin := func(sql string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Fatalf("connect to TEST_DATABASE_URL: %v", err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	admin("CREATE SCHEMA " + schema)
	t.Cleanup(func() { admin("DROP SCHEMA " + schema + " CASCADE") })
	return withSearchPath(t, base, schema)
}

// withSearchPath returns dsn (a URL or keyword/value string) with its
// search_path set to schema.
func withSearchPath(t testing.TB, dsn, schema string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("TEST_DATABASE_URL: %v", err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}
