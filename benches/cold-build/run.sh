#!/usr/bin/env bash
# Cold build of a hello-world against passage-auth-client (default features, this checkout)
# and against passage-auth 0.4.1 (crates.io), measured the same way, side by side.
#
#   bash benches/cold-build/run.sh [ROUNDS]     # default 3 rounds
#
# Each program builds a client and fetches an app's JWKS, with tokio (macros, rt-multi-thread).
# Dependencies are fetched first (the only network step); then, in each round and in alternating
# order, `cargo build --offline` (dev profile) runs into an empty target directory. Printed per
# build: wall-clock time, CPU time (user + sys of cargo and every rustc) and the crates compiled;
# at the end the medians and their ratio. Wall time moves with the machine's load; CPU time much less.
set -euo pipefail
rounds=${1:-3}
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/cold-build.XXXXXX)
trap 'rm -rf "$work"' EXIT

main_rs='#[tokio::main]
async fn main() {
    match SDK_CALL {
        Ok(n) => println!("{n} keys"),
        Err(e) => println!("error: {e}"),
    }
}'
mkdir -p "$work/ours/src" "$work/theirs/src"
cat > "$work/ours/Cargo.toml" <<TOML
[package]
name = "hello-passage-auth-client"
version = "0.0.0"
edition = "2021"
publish = false
[dependencies]
passage-auth-client = { path = "$repo/clients/auth" }
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
[workspace]
TOML
cat > "$work/theirs/Cargo.toml" <<TOML
[package]
name = "hello-passage-auth"
version = "0.0.0"
edition = "2021"
publish = false
[dependencies]
passage-auth = "=0.4.1"
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
[workspace]
TOML
ours_call='async {
        let client = passage_auth_client::ClientBuilder::new().build().map_err(|e| e.to_string())?;
        let jwks = client.get_jwks().app_id("my-app-id").send().await.map_err(|e| e.to_string())?;
        Ok::<_, String>(jwks.into_inner().keys.len())
    }.await'
theirs_call='async {
        let passage = passage_auth::Passage::new();
        let jwks = passage.jwks().get_jwks().await.map_err(|e| e.to_string())?;
        Ok::<_, String>(jwks.keys.len())
    }.await'
printf '%s\n' "${main_rs/SDK_CALL/$ours_call}" > "$work/ours/src/main.rs"
printf '%s\n' "${main_rs/SDK_CALL/$theirs_call}" > "$work/theirs/src/main.rs"

for side in ours theirs; do
  (cd "$work/$side" && cargo fetch -q)
done

build() {
  local side=$1
  rm -rf "$work/target-$side"
  local start end cpu
  start=$(date +%s.%N)
  # CPU time of cargo and its children, from /proc (no external `time` needed).
  cpu=$( { cd "$work/$side" && CARGO_TARGET_DIR="$work/target-$side" CARGO_INCREMENTAL=0 \
      bash -c 'cargo build --offline 2> "$1"; times' _ "$work/build-$side.log"; } | tail -1)
  end=$(date +%s.%N)
  local wall compiled user sys
  wall=$(echo "$end - $start" | bc)
  compiled=$(grep -c '^ *Compiling ' "$work/build-$side.log" || true)
  # `times` prints children's user and sys as e.g. "1m2.345s 0m3.210s".
  read -r user sys <<<"$cpu"
  to_s() { echo "$1" | sed -E 's/([0-9]+)m([0-9.]+)s/\1*60+\2/' | bc; }
  local cpu_s
  cpu_s=$(echo "$(to_s "$user") + $(to_s "$sys")" | bc)
  printf '%s\t%.1f\t%.1f\t%s\t%s\n' "$side" "$wall" "$cpu_s" "$compiled" "$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$work/results.tsv"
}

printf 'side\twall_s\tcpu_s\tcrates\tload\n'
for round in $(seq 1 "$rounds"); do
  if (( round % 2 )); then build ours; build theirs; else build theirs; build ours; fi
done

python3 - "$work/results.tsv" <<'PY'
import statistics, sys
rows = [l.split('\t') for l in open(sys.argv[1]).read().split('\n') if l]
def med(side, col):
    return statistics.median(float(r[col]) for r in rows if r[0] == side)
crates = {r[0]: r[3] for r in rows}
print(f"median wall: ours {med('ours',1):.1f} s, theirs {med('theirs',1):.1f} s, ratio {med('ours',1)/med('theirs',1):.2f}x")
print(f"median CPU:  ours {med('ours',2):.1f} s, theirs {med('theirs',2):.1f} s, ratio {med('ours',2)/med('theirs',2):.2f}x")
print(f"crates compiled: ours {crates['ours']}, theirs {crates['theirs']}")
# The figures `cargo xtask bench` collects and checks (goal: both ratios <= 1.0x).
import json
for key, col, what in [
    ("cold_build.wall", 1, "Cold `cargo build` (dev) of a hello-world with `passage-auth-client` (default features) vs `passage-auth` 0.4.1: wall time, median of the rounds"),
    ("cold_build.cpu", 2, "Same, CPU time (cargo and every rustc)"),
]:
    ratio = med('ours', col) / med('theirs', col)
    print("BENCH-RESULT " + json.dumps({
        "key": key,
        "what": what,
        "measured": f"{ratio:.2f}x ({med('ours', col):.1f} s vs {med('theirs', col):.1f} s; {crates['ours']} vs {crates['theirs']} crates; {len(rows) // 2} rounds)",
        "value": ratio,
        "bound": "passage-auth 0.4.1",
        "goal": {"op": "<=", "limit": 1.0, "unit": "x"},
    }))
PY
