#!/usr/bin/env bash
# Lints every spec of spec/crates.toml with two independent OpenAPI tools, so that
# every 3.0.3 tool reads the specs the same way:
#   - Spectral with the `spectral:oas` ruleset
#   - Redocly CLI with the `recommended` ruleset
# Fails on any error; warnings are printed (the 302-only operations are
# documented warnings: they declare no 2xx answer on purpose).
#
# The two CLIs are installed with npm into .ci/.npm (git-ignored) the first
# time, and reused afterwards. Set SPEC_LINT_NPM_DIR to use another directory.
set -euo pipefail
cd "$(dirname "$0")/.."

SPECS=$(sed -n 's/^spec = "\(.*\)"$/\1/p' spec/crates.toml)
PREFIX="${SPEC_LINT_NPM_DIR:-.ci/.npm}"
SPECTRAL_VERSION=6.16.3
REDOCLY_VERSION=2.77.0

bin="$PREFIX/node_modules/.bin"
if [[ ! -x "$bin/spectral" || ! -x "$bin/redocly" ]]; then
  echo "installing @stoplight/spectral-cli@$SPECTRAL_VERSION and @redocly/cli@$REDOCLY_VERSION into $PREFIX"
  mkdir -p "$PREFIX"
  npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error \
    "@stoplight/spectral-cli@$SPECTRAL_VERSION" "@redocly/cli@$REDOCLY_VERSION" >&2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo 'extends: ["spectral:oas"]' >"$tmp/.spectral.yaml"
printf 'extends:\n  - recommended\n' >"$tmp/redocly.yaml"

status=0
for SPEC in $SPECS; do
  echo "==> spectral lint (spectral:oas) $SPEC"
  # --fail-severity error: warnings are shown but do not fail.
  "$bin/spectral" lint --ruleset "$tmp/.spectral.yaml" --fail-severity error "$SPEC" || status=1

  echo "==> redocly lint (recommended) $SPEC"
  REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
    "$bin/redocly" lint --config "$tmp/redocly.yaml" --format stylish "$SPEC" || status=1
done

if [[ $status -ne 0 ]]; then
  echo "spec lint: errors found (see above)" >&2
fi
exit $status
