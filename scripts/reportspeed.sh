#!/usr/bin/env bash
# reportspeed.sh: how soon an invoice report of the default demo is ready
# (issue 16: ≤ 2 s after creation).
#
# Starts `costexplorer demo` (default size, data kept in REPORTSPEED_DATA) on
# 127.0.0.1, picks the paying organization's invoice with the largest amount
# billed, and runs scripts/reportspeed: REPORTSPEED_RUNS reports created one
# at a time, each polled every 5 ms until SUCCEEDED (the time from the POST
# to the first SUCCEEDED answer), its file downloaded, and beside each a
# download of the same invoice's CSV. Loopback only; each loop is bounded.
#
#   scripts/reportspeed.sh
#   REPORTSPEED_RUNS=15 REPORTSPEED_SIZE=1000000 scripts/reportspeed.sh
set -euo pipefail

main() {
cd "$(dirname "$0")/.."
size=${REPORTSPEED_SIZE:-300000}
runs=${REPORTSPEED_RUNS:-9}
port=${REPORTSPEED_PORT:-18531}
data=${REPORTSPEED_DATA:-${TMPDIR:-/tmp}/costexplorer-reportspeed-$size}
scratch=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$scratch"' EXIT

go build -o "$scratch/costexplorer" ./cmd/costexplorer
mkdir -p "$data"
"$scratch/costexplorer" demo --size "$size" --data-dir "$data" --addr "127.0.0.1:$port" --log-level error >"$scratch/log" 2>&1 &
pid=$!
base=http://127.0.0.1:$port
for _ in $(seq 600); do curl -fs "$base/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
org=$(jq -r .orgId "$data/demo-credentials.json")
token=$(curl -fs -u "$(jq -r .clientId "$data/demo-credentials.json"):$(jq -r .clientSecret "$data/demo-credentials.json")" \
  -d grant_type=client_credentials "$base/api/oauth/token" | jq -r .access_token)
inv=$(curl -fs -H "Authorization: Bearer $token" -H "Accept: application/vnd.atlas.2023-01-01+json" \
  "$base/api/atlas/v2/orgs/$org/invoices?viewLinkedInvoices=false" | jq -r '.results | max_by(.amountBilledCents) | .id')
rows=$(curl -fs -H "Authorization: Bearer $token" -H "Accept: application/vnd.atlas.2023-01-01+csv" \
  "$base/api/atlas/v2/orgs/$org/invoices/$inv/csv" | wc -l)
echo "demo $size line items, invoice $inv (about $((rows - 7)) line items); runs $runs; load average $(cut -d' ' -f1-3 /proc/loadavg); nproc $(nproc)"
go run ./scripts/reportspeed -base "$base" -creds "$data/demo-credentials.json" -invoice "$inv" -n "$runs"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
}
main "$@"
