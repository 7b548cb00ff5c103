#!/usr/bin/env bash
# A virtualenv at tests/sdk/python/.venv with requirements.txt installed, made or updated only when
# the requirements changed.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ] || ! cmp -s requirements.txt .venv/requirements.installed 2>/dev/null; then
  echo "setup: python venv in tests/sdk/python"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
  cp requirements.txt .venv/requirements.installed
fi
