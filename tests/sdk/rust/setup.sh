#!/usr/bin/env bash
# Builds the passage_flex step runner (tests/sdk/rust, its own workspace) exactly as Cargo.lock pins
# it, into tests/sdk/rust/target. Cargo rebuilds only what changed, so running this again is cheap.
# Needs OpenSSL's headers and pkg-config (passage_flex uses reqwest with native-tls).
set -euo pipefail
cd "$(dirname "$0")"
echo "setup: cargo build --locked in tests/sdk/rust"
cargo build --locked --quiet --manifest-path Cargo.toml --target-dir target
