#!/usr/bin/env bash
# The benchmark run behind BENCHMARKS.md: on this machine, in one run, it
# generates the DESIGN §4 reference dataset at each size, loads it into the
# embedded SQLite store (and PostgreSQL when BENCH_PG_DSN is set), and into
# DuckDB; times Q1–Q4 on our engine, on DuckDB (raw line items and a rollup
# table) and end to end through a costexplorer server (a child process on
# 127.0.0.1); measures the server's throughput and peak memory; and writes
# BENCHMARKS.md and docs/bench-chart.png.
#
#   scripts/bench.sh                                   # 20 M line items (about 10 minutes on 2 cores)
#   BENCH_SIZES="1000000 5000000 20000000" scripts/bench.sh
#   BENCH_SIZES=200000 BENCH_OUT=/tmp/b.md BENCH_CHART=/tmp/b.png scripts/bench.sh   # a quick look
#   BENCH_PG_DSN=postgres://user@127.0.0.1:5432/db scripts/bench.sh   # also PostgreSQL (schema costexplorer_bench is recreated)
#
# Every load test is bounded by a count and a duration and targets 127.0.0.1
# only. Scratch data (up to a few GB at 20 M) goes to BENCH_WORK, removed at
# the end. Needs Go and a C compiler (DuckDB is linked with cgo, in the
# separate module under bench/, so the main build stays pure Go).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

sizes=${BENCH_SIZES:-20000000}
out=${BENCH_OUT:-$root/BENCHMARKS.md}
chart=${BENCH_CHART:-$root/docs/bench-chart.png}
# The raw figures (JSON) go beside the report; the committed report's beside it in bench/.
if [ "$out" = "$root/BENCHMARKS.md" ]; then results=$root/bench/results.json; else results=${out%.md}.json; fi
results=${BENCH_RESULTS:-$results}
work=${BENCH_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/costexplorer-bench.XXXXXX")}
mkdir -p "$work"
cleanup() { if [ -z "${BENCH_WORK:-}" ]; then rm -rf "$work"; fi; }
trap cleanup EXIT

command -v gcc >/dev/null || command -v cc >/dev/null || { echo "bench.sh: a C compiler is needed for DuckDB (apt-get install gcc)" >&2; exit 1; }

echo "== building costexplorer and the benchmark driver"
go build -o "$work/costexplorer" ./cmd/costexplorer
tags=()
if [ -n "${BENCH_PG_DSN:-}" ]; then
  if [ -f internal/postgres/postgres.go ]; then
    tags=(-tags postgres)
  else
    echo "bench.sh: internal/postgres does not exist yet: PostgreSQL is skipped" >&2
  fi
fi
(cd bench && CGO_ENABLED=1 go build "${tags[@]}" -o "$work/benchrun" ./cmd/benchrun)

echo "== running (sizes: $sizes; scratch: $work)"
"$work/benchrun" \
  -sizes "$sizes" \
  -work "$work/data" \
  -bin "$work/costexplorer" \
  -out "$out" \
  -chart "$chart" \
  -results "$results" \
  -pg-dsn "${BENCH_PG_DSN:-}" \
  -notes bench/notes.md \
  ${BENCH_FLAGS:-}
echo "== wrote $out, $chart and $results"
