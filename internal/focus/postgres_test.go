package focus

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"testing"

	"github.com/costexplorer/costexplorer/internal/postgres"
	"github.com/costexplorer/costexplorer/internal/postgres/pgtest"
)

// TestExport_SameOnPostgreSQL exports the fixture from PostgreSQL and from
// SQLite: the files are identical once uncompressed, so the checker's
// verdict on one holds for the other. Skipped without TEST_DATABASE_URL.
func TestExport_SameOnPostgreSQL(t *testing.T) {
	dsn := pgtest.Schema(t)
	ctx := context.Background()
	pg, err := postgres.Open(ctx, dsn, postgres.Options{})
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
