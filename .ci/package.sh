#!/usr/bin/env bash
# Publishing checks, run by .ci/run: the client's feature matrix builds, both published crates
# package (their packaged copies build on their own), and the emulator binary installs.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

cargo_hack() {
    if ! command -v cargo-hack >/dev/null 2>&1; then
        cargo install --locked cargo-hack
    fi
    cargo hack "$@"
}

step "every feature of passage-auth-client builds on its own (cargo hack --each-feature)"
cargo_hack --each-feature check -p passage-auth-client --locked

step "a default build of passage-auth-client pulls in neither axum nor tokio's fs or signal"
default_tree=$(cargo tree -p passage-auth-client -e normal -f '{p} {f}' --locked)
if grep -E '^[^a-z]*axum' <<<"$default_tree"; then
    echo "error: the default features pull in axum" >&2
    exit 1
fi
# tokio's `fs` comes only through reqwest's `stream` feature, which progenitor-client requires;
# the client itself asks for none of it (see generated/Cargo.toml).
if cargo tree -p passage-auth-client -e features,normal -i tokio --locked | grep -E 'tokio feature "signal"'; then
    echo "error: the default features pull in tokio's signal" >&2
    exit 1
fi

step "cargo package: passage-auth-client and passage-emulator (each packaged copy is built)"
cargo package -p passage-auth-client -p passage-emulator --locked --allow-dirty

step "cargo publish --dry-run"
cargo publish --dry-run -p passage-auth-client --locked --allow-dirty
cargo publish --dry-run -p passage-emulator --locked --allow-dirty

step "cargo install of the emulator into a temporary root"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
cargo install --locked --path emulator --root "$root"
"$root/bin/passage-emulator" --help | grep -q -- '--listen'
echo "installed: $root/bin/passage-emulator"
