package importer

import (
	"bytes"
	"os"
	"testing"

	"github.com/costexplorer/costexplorer"
)

// BenchmarkParseFile parses the invoice CSV named by IMPORT_BENCH_FILE as
// Import does (in chunks, occurrences counted in bounded memory) without a
// store, reporting rows/s: the parser's share of an import. Skipped without
// the file.
func BenchmarkParseFile(b *testing.B) {
	path := os.Getenv("IMPORT_BENCH_FILE")
	if path == "" {
		b.Skip("IMPORT_BENCH_FILE not set")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	rows := 0
	for b.Loop() {
		occ, err := newSpillCounter(0, int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		p := newParser("bench.csv", bytes.NewReader(data), occ)
		p.chunkRows = ChunkRows
		p.emit = func(*costexplorer.UsageBatch) error { return nil }
		if err := p.parse(); err != nil {
			b.Fatal(err)
		}
		occ.close()
		rows = p.rows
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
