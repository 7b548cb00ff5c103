//! The record of the last successful `regenerate`, so that a warm `cargo xtask regenerate` with
//! nothing changed skips loading, linting, generating and formatting.
//!
//! The stamp (`target/xtask/regenerate.stamp`) holds a fingerprint of everything the output
//! depends on: the xtask binary itself (it contains the generator; cargo rebuilds it whenever the
//! generator changes), `spec/crates.toml`, every configured spec, and the current contents of every
//! generated file. When all of them are as they were after the last run, that run's output is
//! still exact. `check` and `regenerate --force` never use the stamp: they always generate.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use crate::crates::CONFIG;
use crate::files::Project;

fn stamp_path(root: &Path) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    target.join("xtask").join("regenerate.stamp")
}

/// The fingerprint of the inputs and outputs, or `None` when one cannot be read.
fn fingerprint(root: &Path) -> Option<String> {
    let mut hasher = DefaultHasher::new();
    root.hash(&mut hasher);
    let exe = std::env::current_exe().ok()?;
    let meta = std::fs::metadata(&exe).ok()?;
    meta.len().hash(&mut hasher);
    meta.modified().ok()?.hash(&mut hasher);
    std::fs::read(root.join(CONFIG)).ok()?.hash(&mut hasher);
    let project = Project::load(root).ok()?;
    for entry in project.crates() {
        std::fs::read(root.join(&entry.spec))
            .ok()?
            .hash(&mut hasher);
        for file in passage_codegen::GeneratedCrate::FILES {
            std::fs::read(root.join(&entry.dir).join(file))
                .ok()?
                .hash(&mut hasher);
        }
    }
    // A stray file under generated/ must make the next run look again.
    project.stray_files().ok()?.hash(&mut hasher);
    Some(format!("{:016x}", hasher.finish()))
}

/// The summary recorded by the last run, when nothing changed since.
pub fn unchanged(root: &Path) -> Option<String> {
    let stamp = std::fs::read_to_string(stamp_path(root)).ok()?;
    let (print, version) = stamp.trim_end().split_once(' ')?;
    (Some(print) == fingerprint(root).as_deref()).then(|| version.to_owned())
}

/// Records a successful run (best effort: without a stamp the next run just does the work).
pub fn record(root: &Path, version: &str) {
    let path = stamp_path(root);
    if let (Some(print), Some(dir)) = (fingerprint(root), path.parent()) {
        if std::fs::create_dir_all(dir).is_ok() {
            let _ = std::fs::write(&path, format!("{print} {version}\n"));
        }
    }
}
