#!/usr/bin/env bash
# Configures and builds byok. Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-build}"
shift || true
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="${BYOK_BUILD_TYPE:-RelWithDebInfo}" "$@" >&2
cmake --build "$dir" -j"$(nproc)" >&2
