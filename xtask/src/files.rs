//! The files the xtask reads and writes, and the text summaries it prints.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context;
use passage_codegen::{GenerateError, GeneratedCrate, LintReport, LoadedSpec};

use crate::crates::{self, Entry, GENERATED_DIR};

/// The target directory of builds the xtask starts (the mutants' and the
/// semver check's scratch workspaces): `$CARGO_TARGET_DIR`, else `target/`
/// under the root. Each tool uses a folder of its own inside it, kept between
/// runs so that the dependencies build once.
pub fn cargo_target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// One workspace checkout and the crates it generates.
pub struct Project {
    root: PathBuf,
    crates: Vec<Entry>,
}

impl Project {
    /// The workspace at `root`, with its `spec/crates.toml`.
    pub fn load(root: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            root: root.to_path_buf(),
            crates: crates::load(root)?,
        })
    }

    /// The configured crates, in the configuration's order.
    pub fn crates(&self) -> &[Entry] {
        &self.crates
    }

    /// The configured crate whose spec is `spec` (a path relative to the root).
    pub fn crate_of_spec(&self, spec: &str) -> anyhow::Result<&Entry> {
        let wanted = Path::new(spec);
        self.crates
            .iter()
            .find(|c| Path::new(&c.spec) == wanted)
            .with_context(|| {
                let known: Vec<&str> = self.crates.iter().map(|c| c.spec.as_str()).collect();
                format!("{spec} is not a configured spec ({})", known.join(", "))
            })
    }

    /// The spec of `entry`.
    pub fn load_spec(&self, entry: &Entry) -> anyhow::Result<LoadedSpec> {
        entry.load_spec(&self.root)
    }

    /// The crate `entry`'s spec generates, or the lint report that stopped it.
    pub fn generate(
        &self,
        entry: &Entry,
        spec: &LoadedSpec,
    ) -> anyhow::Result<Result<GeneratedCrate, LintReport>> {
        match passage_codegen::generate_with(spec, &entry.options()) {
            Ok(generated) => Ok(Ok(generated)),
            Err(GenerateError::Lint { report, .. }) => Ok(Err(report)),
            Err(other) => Err(other.into()),
        }
    }

    /// The text of `rel` (relative to the root), if it can be read.
    pub fn read(&self, rel: &Path) -> Option<String> {
        std::fs::read_to_string(self.root.join(rel)).ok()
    }

    /// Replaces `rel` with `contents` (through a temporary file).
    pub fn write(&self, rel: &Path, contents: &str) -> anyhow::Result<()> {
        let path = self.root.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let mut tmp = path.clone().into_os_string();
        tmp.push(".tmp");
        std::fs::write(&tmp, contents)
            .with_context(|| format!("cannot write {}", PathBuf::from(&tmp).display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("cannot replace {}", path.display()))
    }

    /// Every file under `generated/` that no configured crate generates
    /// (relative to the root, sorted): generated/ holds only generator output.
    pub fn stray_files(&self) -> anyhow::Result<Vec<PathBuf>> {
        let expected: BTreeSet<PathBuf> = self
            .crates
            .iter()
            .flat_map(|c| {
                passage_codegen::GeneratedCrate::FILES
                    .iter()
                    .map(|file| Path::new(&c.dir).join(file))
            })
            .collect();
        let mut found = Vec::new();
        walk(&self.root, Path::new(GENERATED_DIR), &mut found)?;
        found.retain(|f| !expected.contains(f));
        found.sort();
        Ok(found)
    }
}

/// The files under `rel` (relative to `root`), recursively.
fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let dir = root.join(rel);
    if !dir.exists() {
        return Ok(());
    }
    for entry in
        std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?
    {
        let entry = entry?;
        let rel = rel.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            walk(root, &rel, out)?;
        } else {
            out.push(rel);
        }
    }
    Ok(())
}

/// `+A -R lines; operations added: …; removed: …`.
pub fn summarize(old: &str, new: &str) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    let (mut added, mut removed) = (0, 0);
    for change in diff.iter_all_changes() {
        match change.tag() {
            similar::ChangeTag::Insert => added += 1,
            similar::ChangeTag::Delete => removed += 1,
            similar::ChangeTag::Equal => {}
        }
    }
    let ops = |text: &str| -> BTreeSet<String> { operation_ids(text).into_iter().collect() };
    let (before, after) = (ops(old), ops(new));
    let new_ops: Vec<_> = after.difference(&before).cloned().collect();
    let gone_ops: Vec<_> = before.difference(&after).cloned().collect();
    let mut out = format!("+{added} -{removed} lines, {} operations", after.len());
    if !new_ops.is_empty() {
        out.push_str(&format!("; added: {}", new_ops.join(", ")));
    }
    if !gone_ops.is_empty() {
        out.push_str(&format!("; removed: {}", gone_ops.join(", ")));
    }
    out
}

/// The operation ids of generated code (the first argument of each
/// `OperationSpec::new(` row of its table).
fn operation_ids(code: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("OperationSpec::new(") {
        rest = &rest[at + "OperationSpec::new(".len()..];
        if let Some(id) = rest
            .trim_start()
            .strip_prefix('"')
            .and_then(|s| s.split('"').next())
        {
            ids.push(id.to_string());
        }
    }
    ids
}

/// A unified diff of the checked-in `current` against `generated` for the
/// file `name`, cut at `max_lines`.
pub fn unified_diff(name: &str, current: &str, generated: &str, max_lines: usize) -> String {
    let diff = similar::TextDiff::from_lines(current, generated);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("a/{name} (checked in)"),
            &format!("b/{name} (from spec)"),
        )
        .to_string();
    let total = text.lines().count();
    if total <= max_lines {
        return text;
    }
    let mut cut: String = text.lines().take(max_lines).collect::<Vec<_>>().join("\n");
    cut.push_str(&format!("\n... ({} more diff lines)", total - max_lines));
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_names_the_operations_added_and_removed() {
        let old = "OperationSpec::new(\n \"a\", \"GET\")\nOperationSpec::new(\"b\", \"GET\")\n";
        let new = "OperationSpec::new(\n \"a\", \"GET\")\nOperationSpec::new(\"c\", \"GET\")\n";
        let summary = summarize(old, new);
        assert!(
            summary.ends_with("2 operations; added: c; removed: b"),
            "{summary}"
        );
    }
}
