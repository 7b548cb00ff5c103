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

/// A temporary root holding copies of the files the xtask touches.
pub fn copy_of_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for rel in [
        "spec/passage-auth.yaml",
        "generated/Cargo.toml",
        "generated/src/generated.rs",
    ] {
        let to = dir.path().join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(workspace().join(rel), &to).unwrap();
    }
    dir
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
