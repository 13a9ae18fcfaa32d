#!/usr/bin/env bash
# wirespeed.sh: how fast a ready result leaves the server (issue 19, item 1).
#
# Starts `costexplorer demo` on 127.0.0.1 (the demo data is generated once
# and kept in WIRESPEED_DATA), creates two results of the reference sizes —
# "Q1" about 129 KB of JSON and "Q2" about 1.1 MB (groupBy clusters over 18
# months, the number of clusters chosen to reach the size) — and measures GET
# of each with wrk (2 threads, 8 keep-alive connections, Bearer token) as
# JSON, CSV and ?envelope=true, each without and with Accept-Encoding: gzip.
# Beside each of our runs, in the same minute, nginx serves the same bytes
# from a temporary docroot (plain, and with gzip_static from the gzip bytes
# our server sent): the anchor. Every figure is the median of WIRESPEED_RUNS
# runs; the ratio is our median over nginx's.
#
#   scripts/wirespeed.sh                          # 2 M line items, 3 runs of 10 s per figure (~13 min)
#   WIRESPEED_SIZE=5000000 scripts/wirespeed.sh
#   WIRESPEED_RUNS=1 WIRESPEED_DURATION=3s WIRESPEED_FORMS=json scripts/wirespeed.sh   # a quick look
#   WIRESPEED_LATENCY=1 scripts/wirespeed.sh      # also Q2 end to end, one query at a time (p50/p99)
#   WIRESPEED_LATENCY=1 WIRESPEED_RESULTS= scripts/wirespeed.sh   # only that
#
# The demo data directory is kept for the next run (about 120 MB at 2 M line
# items, plus the results of the last 10 minutes); remove it when done.
# Loopback only, every load bounded by its duration. Needs wrk and nginx
# (Debian: apt-get install wrk nginx-light), jq and curl.
set -euo pipefail

# The whole script is one function, read before it runs: editing the file
# while a run is going does not change that run.
main() {
cd "$(dirname "$0")/.."
root=$(pwd)

size=${WIRESPEED_SIZE:-2000000}
data=${WIRESPEED_DATA:-${TMPDIR:-/tmp}/costexplorer-wirespeed-$size}
port=${WIRESPEED_PORT:-18519}
nginx_port=${WIRESPEED_NGINX_PORT:-18520}
duration=${WIRESPEED_DURATION:-10s}
runs=${WIRESPEED_RUNS:-3}
forms=${WIRESPEED_FORMS:-json csv envelope}
encodings=${WIRESPEED_ENCODINGS:-identity gzip}
results=${WIRESPEED_RESULTS-Q1 Q2}
latency=${WIRESPEED_LATENCY:-}

for tool in wrk nginx jq curl; do
  command -v $tool >/dev/null || [ -x /usr/sbin/$tool ] || { echo "wirespeed.sh: $tool is needed" >&2; exit 1; }
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d "${TMPDIR:-/tmp}/costexplorer-wirespeed.XXXXXX")
server_pid= nginx_started=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "$nginx_started" ] && [ -f "$work/nginx/nginx.pid" ]; then kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

bin=${WIRESPEED_BIN:-}
if [ -z "$bin" ]; then
  echo "== building costexplorer" >&2
  go build -o "$work/costexplorer" ./cmd/costexplorer
  bin=$work/costexplorer
fi

echo "== starting the demo server ($size line items in $data; generated on first start)" >&2
"$bin" demo --size "$size" --data-dir "$data" --addr "127.0.0.1:$port" \
  --rate-limit-capacity 1000000000 --rate-limit-refill 1000000000 --log-level warn \
  --result-ttl 10m >"$work/server.log" 2>&1 & # results (600 MB per latency run) are not kept long
server_pid=$!
for _ in $(seq 1 1200); do
  grep -q 'Press Ctrl-C' "$work/server.log" && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.5
