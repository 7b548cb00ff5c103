#!/usr/bin/env bash
# The npm packages of the Node SDK suite, exactly as package-lock.json pins them, installed into
# tests/sdk/node/node_modules when missing or out of date.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.package-lock.json 2>/dev/null; then
  echo "setup: npm ci in tests/sdk/node"
  npm ci --no-audit --no-fund --loglevel=error
fi
