#!/usr/bin/env bash
# Import benchmark (issue 14, "Import of invoice CSVs"; issue 19, ingest):
# generates invoice CSVs of about 1 M and 10 M rows (the demo dataset, bare
# layout, tags as columns; scripts/gen-invoice-csv) and times
# `costexplorer import usage` into a fresh SQLite store (and a fresh
# PostgreSQL database when IMPORT_BENCH_PG is set), for this tree's binary
# and, in the same run, for main's (built from IMPORT_BENCH_MAIN, default
# /work/main). Each measurement is repeated IMPORT_BENCH_RUNS times (3; at
# 10 M, IMPORT_BENCH_RUNS_BIG, 1) and the medians are reported: wall time,
# rows/s, CPU time (user+sys) and peak RSS (/usr/bin/time's maximum resident
# set size, the VmHWM), and rows per CPU second. A re-import of the same file (every row a duplicate) is timed
# once per store (IMPORT_BENCH_REIMPORT=0: not). On a shared machine wall times vary with the load: the
# load average is printed beside each figure, and CPU time is the steadier one.
#
#   scripts/import-bench.sh
#   IMPORT_BENCH_SIZES=1000000 IMPORT_BENCH_RUNS=5 scripts/import-bench.sh
#   IMPORT_BENCH_PG=postgres://postgres@127.0.0.1:56106 scripts/import-bench.sh   # also PostgreSQL (database import_bench is recreated)
#
# COSTEXPLORER_IMPORT_CPUPROFILE=FILE in the environment makes each import
# write a CPU profile there (the last run's stays).
#
# Scratch files (about 2.5 GB at 10 M rows) go to IMPORT_BENCH_WORK, removed at
# the end unless given (then the CSVs are kept, and reused by the next run). The report goes to standard output and to
# IMPORT_BENCH_OUT when set.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

sizes=${IMPORT_BENCH_SIZES:-"1000000 10000000"}
runs=${IMPORT_BENCH_RUNS:-3}
runs_big=${IMPORT_BENCH_RUNS_BIG:-1}
main_dir=${IMPORT_BENCH_MAIN:-/work/main}
pg=${IMPORT_BENCH_PG:-}
work=${IMPORT_BENCH_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/import-bench.XXXXXX")}
mkdir -p "$work"
cleanup() { if [ -z "${IMPORT_BENCH_WORK:-}" ]; then rm -rf "$work"; fi; }
trap cleanup EXIT
[ -x /usr/bin/time ] || { echo "import-bench.sh: /usr/bin/time is needed (apt-get install time)" >&2; exit 1; }

echo "== building (this tree: $(git rev-parse --short HEAD); main: $main_dir)" >&2
go build -o "$work/costexplorer-new" ./cmd/costexplorer
go build -o "$work/gen-invoice-csv" ./scripts/gen-invoice-csv
binaries="new"
if [ -d "$main_dir" ]; then
  (cd "$main_dir" && go build -o "$work/costexplorer-main" ./cmd/costexplorer)
  binaries="main new"
  main_rev=$(git -C "$main_dir" rev-parse --short HEAD)
fi
stores="sqlite"
if [ -n "$pg" ]; then stores="sqlite postgres"; fi

# per N SECONDS: N per second, rounded.
per() { awk -v n="$1" -v s="$2" 'BEGIN {if (s > 0) printf "%.0f", n/s; else print "-"}'; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print "-"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# fresh STORE: prints the --db flag of an empty store.
fresh() {
  case $1 in
    sqlite) rm -rf "$work/data"; echo "sqlite://$work/data/costexplorer.db" ;;
    postgres)
      psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS import_bench" -c "CREATE DATABASE import_bench" >/dev/null
      echo "$pg/import_bench?sslmode=disable" ;;
  esac
}

# measure BIN DSN FILE: one import; prints "wall cpu rss_mb status load".
measure() {
  local out="$work/time.txt" status=ok
  /usr/bin/time -v "$work/costexplorer-$1" import usage --db "$2" "$3" >"$work/stdout.txt" 2>"$out" || status=failed
  local wall cpu rss load
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$out")
  cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u+s}' "$out")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$out")
  load=$(cut -d' ' -f1 /proc/loadavg)
  if [ "$status" = failed ]; then grep -v -e '^\s' "$out" | head -2 | sed 's/^/    /' >&2; fi
  echo "$wall $cpu $rss $status $load"
}

report="# Import benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')

Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average at start $(cut -d' ' -f1-3 /proc/loadavg) (shared).
This tree: $(git rev-parse --short HEAD); main: ${main_rev:-not built}. Medians of the runs shown; wall time includes opening the store.

| rows | store | importer | runs | wall s | rows/s | CPU s | rows/CPU-s | peak RSS MB | load | result |
| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
for size in $sizes; do
  csv="$work/invoice-$size.csv"
  if [ ! -s "$csv.rows" ]; then # a kept IMPORT_BENCH_WORK keeps its files
    echo "== generating $csv" >&2
    "$work/gen-invoice-csv" -rows "$size" -out "$csv" 2>"$work/gen.txt"
    grep -o '[0-9]* rows' "$work/gen.txt" | cut -d' ' -f1 >"$csv.rows"
  fi
  rows=$(cat "$csv.rows")
  echo "   $rows rows, $(du -m "$csv" | cut -f1) MB" >&2
  n=$runs
  if [ "$size" -ge 5000000 ]; then n=$runs_big; fi
  for store in $stores; do
    for bin in $binaries; do
      walls="" cpus="" rsss="" loads="" result=ok
      for i in $(seq "$n"); do
        dsn=$(fresh "$store")
        echo "== $rows rows, $store, $bin, run $i" >&2
        read -r wall cpu rss status load < <(measure "$bin" "$dsn" "$csv")
        echo "   wall ${wall}s cpu ${cpu}s rss ${rss}MB $status (load $load)" >&2
        walls+="$wall"$'\n' cpus+="$cpu"$'\n' rsss+="$rss"$'\n' loads+="$load"$'\n'
        if [ "$status" != ok ]; then result="failed: $(grep -v '^\s' "$work/time.txt" | head -1 | cut -c1-80)"; break; fi
      done
      w=$(printf '%s' "$walls" | median) c=$(printf '%s' "$cpus" | median) r=$(printf '%s' "$rsss" | median) l=$(printf '%s' "$loads" | median)
      rate="-" cpurate="-"
      if [ "$result" = ok ]; then rate=$(per "$rows" "$w") cpurate=$(per "$rows" "$c"); fi
      report+=$'\n'"| $rows | $store | $bin | $n | $w | $rate | $c | $cpurate | $r | $l | $result |"
      if [ "$bin" = new ] && [ "$result" = ok ] && [ "${IMPORT_BENCH_REIMPORT:-1}" = 1 ]; then
        echo "== $rows rows, $store, $bin, re-import" >&2
        read -r wall cpu rss status load < <(measure "$bin" "$dsn" "$csv")
        grep -q " 0 inserted, $rows duplicates" "$work/stdout.txt" || status="not a no-op: $(cat "$work/stdout.txt")"
        report+=$'\n'"| $rows | $store | new, re-import | 1 | $wall | $(per "$rows" "$wall") | $cpu | $(per "$rows" "$cpu") | $rss | $load | $status |"
      fi
    done
  done
  if [ -z "${IMPORT_BENCH_WORK:-}" ]; then rm -f "$csv" "$csv.rows"; fi
done
printf '%s\n' "$report"
if [ -n "${IMPORT_BENCH_OUT:-}" ]; then printf '%s\n' "$report" >"$IMPORT_BENCH_OUT"; fi
