// Package bench measures costexplorer against DuckDB on the reference
// workload of DESIGN §4: the demo generator's line items at 1 M, 5 M and 20 M,
// and the four reference queries Q1–Q4.
//
// It is a separate Go module so that the main build stays pure Go: DuckDB
// (github.com/duckdb/duckdb-go/v2) needs cgo and a large native library.
// The package holds what both the testing.B benchmarks (bench_test.go) and
// the driver behind scripts/bench.sh (cmd/benchrun) need: the dataset and its
// in-memory rollup, the reference queries as our query type, as request
// bodies and as SQL, a DuckDB loader and timer, a client for a server running
// as a child process, and the chart.
package bench
