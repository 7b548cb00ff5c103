#!/usr/bin/env bash
# Publishing checks, run by .ci/run: the client's feature matrix builds, both published crates
# package (`cargo package` builds each packaged copy on its own, which is what `cargo publish
# --dry-run` checks too), and the emulator binary installs.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# Each feature alone (and the defaults, and none): a test target, doc link or example that only
# works because another feature is on fails here, not in a user's build.
step "each feature of each client crate on its own: tests and docs (cargo hack --each-feature)"
cargo hack --each-feature test -p passage-auth-client -p passage-management-client --locked
RUSTDOCFLAGS="-D warnings" cargo hack --each-feature doc --no-deps \
    -p passage-auth-client -p passage-management-client --locked

step "a default build of passage-auth-client pulls in neither axum nor tokio's fs or signal"
default_tree=$(cargo tree -p passage-auth-client -e normal -f '{p} {f}' --locked)
if grep -E '^[^a-z]*axum' <<<"$default_tree"; then
    echo "error: the default features pull in axum" >&2
    exit 1
fi
# reqwest's `stream` feature would bring tokio's `fs`: the runtime (runtime/src/response.rs)
# reads streamed bodies without it.
if cargo tree -p passage-auth-client -e features,normal -i tokio --locked | grep -E 'tokio feature "(fs|signal)"'; then
    echo "error: the default features pull in tokio's fs or signal" >&2
    exit 1
fi

step "cargo package: the runtime, the generated crates, the clients and the emulator (each packaged copy is built)"
# cargo verifies each packaged crate against the others' packaged copies through a local registry
# whose sources it extracts under the cargo home, and it reuses an extraction already there. Our
# crates keep their version between changes, so a machine that packaged them before would build
# against the old copies (a runtime without the items the new generated code calls): drop those.
cargo_home=${CARGO_HOME:-$HOME/.cargo}
for crate in passage-runtime passage-auth-api passage-management-api passage-auth-client \
    passage-management-client passage-emulator; do
    rm -rf "$cargo_home"/registry/src/-*/"$crate"-[0-9]*
done
cargo package -p passage-runtime -p passage-auth-api -p passage-management-api \
    -p passage-auth-client -p passage-management-client -p passage-emulator --locked --allow-dirty

# A debug install into the workspace's target dir reuses what the test build compiled;
# `cargo install` from the registry builds the same sources with the release profile.
step "cargo install of the emulator into a temporary root"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
cargo install --locked --debug --path emulator --root "$root" --target-dir target
"$root/bin/passage-emulator" --help | grep -q -- '--listen'
echo "installed: $root/bin/passage-emulator"
