#!/usr/bin/env bash
# Sync benchmark (issue 15): a source `costexplorer demo` of the default
# size (SYNC_BENCH_SIZE, 300,000 line items) on loopback, and fresh targets
# that `costexplorer sync` fills from it with the demo's owner API key. It
# times, SYNC_BENCH_RUNS times each (3), and reports the medians of:
#   - the first sync of an empty target;
#   - the same with --exact-order (line-item searches read too);
#   - a second sync with the source unchanged (the pending invoices only);
#   - a daily sync after the source advanced a day (`demo --now` the next
#     day: a new day on the pending invoices, recent days restated);
# wall time, CPU time (user+sys) of the sync and of the source while it
# served it, line items, requests (the sync counts them) and peak RSS. The
# source's rate limit is raised out of the way (the runs follow each other
# far faster than Atlas's 100 requests a minute per organization would
# allow; the request counts say what a run costs there). The machine's load
# average is printed beside each figure: on a shared machine wall times move
# with it.
#
# SYNC_BENCH_FIRST_ONLY=1 times the first sync alone (a large source, where
# the other runs would add little but time); SYNC_BENCH_SOURCE_DIR keeps the
# source's data directory there, so that a large demo is generated once for
# several runs of the script (it is advanced a day unless the first sync
# alone is timed). COSTEXPLORER_SYNC_CPUPROFILE=FILE in the environment
# makes each sync write its CPU profile there (the last run's is kept).
#
#   scripts/sync-bench.sh
#   SYNC_BENCH_RUNS=5 SYNC_BENCH_SIZE=1000000 scripts/sync-bench.sh
#   SYNC_BENCH_SIZE=5000000 SYNC_BENCH_FIRST_ONLY=1 SYNC_BENCH_SOURCE_DIR=/tmp/src5m scripts/sync-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
size=${SYNC_BENCH_SIZE:-300000}
runs=${SYNC_BENCH_RUNS:-3}
day0=${SYNC_BENCH_DAY:-2026-12-06}
day1=$(date -u -d "$day0 + 1 day" +%F)
work=$(mktemp -d "${TMPDIR:-/tmp}/costexplorer-sync-bench.XXXXXX")
first_only=${SYNC_BENCH_FIRST_ONLY:-}
src_dir=${SYNC_BENCH_SOURCE_DIR:-$work/src}
src_pid=
cleanup() {
  if [ -n "$src_pid" ]; then kill -INT "$src_pid" 2>/dev/null || true; wait "$src_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

bin=$work/costexplorer
go build -o "$bin" ./cmd/costexplorer
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port

# start_source DAY: serves the demo data as of DAY (generated on the first
# start, advanced to DAY on a later one).
start_source() {
  "$bin" demo --data-dir "$src_dir" --addr "127.0.0.1:$port" --size "$size" --now "$1" --log-level warn \
    --rate-limit-capacity 1000000 --rate-limit-refill 1000000 >"$work/src.out" 2>"$work/src.err" &
  src_pid=$!
  for _ in $(seq 600); do
    curl -sf "$url/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$src_pid" 2>/dev/null || { cat "$work/src.err" >&2; exit 1; }
    sleep 0.2
  done
  echo "sync-bench: the source did not start" >&2; exit 1
}
stop_source() { kill -INT "$src_pid"; wait "$src_pid" || true; src_pid=; }

echo "== source: demo of about $size line items as of $day0 at $url"
start_source "$day0"
python3 - "$src_dir/demo-credentials.json" "$work" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
open(sys.argv[2] + "/key", "w").write(c["privateKey"])
open(sys.argv[2] + "/public", "w").write(c["publicKey"])
PY
public=$(cat "$work/public")

# src_cpu: CPU seconds (user+sys) the source has used so far.
src_cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14+$15)/hz}' "/proc/$src_pid/stat"; }

# sync DIR [flags…]: one sync into DIR; prints
# "seconds items requests rss_kb load sync_cpu source_cpu".
sync_once() {
  local dir=$1; shift
  local load; load=$(cut -d' ' -f1 /proc/loadavg)
  local before; before=$(src_cpu)
  /usr/bin/time -f '%e %M %U %S' -o "$work/time" "$bin" sync --source "$url" --public-key "$public" \
    --private-key-file "$work/key" --data-dir "$dir" "$@" >"$work/sync.out" 2>"$work/sync.err" || {
    cat "$work/sync.out" "$work/sync.err" >&2; exit 1; }
  local line; line=$(tail -1 "$work/sync.out")
  local items requests
  items=$(sed -E 's/.* ([0-9]+) items.*/\1/' <<<"$line")
  requests=$(sed -E 's/.* ([0-9]+) requests.*/\1/' <<<"$line")
  read -r secs rss user sys <"$work/time"
  echo "$secs $items $requests $rss $load $(awk "BEGIN {print $user + $sys}") $(awk "BEGIN {print $(src_cpu) - $before}")"
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }

declare -A results
measure() { # NAME: reads lines of sync_once from stdin
  local name=$1 all; all=$(cat)
  results[$name]="$(awk '{print $1}' <<<"$all" | median) s | $(awk '{print $6}' <<<"$all" | median) s | $(awk '{print $7}' <<<"$all" | median) s | $(awk '{print $2}' <<<"$all" | median) | $(awk '{print $3}' <<<"$all" | median) | $(( $(awk '{print $4}' <<<"$all" | median | cut -d. -f1) / 1024 )) MB | $(awk '{print $5}' <<<"$all" | tr '\n' ' ')"
  echo "$name: ${results[$name]}"
}

table_head() {
  cat <<MD

| sync ($(nproc) CPUs, $(date -u '+%F %H:%M UTC'), commit $(git -C "$root" rev-parse --short HEAD)) | median wall | sync CPU | source CPU | line items | requests | peak RSS | load average at each run |
| --- | --- | --- | --- | --- | --- | --- | --- |
MD
}

# measure reads from a process substitution, not a pipe: it runs in this
# shell, so results keeps what it records.
measure "first sync" < <(for i in $(seq "$runs"); do sync_once "$work/dst-$i"; done)
if [ -n "$first_only" ]; then
  table_head
  echo "| first sync | ${results["first sync"]} |"
  exit 0
fi
measure "first sync, --exact-order" < <(for i in $(seq "$runs"); do sync_once "$work/exact-$i" --exact-order; done)
measure "second sync, source unchanged" < <(for i in $(seq "$runs"); do sync_once "$work/dst-$i"; done)
stop_source
echo "== advancing the source to $day1"
start_source "$day1"
measure "daily sync (source a day later)" < <(for i in $(seq "$runs"); do sync_once "$work/dst-$i"; done)
measure "daily sync, --exact-order" < <(for i in $(seq "$runs"); do sync_once "$work/exact-$i" --exact-order; done)

table_head
cat <<MD
| first sync | ${results["first sync"]} |
| first sync, --exact-order | ${results["first sync, --exact-order"]} |
| second sync, source unchanged | ${results["second sync, source unchanged"]} |
| daily sync (source a day later) | ${results["daily sync (source a day later)"]} |
| daily sync, --exact-order | ${results["daily sync, --exact-order"]} |
MD
