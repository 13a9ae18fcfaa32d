package importer

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/postgres"
	"github.com/costexplorer/costexplorer/internal/postgres/pgtest"
)

// benchFile returns the invoice CSV named by IMPORT_BENCH_FILE
// (scripts/gen-invoice-csv writes one), skipping the benchmark without it.
func benchFile(b *testing.B) string {
	path := os.Getenv("IMPORT_BENCH_FILE")
	if path == "" {
		b.Skip("IMPORT_BENCH_FILE not set")
	}
	return path
}

// BenchmarkImportSQLite imports the invoice CSV named by IMPORT_BENCH_FILE
// into a fresh SQLite store per iteration, reporting rows/s. Run with
// -cpuprofile to see where an import's time goes:
//
//	IMPORT_BENCH_FILE=/tmp/invoice.csv go test ./internal/importer/ -run '^$' -bench ImportSQLite -benchtime 1x -cpuprofile cpu.out
func BenchmarkImportSQLite(b *testing.B) {
	benchImport(b, func(b *testing.B) costexplorer.UsageStore {
		db, _ := openStore(b)
		return db
	})
}

// BenchmarkImportPostgres is [BenchmarkImportSQLite] into a fresh schema of
// the PostgreSQL named by TEST_DATABASE_URL per iteration (skipped without
// it). The profile shows the importer's side only: the server's CPU time is
// its own process's.
func BenchmarkImportPostgres(b *testing.B) {
	pgtest.URL(b)
	benchImport(b, func(b *testing.B) costexplorer.UsageStore {
		db, err := postgres.Open(context.Background(), pgtest.Schema(b), postgres.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		return db
	})
}

// benchImport imports the file of IMPORT_BENCH_FILE into a store that open
// returns empty, once an iteration, reporting rows/s.
func benchImport(b *testing.B, open func(*testing.B) costexplorer.UsageStore) {
	data, err := os.ReadFile(benchFile(b))
	if err != nil {
		b.Fatal(err)
	}
	rows := bytes.Count(data, []byte{'\n'}) - 1
	for b.Loop() {
		b.StopTimer()
		db := open(b)
		b.StartTimer()
		if _, err := Import(context.Background(), db, "bench.csv", bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkParseFile parses the invoice CSV named by IMPORT_BENCH_FILE as
// Import does (streamed from the file, in chunks, occurrences counted in
// bounded memory) without a store, reporting rows/s: the parser's share of
// an import, and, run under /usr/bin/time, its peak memory.
//
//	IMPORT_BENCH_FILE=/tmp/invoice.csv go test ./internal/importer/ -run '^$' -bench ParseFile -benchtime 1x
func BenchmarkParseFile(b *testing.B) {
	path := benchFile(b)
	rows := 0
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		occ, err := newSpillCounter(0, fileSize(f))
		if err != nil {
			b.Fatal(err)
		}
		p := newParser("bench.csv", f, occ)
		p.chunkRows = ChunkRows
		p.emit = func(*costexplorer.UsageBatch) error { return nil }
		if err := p.parse(); err != nil {
			b.Fatal(err)
		}
		occ.close()
		f.Close()
		rows = p.rows
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
