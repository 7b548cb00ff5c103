//! Helpers shared by the xtask tests: a scratch copy of the files the xtask
//! touches, and a run of the xtask binary on it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A temporary root holding copies of the files the xtask touches: the
/// crates' configuration, the specs and their changelogs, and `generated/`.
pub fn copy_of_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&workspace().join("spec"), &dir.path().join("spec"));
    copy_tree(
        &workspace().join("generated"),
        &dir.path().join("generated"),
    );
    dir
}

/// Copies the directory `from` to `to`, recursively.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The generated code of the Auth API crate, relative to the root.
pub const AUTH_CODE: &str = "generated/auth/src/api.rs";

/// Every `[[crate]]` of the workspace's `spec/crates.toml`, as (spec, dir).
pub fn configured_crates() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(workspace().join("spec/crates.toml")).unwrap();
    let config: toml::Table = toml::from_str(&text).unwrap();
    let crates: Vec<(String, String)> = config["crate"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["spec"].as_str().unwrap().to_string(),
                entry["dir"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        crates
            .iter()
            .any(|(spec, _)| spec == "spec/passage-management.yaml"),
        "the Management API is configured: {crates:?}"
    );
    crates
}

/// Runs the xtask on `root` (with `RUST_BACKTRACE=1`, so a panic would show);
/// returns its exit code and everything it printed.
pub fn xtask(root: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--root")
        .arg(root)
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}
