//! The files the xtask reads and writes, and the text summaries it prints.

use std::path::{Path, PathBuf};

use anyhow::Context;
use passage_codegen::{GenerateError, LintReport, LoadedSpec, Options};

/// Paths of one workspace checkout.
pub struct Project {
    root: PathBuf,
}

/// The spec, relative to the workspace root.
pub const SPEC: &str = "spec/passage-auth.yaml";
/// The generated module, relative to the workspace root.
pub const GENERATED: &str = "generated/src/generated.rs";
/// The client crate's manifest, relative to the workspace root.
pub const CLIENT_MANIFEST: &str = "generated/Cargo.toml";

impl Project {
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
        }
    }

    pub fn spec_name(&self) -> &'static str {
        SPEC
    }

    pub fn load_spec(&self) -> anyhow::Result<LoadedSpec> {
        let text = std::fs::read_to_string(self.root.join(SPEC))
            .with_context(|| format!("cannot read {}", self.root.join(SPEC).display()))?;
        // Name the spec by its relative path so messages and the header are the same everywhere.
        Ok(LoadedSpec::from_str(SPEC, text)?)
    }

    /// Generated code, or the lint report that stopped generation.
    pub fn generate(&self, spec: &LoadedSpec) -> anyhow::Result<Result<String, LintReport>> {
        match passage_codegen::generate_with(spec, &Options::default()) {
            Ok(code) => Ok(Ok(code)),
            Err(GenerateError::Lint { report, .. }) => Ok(Err(report)),
            Err(other) => Err(other.into()),
        }
    }

    pub fn read_generated(&self) -> Option<String> {
        std::fs::read_to_string(self.root.join(GENERATED)).ok()
    }

    pub fn write_generated(&self, code: &str) -> anyhow::Result<()> {
        let path = self.root.join(GENERATED);
        let tmp = path.with_extension("rs.tmp");
        std::fs::write(&tmp, code).with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("cannot replace {}", path.display()))
    }
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
    let ops = |text: &str| -> std::collections::BTreeSet<String> {
        text.lines()
            .filter_map(|l| l.trim().strip_prefix("operation_id: \""))
            .filter_map(|l| l.split('"').next())
            .map(str::to_string)
            .collect()
    };
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

/// A unified diff of checked-in (`a`) against generated (`b`), cut at `max_lines`.
pub fn unified_diff(current: &str, generated: &str, max_lines: usize) -> String {
    let diff = similar::TextDiff::from_lines(current, generated);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("a/{GENERATED} (checked in)"),
            &format!("b/{GENERATED} (from spec)"),
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
