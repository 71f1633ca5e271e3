#!/usr/bin/env bash
# Timed coverage-guided fuzzing with libFuzzer (clang-14). Not part of the test command.
# Usage: scripts/fuzz.sh TARGET [SECONDS]    TARGET: a fuzz/TARGET_fuzz.cc (http_request, json_body,
#   resource_id, jwt, jwk, duration, nbd_request, disk_header, kube_path, kube_selector,
#   kube_patch, kube_protobuf). Only that target (and the libraries it links) is built.
# New interesting inputs are added to fuzz/corpus/TARGET; crashes land in build-fuzz/crashes/.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:?usage: scripts/fuzz.sh TARGET [SECONDS]}"
seconds="${2:-60}"
scripts/install-deps.sh --fuzz
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 -DBYOK_FUZZ=ON -DBYOK_SANITIZE=ON \
  -DBYOK_TESTS=OFF >&2
cmake --build build-fuzz -j"$(nproc)" --target "${target}_fuzz" >&2
mkdir -p build-fuzz/crashes build-fuzz/corpus-new/"$target"
build-fuzz/fuzz/"${target}"_fuzz -max_total_time="$seconds" -max_len=65536 \
  -artifact_prefix=build-fuzz/crashes/ build-fuzz/corpus-new/"$target" fuzz/corpus/"$target"
# Keep the corpus small: merge what is new into the checked-in corpus.
build-fuzz/fuzz/"${target}"_fuzz -merge=1 fuzz/corpus/"$target" build-fuzz/corpus-new/"$target"
