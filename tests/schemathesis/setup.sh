#!/usr/bin/env bash
# A virtualenv at tests/schemathesis/.venv with the pinned Schemathesis of requirements.txt (every
# package at an exact version, installed without resolving anything else), made or updated only
# when the requirements changed. The Schemathesis test (tests/conformance/tests/schemathesis.rs)
# runs it.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/schemathesis ] || ! cmp -s requirements.txt .venv/requirements.installed 2>/dev/null; then
  echo "setup: python venv with Schemathesis in tests/schemathesis"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check --no-deps -r requirements.txt
  cp requirements.txt .venv/requirements.installed
fi
