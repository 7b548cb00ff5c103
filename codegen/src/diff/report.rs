//! What a spec review reports: the classified changes, the effect on the
//! generated Rust API, and the whole report with the version problems.

use std::collections::BTreeMap;

use serde::Serialize;

use super::rules::{Rule, Severity};
use super::rust_api::RustApiDiff;
use super::version::VersionProblem;

/// What a change is about: an operation or a component schema.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Subject {
    /// An operation, by operationId (the new one when it was renamed).
    Operation {
        /// The operationId.
        id: String,
        /// `METHOD /path` (the new one when it moved).
        route: String,
    },
    /// A component schema, by name.
    Schema {
        /// The schema's name under `components/schemas`.
        name: String,
    },
}

/// One classified change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The rule that matched.
    pub rule: Rule,
    /// Breaking or compatible, for the direction the changed thing travels.
    pub severity: Severity,
    /// The operation or schema it is about.
    pub subject: Subject,
    /// What changed, in words.
    pub message: String,
}

/// All changes between two specs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SpecDiff {
    /// `info.version` of the old spec.
    pub old_version: String,
    /// `info.version` of the new spec.
    pub new_version: String,
    /// Every change, operations first (by operationId), then schemas (by name).
    pub changes: Vec<Change>,
    /// For each changed schema, the operations (old or new) whose parameters,
    /// request bodies or success bodies reach it.
    pub used_by: BTreeMap<String, Vec<String>>,
}

impl SpecDiff {
    /// True when at least one change breaks old clients.
    pub fn is_breaking(&self) -> bool {
        self.changes
            .iter()
            .any(|c| c.severity == Severity::Breaking)
    }

    /// The breaking changes.
    pub fn breaking(&self) -> impl Iterator<Item = &Change> {
        self.changes
            .iter()
            .filter(|c| c.severity == Severity::Breaking)
    }

    /// Changes matching a rule (handy in tests).
    pub fn of_rule(&self, rule: Rule) -> Vec<&Change> {
        self.changes.iter().filter(|c| c.rule == rule).collect()
    }

    /// Changes grouped by subject, operations before schemas, each in order.
    pub fn groups(&self) -> Vec<(&Subject, Vec<&Change>)> {
        let mut groups: Vec<(&Subject, Vec<&Change>)> = Vec::new();
        for change in &self.changes {
            match groups.iter_mut().find(|(s, _)| *s == &change.subject) {
                Some((_, list)) => list.push(change),
                None => groups.push((&change.subject, vec![change])),
            }
        }
        groups.sort_by(|a, b| a.0.cmp(b.0));
        groups
    }
}

/// The generated Rust API effect, or why it was not computed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum RustApi {
    /// Both specs generated; the public items compared.
    Compared(RustApiDiff),
    /// One spec did not generate (lint findings, generator error).
    Skipped {
        /// Why.
        reason: String,
    },
}

/// Everything a review shows: the changes, the version problems, the Rust API effect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    /// How the old spec is named in the report (a file, or `REF:path`).
    pub old_name: String,
    /// How the new spec is named in the report.
    pub new_name: String,
    /// The classified changes.
    pub diff: SpecDiff,
    /// What version discipline looked at: `info.version`, and the changelog
    /// and client manifest when they were given.
    pub version_checked: Vec<String>,
    /// Broken version-discipline rules; empty when it holds.
    pub version_problems: Vec<VersionProblem>,
    /// The effect on the generated Rust API, when it was asked for.
    pub rust_api: Option<RustApi>,
}

impl Report {
    /// True when a change is breaking or version discipline fails (exit code 1).
    pub fn fails(&self) -> bool {
        self.diff.is_breaking() || !self.version_problems.is_empty()
    }
}
