#!/usr/bin/env bash
# XTS sector codec vs `openssl speed -evp aes-256-xts -bytes 4096`, alternating, 3 rounds each,
# in one run on this machine. Prints GiB/s per round, medians and the ratio byok/openssl.
# Usage: bench/xts.sh   (builds build-bench with -DBYOK_BENCH=ON first)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --bench
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DBYOK_BENCH=ON -DBYOK_TESTS=OFF >&2
cmake --build build-bench --target xts_bench >&2
rounds="${ROUNDS:-3}"
byok_enc=(); byok_dec=(); ossl_enc=(); ossl_dec=()
gib() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1073741824 }'; }
for r in $(seq "$rounds"); do
  json=$(build-bench/bench/xts_bench --benchmark_format=json 2>/dev/null)
  e=$(echo "$json" | python3 -c 'import json,sys; d=json.load(sys.stdin); print([b["bytes_per_second"] for b in d["benchmarks"] if b["name"].startswith("BM_XtsEncrypt")][0])')
  d=$(echo "$json" | python3 -c 'import json,sys; d=json.load(sys.stdin); print([b["bytes_per_second"] for b in d["benchmarks"] if b["name"].startswith("BM_XtsDecrypt")][0])')
  byok_enc+=("$(gib "$e")"); byok_dec+=("$(gib "$d")")
  # openssl speed prints bytes per second in thousands (k) for the block size column.
  oe=$(openssl speed -seconds 3 -evp aes-256-xts -bytes 4096 2>/dev/null | awk 'tolower($1)=="aes-256-xts" {sub("k","",$2); print $2*1000}')
  od=$(openssl speed -seconds 3 -decrypt -evp aes-256-xts -bytes 4096 2>/dev/null | awk 'tolower($1)=="aes-256-xts" {sub("k","",$2); print $2*1000}')
  ossl_enc+=("$(gib "$oe")"); ossl_dec+=("$(gib "$od")")
  echo "round $r: byok enc ${byok_enc[-1]} dec ${byok_dec[-1]} GiB/s | openssl enc ${ossl_enc[-1]} dec ${ossl_dec[-1]} GiB/s"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
be=$(median "${byok_enc[@]}"); bd=$(median "${byok_dec[@]}")
oe=$(median "${ossl_enc[@]}"); od=$(median "${ossl_dec[@]}")
echo "median: byok enc $be dec $bd GiB/s; openssl enc $oe dec $od GiB/s"
awk -v a="$be" -v b="$oe" -v c="$bd" -v d="$od" \
  'BEGIN { printf "ratio byok/openssl: encrypt %.0f%%, decrypt %.0f%%\n", 100*a/b, 100*c/d }'
