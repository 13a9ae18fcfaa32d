package importer

import (
	"bytes"
	"context"
	"os"
	"testing"
)

// BenchmarkImportSQLite imports the invoice CSV named by
// IMPORT_BENCH_FILE (scripts/gen-invoice-csv writes one) into a fresh
// SQLite store per iteration, reporting rows/s;
// skipped without the file. Run with -cpuprofile to see where an import's
// time goes:
//
//	IMPORT_BENCH_FILE=/tmp/invoice.csv go test ./internal/importer/ -run '^$' -bench ImportSQLite -benchtime 1x -cpuprofile cpu.out
func BenchmarkImportSQLite(b *testing.B) {
	path := os.Getenv("IMPORT_BENCH_FILE")
	if path == "" {
		b.Skip("IMPORT_BENCH_FILE not set")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	rows := bytes.Count(data, []byte{'\n'}) - 1
	for b.Loop() {
		b.StopTimer()
		db, _ := openStore(b)
		b.StartTimer()
		if _, err := Import(context.Background(), db, "bench.csv", bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
