#!/usr/bin/env bash
# HTTPS requests/s and p99 latency for a trivial route over keep-alive TLS, with wrk, for byokd and
# for nginx (the peer: same machine, same TLS curve P-256, same tiny JSON answer), alternating,
# ROUNDS rounds (default 3). Prints per-round numbers, medians and the ratio byokd/nginx.
# Usage: bench/http.sh    Environment: ROUNDS, DURATION (s, default 10), CONNECTIONS (default 32)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --bench
# BYOKD=path/to/byokd reuses an existing build; otherwise a Release build is made.
if [ -z "${BYOKD:-}" ]; then
  # -Wno-error=restrict: GCC 12's -O3 -Wrestrict false positive on std::string assignment.
  BYOK_BUILD_TYPE=Release scripts/build.sh build-release -DBYOK_TESTS=OFF \
    -DCMAKE_CXX_FLAGS=-Wno-error=restrict
  BYOKD=build-release/byokd
fi
rounds="${ROUNDS:-3}"; duration="${DURATION:-10}"; conns="${CONNECTIONS:-32}"
work=$(mktemp -d)
cleanup() { [ -n "${byokd_pid:-}" ] && kill "$byokd_pid" 2>/dev/null; [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$BYOKD" --data-dir "$work/byok" --listen 127.0.0.1:0 --log-level warn > "$work/byokd.out" 2>"$work/byokd.err" &
byokd_pid=$!
for _ in $(seq 100); do grep -q '^ca: ' "$work/byokd.out" 2>/dev/null && break; sleep 0.1; done
byok_port=$(sed -n 's/^listening on https:\/\/[^:]*:\([0-9]*\)$/\1/p' "$work/byokd.out")

source bench/lib.sh
nginx_start "$work" 2 '{"service":"nginx","version":"0"}'

measure() {  # url → "rps p99ms"
  wrk -t1 -c"$conns" -d"${duration}s" --latency "$1" | awk '
    /Requests\/sec/ {rps=$2}
    $1=="99%" {v=$2; if (v ~ /us$/) {sub("us","",v); v=v/1000} else if (v ~ /ms$/) {sub("ms","",v)} else if (v ~ /s$/) {sub("s","",v); v=v*1000}; p99=v}
    END {printf "%s %s\n", rps, p99}'
}
b_rps=(); b_p99=(); n_rps=(); n_p99=()
for r in $(seq "$rounds"); do
  read -r rps p99 < <(measure "https://127.0.0.1:$byok_port/_byok/status"); b_rps+=("$rps"); b_p99+=("$p99")
  read -r rps p99 < <(measure "https://127.0.0.1:$nginx_port/_byok/status"); n_rps+=("$rps"); n_p99+=("$p99")
  echo "round $r: byokd ${b_rps[-1]} req/s p99 ${b_p99[-1]} ms | nginx ${n_rps[-1]} req/s p99 ${n_p99[-1]} ms"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
br=$(median "${b_rps[@]}"); bp=$(median "${b_p99[@]}"); nr=$(median "${n_rps[@]}"); np=$(median "${n_p99[@]}")
echo "median: byokd $br req/s p99 $bp ms; nginx $nr req/s p99 $np ms (wrk -t1 -c$conns, ${duration}s, keep-alive TLS)"
awk -v a="$br" -v b="$nr" 'BEGIN { printf "ratio byokd/nginx requests/s: %.2f\n", a/b }'
