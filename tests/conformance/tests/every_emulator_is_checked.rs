//! No test reaches an emulator around the spec-conformance check: every Rust file of the workspace
//! is searched for the ways to start one, and only the files listed here, each with its reason,
//! may use them. Everything else starts its emulator with `CheckedEmulator::start` (or through the
//! `passage-e2e` harness, which does). The list is kept exact: an entry whose file no longer uses
//! the way it is listed for fails too.

use std::path::{Path, PathBuf};

/// The ways to get a running emulator other than `CheckedEmulator::start`.
const WAYS: &[&str] = &[
    // In-process, without the recorder and the check.
    "Emulator::start(",
    // The examples' own start (for `cargo run --example`), unchecked.
    "Target::emulated(",
    // The binary, in another process: its answers are not recorded.
    "CARGO_BIN_EXE_passage-emulator",
];

/// (file, way, reason): the only places that may use a way of [`WAYS`].
const ALLOWED: &[(&str, &str, &str)] = &[
    (
        "tests/conformance/src/checked.rs",
        "Emulator::start(",
        "the checked start itself",
    ),
    (
        "tests/conformance/tests/schemathesis.rs",
        "Emulator::start(",
        "Schemathesis judges every answer with its own checks (status, schema, content type, \
         headers), and its probes of unsupported methods go to no operation on purpose",
    ),
    (
        "examples/src/target.rs",
        "Emulator::start(",
        "`Target::emulated`, the examples' start when a user runs them (their tests use \
         `Target::with_emulator` on a checked emulator)",
    ),
    (
        "benches/benches/persistence.rs",
        "Emulator::start(",
        "a measurement: recording every answer would change what it measures",
    ),
    (
        "benches/benches/session_refresh.rs",
        "Emulator::start(",
        "a measurement: recording every answer would change what it measures",
    ),
    (
        "benches/benches/soak.rs",
        "Emulator::start(",
        "a measurement: recording every answer would change what it measures",
    ),
    (
        "benches/src/client_calls.rs",
        "Emulator::start(",
        "a measurement: recording every answer would change what it measures",
    ),
    (
        "tests/crypto-provider/tests/backends.rs",
        "Emulator::start(",
        "a user's crate in its own workspace: depending on the test crates would change the \
         feature set it proves",
    ),
    (
        "emulator/tests/serving.rs",
        "CARGO_BIN_EXE_passage-emulator",
        "the command line: `--help`, `--version`, and a SIGTERM stop of the binary (one GET of \
         the app, whose answer the in-process tests check)",
    ),
    (
        "emulator/tests/state_file_crash.rs",
        "CARGO_BIN_EXE_passage-emulator",
        "the binary is killed mid-write to test crash recovery of the state file, which an \
         in-process emulator cannot show",
    ),
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.rs` file under `dir`, build output and the emulator's own sources left out.
fn rust_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let relative = path.strip_prefix(root).expect("under the root");
        let skipped = [
            "target",
            ".git",
            "emulator/src",
            "generated",
            "node_modules",
            ".venv",
        ]
        .iter()
        .any(|s| relative == Path::new(s))
            || relative
                .file_name()
                .is_some_and(|n| n == "target" || n == ".venv");
        if skipped {
            continue;
        }
        if path.is_dir() {
            rust_files(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether `text` uses `way` as itself (`Emulator::start(` is not `CheckedEmulator::start(`).
fn uses(text: &str, way: &str) -> bool {
    text.match_indices(way).any(|(at, _)| {
        !text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

#[test]
fn every_test_starts_its_emulator_through_the_check() {
    let root = workspace_root();
    let mut files = Vec::new();
    rust_files(&root, &root, &mut files);
    assert!(
        files.len() > 50,
        "the search found only {} files under {}",
        files.len(),
        root.display()
    );
    let this_file = Path::new("tests/conformance/tests/every_emulator_is_checked.rs");
    let mut unchecked = Vec::new();
    let mut used = vec![false; ALLOWED.len()];
    for file in &files {
        let relative = file.strip_prefix(&root).expect("under the root");
        if relative == this_file {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("readable source");
        for way in WAYS {
            if !uses(&text, way) {
                continue;
            }
            match ALLOWED
                .iter()
                .position(|(f, w, _)| Path::new(f) == relative && w == way)
            {
                Some(i) => used[i] = true,
                None => unchecked.push(format!("{} uses `{way}`", relative.display())),
            }
        }
    }
    assert!(
        unchecked.is_empty(),
        "emulators started around the conformance check (use `CheckedEmulator::start`):\n{}",
        unchecked.join("\n")
    );
    let stale: Vec<_> = ALLOWED
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|((file, way, _), _)| format!("{file} no longer uses `{way}`"))
        .collect();
    assert!(stale.is_empty(), "stale entries: {}", stale.join("\n"));
}

#[test]
fn the_search_tells_a_checked_start_from_an_unchecked_one() {
    assert!(uses("let e = Emulator::start(config)", "Emulator::start("));
    assert!(uses(
        "passage_emulator::Emulator::start(c)",
        "Emulator::start("
    ));
    assert!(!uses("CheckedEmulator::start(config)", "Emulator::start("));
}
