#!/usr/bin/env bash
# Per-request cost of ARM token validation + RBAC check (bench/authz_bench.cc) with 10,000 role
# assignments in a temp SQLite store: ROUNDS runs (default 3) of every benchmark; prints per-round
# CPU µs per call and the medians.
# Usage: bench/authz.sh   (builds build-bench, Release, -DBYOK_BENCH=ON first)
#        Environment: ROUNDS, MIN_TIME (s per benchmark, default 1), FILTER (benchmark regex)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --bench
# -Wno-error=restrict: GCC 12's -O3 -Wrestrict false positive on std::string assignment.
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DBYOK_BENCH=ON -DBYOK_TESTS=OFF \
  -DCMAKE_CXX_FLAGS=-Wno-error=restrict >&2
cmake --build build-bench --target authz_bench >&2
rounds="${ROUNDS:-3}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for r in $(seq "$rounds"); do
  # CPU time (the machine is shared: wall time includes waiting for a core); the 2-thread case is
  # also reported in real time (per-call wall time with both threads running).
  build-bench/bench/authz_bench --benchmark_min_time="${MIN_TIME:-1}" \
    --benchmark_filter="${FILTER:-.}" --benchmark_format=json 2>/dev/null > "$work/$r.json"
  python3 - "$work/$r.json" "$r" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("round %s: " % sys.argv[2] + "; ".join(
    "%s %.2f" % (b["name"], b["cpu_time"]) for b in d["benchmarks"]))
PY
done
python3 - "$work" "$rounds" <<'PY'
import json, statistics, sys
runs = [json.load(open("%s/%d.json" % (sys.argv[1], r + 1)))["benchmarks"]
        for r in range(int(sys.argv[2]))]
print("median over %s rounds (µs per call):" % sys.argv[2])
print("%-48s %10s %10s" % ("benchmark", "cpu", "real"))
for i, b in enumerate(runs[0]):
    cpu = statistics.median(r[i]["cpu_time"] for r in runs)
    real = statistics.median(r[i]["real_time"] for r in runs)
    print("%-48s %10.2f %10.2f" % (b["name"], cpu, real))
PY