done
base=http://127.0.0.1:$port
org=$(sed -n 's/.*organization: .*(\([0-9a-f]\{24\}\)).*/\1/p' "$work/server.log")
client_id=$(sed -n 's/.*client id \([^ ]*\) .*/\1/p' "$work/server.log")
secret=$(sed -n 's/.*client id [^ ]* *secret \([^ ]*\) .*/\1/p' "$work/server.log")
token=$(curl -sf -u "$client_id:$secret" -d grant_type=client_credentials "$base/api/oauth/token" | jq -r .access_token)
auth="Authorization: Bearer $token"
json="Accept: application/vnd.atlas.2023-01-01+json"
csv="Accept: application/vnd.atlas.2023-01-01+csv"
usage=$base/api/atlas/v2/orgs/$org/billing/costExplorer/usage

# create BODY: the token of a ready result of BODY.
create() {
  local tok
  tok=$(curl -sf -H "$auth" -H "$json" -H "Content-Type: application/json" -X POST "$usage" -d "$1" | jq -r .token)
  for _ in $(seq 1 200); do
    if curl -sf -H "$auth" -H "$json" "$usage/$tok?envelope=true" | jq -e '.status == 200' >/dev/null; then
      echo "$tok"; return
    fi
    sleep 0.1
  done
  echo "wirespeed.sh: query $1 not ready" >&2; exit 1
}

end=$(date -u -d "$(date -u +%Y-%m-01) +1 month" +%F)
start=$(date -u -d "$end -18 months" +%F)
last=$(date -u -d "$end -1 month" +%F)
# The clusters of the organization (and its linked ones) in the last month.
clusters=$(curl -sf -H "$auth" -H "$json" "$usage/$(create "{\"startDate\":\"$last\",\"endDate\":\"$end\"}")" |
  jq -r '[.usageDetails[] | select(.clusterId) | .clusterId] | unique | .[]')
nclusters=$(echo "$clusters" | wc -l)

# clusterlist N: the JSON list of the first N clusters.
clusterlist() { echo "$clusters" | head -n "$1" | jq -R . | jq -sc .; }
# result TARGET_BYTES: "TOKEN N", the token of an 18-month groupBy clusters
# result of N clusters, about TARGET_BYTES of JSON.
result() {
  local n=16 used tok bytes
  for _ in 1 2 3; do
    used=$n
    tok=$(create "{\"startDate\":\"$start\",\"endDate\":\"$end\",\"groupBy\":\"clusters\",\"clusters\":$(clusterlist $n)}")
    bytes=$(curl -sf -H "$auth" -H "$json" "$usage/$tok" | wc -c)
    n=$(( n * $1 / bytes )); [ $n -lt 1 ] && n=1; [ $n -gt "$nclusters" ] && n=$nclusters
  done
  echo "$tok $used"
}

mkdir -p "$work/nginx/root" "$work/nginx/tmp"
chmod 755 "$work" "$work/nginx" "$work/nginx/root" # nginx's workers run as an unprivileged user
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000000;
  client_body_temp_path $work/nginx/tmp;
  proxy_temp_path $work/nginx/tmp;
  fastcgi_temp_path $work/nginx/tmp;
  uwsgi_temp_path $work/nginx/tmp;
  scgi_temp_path $work/nginx/tmp;
  types { }
  default_type application/json;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/nginx/root;
    gzip_static on;
    gzip_vary on;
  }
}
EOF
"$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log"
nginx_started=1

# wrkrun URL HEADER…: "rate p50 p99" of one wrk run.
wrkrun() {
  local url=$1; shift
  local hdr=() h
  for h in "$@"; do hdr+=(-H "$h"); done
  wrk -t2 -c8 -d"$duration" --latency "${hdr[@]}" "$url" | awk '
    function ms(s) { if (s ~ /us$/) return s / 1000; if (s ~ /ms$/) return s + 0; if (s ~ /s$/) return s * 1000; if (s ~ /m$/) return s * 60000; return s }
    /Requests\/sec/ {rate=$2}
    /^ +50%/ {p50=ms($2)} /^ +99%/ {p99=ms($2)}
    /Non-2xx/ {bad=$NF}
    END {if (bad) print "wirespeed.sh: non-2xx answers: " bad > "/dev/stderr"; print rate, p50, p99}'
}
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

