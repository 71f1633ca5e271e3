#!/usr/bin/env bash
# Installs the npm packages of the JavaScript end-to-end tests (tests/e2e/node: the Azure SDK for
# JavaScript) exactly as its package-lock.json pins them, with `npm ci`. Idempotent and
# offline-safe: does nothing when node_modules already holds that lock file's packages.
set -euo pipefail
cd "$(dirname "$0")/../tests/e2e/node"
stamp=node_modules/.byok-package-lock.json
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then
  exit 0
fi
if ! command -v npm >/dev/null; then  # Debian's nodejs comes without npm (NodeSource's has it)
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends npm >&2
fi
echo "installing npm packages for tests/e2e/node (npm ci)" >&2
npm ci --no-audit --no-fund --loglevel=error >&2
cp package-lock.json "$stamp"
