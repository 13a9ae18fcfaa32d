package sqlite_test

import (
	"testing"
	"time"

	"github.com/costexplorer/costexplorer/internal/cputime"
	"github.com/costexplorer/costexplorer/internal/storetest"
)

// BenchmarkIngestDemo streams the demo dataset (storetest.IngestDemo) into a
// fresh store each iteration and reports the rate and the CPU time inside
// IngestUsage only (not the generator) and the bytes on disk per line item.
// Run it with -benchtime=1x -ingest.demo=5000000 for the size of
// BENCHMARKS.md.
func BenchmarkIngestDemo(b *testing.B) {
	for range b.N {
		db, path := open(b)
		var elapsed, cpu time.Duration
		inserted := storetest.IngestDemo(b, db, func(ingest func()) {
			start, startCPU := time.Now(), cputime.Process()
			ingest()
			elapsed += time.Since(start)
			cpu += cputime.Process() - startCPU
		})
		b.ReportMetric(float64(inserted)/elapsed.Seconds(), "items/s")
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(max(inserted, 1)), "cpu-ns/item")
		reportStorage(b, db, path, inserted)
		storetest.ReportDailyBuild(b, db, inserted)
	}
}
