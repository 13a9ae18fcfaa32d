package focus

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/costexplorer/costexplorer/internal/postgres"
)

// TestExport_SameOnPostgreSQL exports the fixture from PostgreSQL and from
// SQLite: the files are identical once uncompressed, so the checker's
// verdict on one holds for the other. Skipped without TEST_DATABASE_URL.
func TestExport_SameOnPostgreSQL(t *testing.T) {
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		t.Skip("TEST_DATABASE_URL not set")
	}
	ctx := context.Background()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "focus_" + hex.EncodeToString(b)
	admin := func(sql string) {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	admin("CREATE SCHEMA " + schema)
	t.Cleanup(func() { admin("DROP SCHEMA " + schema + " CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	pg, err := postgres.Open(ctx, u.String(), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	if _, err := pg.IngestUsage(ctx, fixtureBatch()); err != nil {
		t.Fatal(err)
	}
	lite := fixtureStore(t)

	req := Request{OrgID: fxPaying, From: fxJan, To: fxFeb, Spec: Spec13, Format: CSV}
	fromPG, _ := export(t, pg, req)
	fromLite, _ := export(t, lite, req)
	if a, b := gunzip(t, fromPG), gunzip(t, fromLite); !bytes.Equal(a, b) {
		t.Errorf("PostgreSQL and SQLite exports differ:\n%s\n---\n%s", a, b)
	}
	tb := readBack(t, fromPG, CSV, &report{})
	if rep := check(tb, expect(t, pg, req)); len(rep.byRule) > 0 {
		t.Errorf("FOCUS rules broken:\n%s", rep)
	}
}

func gunzip(t *testing.T, data []byte) []byte {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(gz)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
