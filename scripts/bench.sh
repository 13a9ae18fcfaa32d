#!/usr/bin/env bash
# The benchmark run behind BENCHMARKS.md: on this machine, in one run, it
# generates the DESIGN §4 reference dataset at each size, loads it into the
# embedded SQLite store (and PostgreSQL when BENCH_PG_DSN is set), and into
# DuckDB; times Q1–Q4 on our engine, on DuckDB (raw line items and a rollup
# table) and end to end through a costexplorer server (a child process on
# 127.0.0.1); measures the server's throughput and peak memory, and GETs of
# ready results with wrk against the server and against nginx serving the
# same bytes (plain and gzip_static); and writes BENCHMARKS.md and
# docs/bench-chart.png.
#
#   scripts/bench.sh                                   # 20 M line items (about 10 minutes on 2 cores)
#   BENCH_SIZES="1000000 5000000 20000000" scripts/bench.sh
#   BENCH_SIZES="1000000 5000000 20000000 100000000" scripts/bench.sh   # the full run (~19 GB of scratch at 100 M)
#   BENCH_SIZES=200000 BENCH_OUT=/tmp/b.md BENCH_CHART=/tmp/b.png scripts/bench.sh   # a quick look
#   BENCH_PG_DSN=postgres://user@127.0.0.1:5432/db scripts/bench.sh   # also PostgreSQL (schema costexplorer_bench is recreated)
#   BENCH_PG_MAX=20000000 …                            # PostgreSQL only up to that size (its target is at 20 M)
#
# Every load test is bounded by a count and a duration and targets 127.0.0.1
# only. Scratch data (about 190 bytes per line item of the largest size: the
# SQLite store and DuckDB's layouts) goes to BENCH_WORK, removed at the end
# however the run ends. Needs Go and a C compiler (DuckDB is linked with cgo,
# in the separate module under bench/, so the main build stays pure Go);
# installs wrk and nginx from Debian's packages when they are missing
# (BENCH_NO_WRK=1: GETs measured by the Go load generator, no nginx anchor).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

sizes=${BENCH_SIZES:-20000000}
out=${BENCH_OUT:-$root/BENCHMARKS.md}
# The committed chart is written only with the committed report.
if [ "$out" = "$root/BENCHMARKS.md" ]; then chart=$root/docs/bench-chart.png; else chart=${out%.md}.png; fi
chart=${BENCH_CHART:-$chart}
# The raw figures (JSON) go beside the report; the committed report's beside it in bench/.
if [ "$out" = "$root/BENCHMARKS.md" ]; then results=$root/bench/results.json; else results=${out%.md}.json; fi
results=${BENCH_RESULTS:-$results}
work=${BENCH_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/costexplorer-bench.XXXXXX")}
mkdir -p "$work"
run_pid=
cleanup() {
  # The driver stops the server and nginx it starts (they also die with it);
  # if this script is stopped first, stop the driver.
  if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then
    kill -INT "$run_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$run_pid" 2>/dev/null || true
  fi
  if [ -z "${BENCH_WORK:-}" ]; then rm -rf "$work"; else rm -rf "$work/data"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
command -v gcc >/dev/null || command -v cc >/dev/null || { echo "bench.sh: a C compiler is needed for DuckDB (apt-get install gcc)" >&2; exit 1; }

# wrk (the load generator of the GET test) and nginx (its anchor), from Debian.
load_flags=()
if [ -z "${BENCH_NO_WRK:-}" ]; then
  pkgs=()
  command -v wrk >/dev/null || pkgs+=(wrk)
  need_nginx=
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need_nginx=1
  if [ ${#pkgs[@]} -gt 0 ] || [ -n "$need_nginx" ]; then
    as_root apt-get update -qq
    if [ -n "$need_nginx" ]; then
      # nginx-light (Debian 12) is the smallest build with gzip_static; later
      # releases ship only nginx.
      if apt-cache show nginx-light >/dev/null 2>&1; then pkgs+=(nginx-light); else pkgs+=(nginx); fi
    fi
    echo "== installing ${pkgs[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
    # The package may start its service on install; this run starts its own
    # nginx on a free loopback port, so stop the one just installed.
    if [ -n "$need_nginx" ] && [ -s /run/nginx.pid ] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
      as_root systemctl stop nginx 2>/dev/null || as_root service nginx stop 2>/dev/null || true
    fi
  fi
  wrk_bin=$(command -v wrk) || { echo "bench.sh: wrk is missing (BENCH_NO_WRK=1 to do without)" >&2; exit 1; }
  nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
  [ -x "$nginx_bin" ] || { echo "bench.sh: nginx is missing (BENCH_NO_WRK=1 to do without)" >&2; exit 1; }
  load_flags=(-wrk "$wrk_bin" -nginx "$nginx_bin")
fi

# Scratch space: about 190 bytes per line item of the largest size.
largest=$(printf '%s\n' $sizes | tr ',' '\n' | sort -n | tail -n 1)
need_mb=$(( largest * 190 / 1000000 ))
free_mb=$(df -Pm "$work" | awk 'NR == 2 { print $4 }')
if [ "$free_mb" -lt "$need_mb" ]; then
  echo "bench.sh: $largest line items need about $need_mb MB of scratch space; $work has $free_mb MB (set BENCH_WORK)" >&2
  exit 1
fi

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
  -pg-max "${BENCH_PG_MAX:-0}" \
  -notes bench/notes.md \
  "${load_flags[@]}" \
  ${BENCH_FLAGS:-} &
run_pid=$!
wait "$run_pid"
run_pid=
echo "== wrote $out, $chart and $results"
