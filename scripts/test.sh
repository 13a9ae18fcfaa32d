#!/usr/bin/env bash
# The test command: installs and starts what the tests need (PostgreSQL from
# Debian's packages, Chromium for the browser test), runs gofmt, go vet, the
# whole test suite against SQLite and PostgreSQL, the tiny benchmarks and short
# fuzzing, then stops what it started. Safe to run on a fresh machine as root
# or as a user with sudo; nothing it starts outlives it.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

# --- PostgreSQL: a throwaway cluster on loopback, as an unprivileged user ---
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
  log "installing PostgreSQL"
  apt_install postgresql
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
pg_user=postgres
id "$pg_user" >/dev/null 2>&1 || as_root useradd --system --no-create-home "$pg_user"
pg_dir=$(mktemp -d /tmp/costexplorer-pg.XXXXXX)
chmod 755 "$pg_dir"
pg_port=${PG_PORT:-55432}
if [ -z "${PG_PORT:-}" ]; then # the default taken (another cluster on this machine): the next free port
  while (exec 3<>"/dev/tcp/127.0.0.1/$pg_port") 2>/dev/null; do pg_port=$((pg_port + 1)); done
fi
run_pg() { if [ "$(id -u)" -eq 0 ]; then su -s /bin/sh "$pg_user" -c "$*"; else sh -c "$*"; fi; }
if [ "$(id -u)" -eq 0 ]; then chown "$pg_user" "$pg_dir"; fi
stop_pg() {
  run_pg "'$pg_bin/pg_ctl' -D '$pg_dir/data' -m immediate stop" >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
}
trap stop_pg EXIT
log "starting PostgreSQL on 127.0.0.1:$pg_port"
run_pg "'$pg_bin/initdb' -D '$pg_dir/data' -U postgres -A trust --no-sync" >/dev/null
run_pg "'$pg_bin/pg_ctl' -D '$pg_dir/data' -l '$pg_dir/log' -w -o \"-c listen_addresses=127.0.0.1 -p $pg_port -k '$pg_dir' -c fsync=off -c max_connections=200\" start" >/dev/null
"$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres costexplorer_test
export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/costexplorer_test?sslmode=disable"
export COSTEXPLORER_PG_BIN="$pg_bin" COSTEXPLORER_PG_DATA="$pg_dir/data" COSTEXPLORER_PG_USER="$pg_user"

# --- Chromium for the browser test ---
if ! command -v chromium >/dev/null 2>&1; then
  log "installing Chromium"
  apt_install chromium chromium-driver
fi
export COSTEXPLORER_CHROMIUM=$(command -v chromium)

# --- wrk and nginx for the benchmark module's load-generator test ---
if ! command -v wrk >/dev/null 2>&1 || ! { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; }; then
  log "installing wrk and nginx"
  apt_install wrk nginx-light || apt_install wrk nginx
fi

# quiet runs a command, showing its output only if it fails.
quiet() {
  local out
  out=$(mktemp)
  if ! "$@" >"$out" 2>&1; then cat "$out"; rm -f "$out"; return 1; fi
  rm -f "$out"
}

log "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change:"; echo "$unformatted"; exit 1; fi

log "go vet"
go vet ./...

log "go test (SQLite and PostgreSQL)"
go test -count=1 -timeout 15m ./...

log "benchmarks, once each at a tiny size"
quiet go test -count=1 -run '^$' -bench . -benchtime=1x -short ./...

log "benchmark module (DuckDB comparison, cgo), once at a tiny size"
# A separate module, so the main build stays pure Go; -mod=mod because its
# go.sum may lag a dependency the main module just gained.
(cd bench && quiet go test -mod=mod -short -run . -bench . -benchtime=1x ./...)

log "official Atlas Go SDK against the server (clienttest module)"
# A separate module, so the main module never depends on the SDK; -mod=mod
# as for bench. It builds the costexplorer binary and runs `costexplorer
# demo` on loopback itself.
(cd clienttest && go vet -mod=mod ./... && go test -mod=mod -count=1 ./...)

log "fuzzing, briefly"
# A count, not a duration: Go 1.26's fuzz coordinator can fail a run with a
# bare "context deadline exceeded" when a -fuzztime duration expires while
# a worker is busy (go.dev/issue/75804, fixed in Go 1.27); a count has no
# deadline. 20,000 executions take 1–25 s per target here.
fuzztime=${FUZZTIME:-20000x}
grep -rH --include='*_test.go' -o '^func Fuzz[A-Za-z0-9_]*' . | sed 's/:func / /' | sort -u |
while read -r file target; do
  pkg=$(dirname "$file")
  quiet go test -run '^$' -fuzz "^$target\$" -fuzztime "$fuzztime" "$pkg"
  echo "fuzzed $target ($pkg) for $fuzztime"
done

log "all tests passed"
