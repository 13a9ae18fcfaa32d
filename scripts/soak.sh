#!/usr/bin/env bash
# The long soak: the mixed-client load test of cmd/costexplorer
# (TestSoakMixedClients) for as long as you ask, on 127.0.0.1 only.
#
#   scripts/soak.sh [DURATION] [MAX_REQUESTS]
#
# DURATION is a Go duration (default 10m); MAX_REQUESTS bounds the run too
# (default 50 million). Two HTTP Digest and two service-account clients,
# three workers each, create queries, poll and fetch them (JSON and CSV),
# list and read organizations, and run into the rate limiter. The run fails
# on any 5xx, transport error or 429 without Retry-After, and on goroutine,
# file-descriptor or heap growth after the run. It prints the requests per
# second it held, every tenth of the run (at most every 10 s), and the
# totals. go test runs without its own deadline: the test bounds itself to
# DURATION plus its start-up and the checks after the run (under two minutes).
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${1:-10m}
max_requests=${2:-50000000}
case "$duration" in
  *[0-9]h|*[0-9]m|*[0-9]s|*[0-9]ms) ;;
  *) echo "soak.sh: $duration is not a Go duration (e.g. 90s, 10m, 2h)" >&2; exit 2 ;;
esac
echo "soak: ${duration} or ${max_requests} requests, whichever comes first"
COSTEXPLORER_SOAK_DURATION="$duration" COSTEXPLORER_SOAK_MAX_REQUESTS="$max_requests" \
  go test -count=1 -run '^TestSoakMixedClients$' -v -timeout 0 ./cmd/costexplorer/ |
  grep -E 'soak|^(--- |ok|FAIL|PASS)'