[ -n "$results" ] && printf '\n%s line items (%s), wrk -t2 -c8 -d%s, median of %s runs; nginx in the same minute\n\n' "$size" "$(nproc) CPUs" "$duration" "$runs"
[ -n "$results" ] && echo "| result | form | encoding | body bytes | ours req/s | nginx req/s | ours ÷ nginx | ours p50 / p99 ms | nginx p50 / p99 ms |"
[ -n "$results" ] && echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for q in $results; do
  case $q in Q1) target=132000 ;; Q2) target=1150000 ;; *) echo "unknown result $q" >&2; exit 1 ;; esac
  read -r tok n < <(result $target)
  for form in $forms; do
    url=$usage/$tok accept=$json
    case $form in csv) accept=$csv ;; envelope) url=$url?envelope=true ;; esac
    file=$work/nginx/root/$q-$form
    curl -sf -H "$auth" -H "$accept" "$url" -o "$file"
    # gzip_static sends the .gz beside the file: our server's gzip bytes
    # (built from a result's second ask on, in the background), else gzip -6
    # of the plain bytes.
    for _ in $(seq 1 50); do
      curl -sf -H "$auth" -H "$accept" -H "Accept-Encoding: gzip" -D "$work/h" "$url" -o "$file.gz"
      grep -qi '^content-encoding: *gzip' "$work/h" && break
      sleep 0.1
    done
    if ! grep -qi '^content-encoding: *gzip' "$work/h"; then gzip -6 -c "$file" >"$file.gz"; fi
    cmp -s "$file" <(gzip -dc "$file.gz") || { echo "wirespeed.sh: $q $form: the gzip body is not the plain one compressed" >&2; exit 1; }
    for enc in $encodings; do
      ae=() bytes=$(stat -c %s "$file")
      if [ "$enc" = gzip ]; then ae=("Accept-Encoding: gzip"); bytes=$(stat -c %s "$file.gz"); fi
      : >"$work/ours"; : >"$work/theirs"
      for _ in $(seq 1 "$runs"); do
        wrkrun "$url" "$auth" "$accept" "${ae[@]}" >>"$work/ours"
        wrkrun "http://127.0.0.1:$nginx_port/$q-$form" "${ae[@]}" >>"$work/theirs"
      done
      o=$(cut -d' ' -f1 "$work/ours" | median) t=$(cut -d' ' -f1 "$work/theirs" | median)
      op50=$(cut -d' ' -f2 "$work/ours" | sort -g | sed -n "$(( (runs+1)/2 ))p")
      op99=$(cut -d' ' -f3 "$work/ours" | sort -g | sed -n "$(( (runs+1)/2 ))p")
      tp50=$(cut -d' ' -f2 "$work/theirs" | sort -g | sed -n "$(( (runs+1)/2 ))p")
      tp99=$(cut -d' ' -f3 "$work/theirs" | sort -g | sed -n "$(( (runs+1)/2 ))p")
      printf '| %s | %s | %s | %s | %.0f | %.0f | %.2f | %s / %s | %s / %s |\n' "$q" "$form" "$enc" "$bytes" "$o" "$t" \
        "$(echo "$o $t" | awk '{print $1/$2}')" "$op50" "$op99" "$tp50" "$tp99"
    done
  done
done

if [ -n "$latency" ]; then
  # Q2 end to end, one query at a time (scripts/e2elatency): each query is
  # the Q2-size one with one more cluster id that matches nothing.
  read -r _ n < <(result 1150000)
  list=$(clusterlist "$n")
  body="{\"startDate\":\"$start\",\"endDate\":\"$end\",\"groupBy\":\"clusters\",\"clusters\":${list%]},\"%s\"]}"
  go build -o "$work/e2elatency" ./scripts/e2elatency
  printf '\nQ2 size end to end (POST, poll with ?envelope=true, read; one at a time, %s queries per run):\n\n' "${WIRESPEED_LATENCY_N:-200}"
  for _ in $(seq 1 "$runs"); do
    E2E_BEARER=$token "$work/e2elatency" -url "$usage" -body "$body" -n "${WIRESPEED_LATENCY_N:-200}"
  done
fi
}
main "$@"; exit $?
