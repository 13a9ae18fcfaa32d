package importer

import (
	"os"
	"testing"

	"github.com/costexplorer/costexplorer"
)

// BenchmarkParseFile parses the invoice CSV named by IMPORT_BENCH_FILE as
// Import does (streamed from the file, in chunks, occurrences counted in
// bounded memory) without a store, reporting rows/s: the parser's share of
// an import, and, run under /usr/bin/time, its peak memory. Skipped without
// the file.
//
//	IMPORT_BENCH_FILE=/tmp/invoice.csv go test ./internal/importer/ -run '^$' -bench ParseFile -benchtime 1x
func BenchmarkParseFile(b *testing.B) {
	path := os.Getenv("IMPORT_BENCH_FILE")
	if path == "" {
		b.Skip("IMPORT_BENCH_FILE not set")
	}
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
