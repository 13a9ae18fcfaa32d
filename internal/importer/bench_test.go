package importer

import (
	"bytes"
	"strconv"
	"testing"
)

// BenchmarkParse parses a 100,000-row invoice (one cluster charge a row,
// distinct days and clusters), reporting rows per second.
func BenchmarkParse(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(testHeader + "\n")
	const rows = 100_000
	for i := 0; i < rows; i++ {
		buf.WriteString(clusterRow(map[column]string{
			colUsageDate: "6/" + strconv.Itoa(1+i%28) + "/2024",
			colCluster:   "orders-eu-" + strconv.Itoa(i/28),
		}))
		buf.WriteByte('\n')
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("bench.csv", bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
