#!/usr/bin/env bash
# README command 1: install dependencies, build, and start byokd on the embedded default
# (data directory ~/.local/share/byok, TLS on 127.0.0.1:8443). Extra arguments go to byokd.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
BYOK_BUILD_TYPE=Release scripts/build.sh build-release -DBYOK_TESTS=OFF
exec build-release/byokd "$@"
