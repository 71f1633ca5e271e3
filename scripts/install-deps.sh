#!/usr/bin/env bash
# Installs every Debian package byok needs to build, test and benchmark. Idempotent.
# Usage: scripts/install-deps.sh [--fuzz] [--bench]
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build pkg-config ccache clang-format git
  # libraries (see docs/ARCHITECTURE.md: Debian packages only)
  libssl-dev libsqlite3-dev libboost-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libprotobuf-dev libprotoc-dev
  # clients the tests drive
  openssl curl python3 python3-cryptography procps azure-cli
  qemu-utils libnbd-bin nbdkit nbdfuse fio fuse3  # NBD clients and peers (tests and bench/nbd)
  nodejs  # with npm: scripts/install-node-deps.sh installs the JavaScript SDK tests/e2e/node uses
)
for arg in "$@"; do
  case "$arg" in
    --fuzz) packages+=(clang-14 libclang-rt-14-dev) ;;
    --bench) packages+=(libbenchmark-dev wrk etcd-server etcd-client) ;;  # etcd: bench/kube.sh
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
echo "installing: ${missing[*]}" >&2
if ! $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; then
  $sudo apt-get update -q >&2
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi
