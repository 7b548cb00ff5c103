#!/usr/bin/env bash
# The npm packages of the Node SDK suite and of the Passkey Flex browser case, exactly as
# package-lock.json pins them, installed into tests/sdk/node/node_modules when missing or when the
# lockfile changed since the last install (a copy of it is kept as node_modules/.installed-lock.json;
# npm's own node_modules/.package-lock.json never equals package-lock.json byte for byte).
set -euo pipefail
cd "$(dirname "$0")"
if ! cmp -s package-lock.json node_modules/.installed-lock.json 2>/dev/null; then
  echo "setup: npm ci in tests/sdk/node"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.installed-lock.json
fi
