#!/usr/bin/env bash
# Authenticated ARM reads with wrk: `GET /subscriptions/{s}/resourcegroups/{rg}?api-version=
# 2021-04-01` with a bearer token (RS256 validation + RBAC check + store read + JSON per request),
# against two peers in the same run, alternating, ROUNDS rounds (default 3):
#   - byokd's unauthenticated `GET /_byok/status` (what bench/http.sh measures): the HTTP floor;
#   - nginx (2 workers, same P-256 TLS) answering a static JSON string.
# byokd runs in a fresh temp data dir; the token comes from its token endpoint with the bootstrap
# credentials (<data-dir>/credentials.json) and the resource group is created with curl first.
# Prints per-round req/s and p99, medians and the ratios.
# Usage: bench/arm_get.sh    Environment: ROUNDS, DURATION (s, default 10), CONNECTIONS (default
# 32), BYOKD=path/to/byokd (reuse a build; otherwise a Release byokd is built in build-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --bench
if [ -z "${BYOKD:-}" ]; then
  # -Wno-error=restrict: GCC 12's -O3 -Wrestrict false positive on std::string assignment.
  cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DBYOK_BENCH=ON -DBYOK_TESTS=OFF \
    -DCMAKE_CXX_FLAGS=-Wno-error=restrict >&2
  cmake --build build-bench --target byokd >&2
  BYOKD=build-bench/byokd
fi
rounds="${ROUNDS:-3}"; duration="${DURATION:-10}"; conns="${CONNECTIONS:-32}"
work=$(mktemp -d)
cleanup() { [ -n "${byokd_pid:-}" ] && kill "$byokd_pid" 2>/dev/null; [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$BYOKD" --data-dir "$work/byok" --listen 127.0.0.1:0 --log-level warn > "$work/byokd.out" 2>"$work/byokd.err" &
byokd_pid=$!
for _ in $(seq 100); do grep -q '^ca: ' "$work/byokd.out" 2>/dev/null && break; sleep 0.1; done
byok_port=$(sed -n 's/^listening on https:\/\/[^:]*:\([0-9]*\)$/\1/p' "$work/byokd.out")
ca=$(sed -n 's/^ca: //p' "$work/byokd.out")
base="https://127.0.0.1:$byok_port"

# The bootstrap principal's token (ARM audience) and one resource group. Secrets reach curl
# through pipes (printf is a builtin), never on a command line.
cred() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]], end="")' "$work/byok/credentials.json" "$1"; }
sub=$(cred subscription)
BYOK_TOKEN=$(cred password | curl -sS --fail --cacert "$ca" "$base/adfs/oauth2/token" \
  --data-urlencode grant_type=client_credentials --data-urlencode "client_id=$(cred appId)" \
  --data-urlencode client_secret@- \
  --data-urlencode "scope=https://management.core.windows.net//.default" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
export BYOK_TOKEN
rg_path="/subscriptions/$sub/resourcegroups/bench-rg?api-version=2021-04-01"
arm() { curl -sS --fail --cacert "$ca" -H @<(printf 'Authorization: Bearer %s\n' "$BYOK_TOKEN") "$@"; }
arm -X PUT -H 'Content-Type: application/json' -d '{"location":"westeurope"}' "$base$rg_path" >/dev/null
arm "$base$rg_path" >/dev/null  # 200, or stop here

source bench/lib.sh
nginx_start "$work" 2 '{"service":"nginx","version":"0"}'

measure() {  # url [wrk args...] → "rps p99ms"; stops if any answer was not 2xx/3xx
  local url=$1; shift
  wrk -t1 -c"$conns" -d"${duration}s" --latency "$@" "$url" | awk '
    /Requests\/sec/ {rps=$2}
    /Non-2xx or 3xx responses/ {bad=$NF}
    $1=="99%" {v=$2; if (v ~ /us$/) {sub("us","",v); v=v/1000} else if (v ~ /ms$/) {sub("ms","",v)} else if (v ~ /s$/) {sub("s","",v); v=v*1000}; p99=v}
    END {if (bad > 0) {print "error: " bad " non-2xx answers" > "/dev/stderr"; exit 1}; printf "%s %s\n", rps, p99}'
}
a_rps=(); a_p99=(); s_rps=(); s_p99=(); n_rps=(); n_p99=()
for r in $(seq "$rounds"); do
  out=$(measure "$base$rg_path" -s bench/arm_get.lua); read -r rps p99 <<<"$out"; a_rps+=("$rps"); a_p99+=("$p99")
  out=$(measure "$base/_byok/status"); read -r rps p99 <<<"$out"; s_rps+=("$rps"); s_p99+=("$p99")
  out=$(measure "https://127.0.0.1:$nginx_port/_byok/status"); read -r rps p99 <<<"$out"; n_rps+=("$rps"); n_p99+=("$p99")
  echo "round $r: ARM GET rg ${a_rps[-1]} req/s p99 ${a_p99[-1]} ms | byokd status ${s_rps[-1]} req/s p99 ${s_p99[-1]} ms | nginx ${n_rps[-1]} req/s p99 ${n_p99[-1]} ms"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ar=$(median "${a_rps[@]}"); ap=$(median "${a_p99[@]}")
sr=$(median "${s_rps[@]}"); sp=$(median "${s_p99[@]}")
nr=$(median "${n_rps[@]}"); np=$(median "${n_p99[@]}")
echo "median: ARM GET rg $ar req/s p99 $ap ms; byokd status $sr req/s p99 $sp ms; nginx $nr req/s p99 $np ms (wrk -t1 -c$conns, ${duration}s, keep-alive TLS)"
awk -v a="$ar" -v s="$sr" -v n="$nr" 'BEGIN { printf "ratio requests/s: ARM GET/status %.2f, ARM GET/nginx %.2f, status/nginx %.2f\n", a/s, a/n, s/n }'
