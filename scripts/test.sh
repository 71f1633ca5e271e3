#!/usr/bin/env bash
# README command 2: install dependencies, build, and run every test:
#   1. clang-format check;
#   2. the release build: unit tests, fuzz-corpus replay and end-to-end tests (ctest, parallel);
#   3. an ASan+UBSan build: unit tests and corpus replay.
# Benchmarks and timed fuzzing are not part of this (see bench/ and scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="$(nproc)"
scripts/install-deps.sh
scripts/install-node-deps.sh  # the Azure SDK for JavaScript (tests/e2e/node)

echo "== format" >&2
scripts/check-format.sh

echo "== build (RelWithDebInfo)" >&2
scripts/build.sh build
echo "== tests: unit, corpus replay, end-to-end" >&2
(cd build && ctest -j"$jobs" --output-on-failure --timeout 900)

echo "== build (ASan+UBSan)" >&2
BYOK_BUILD_TYPE=Debug scripts/build.sh build-asan -DBYOK_SANITIZE=ON
echo "== tests under ASan+UBSan: unit, corpus replay" >&2
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest -j"$jobs" -LE e2e --output-on-failure --timeout 900)
echo "== all tests passed" >&2
