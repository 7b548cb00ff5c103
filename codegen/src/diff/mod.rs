//! Spec review: what changed between two versions of the spec, whether each
//! change breaks clients generated from the old one, whether the version says
//! so, and what the change does to the generated Rust API.
//!
//! - [`model`]: a flat view of one spec (operations, schema usage).
//! - [`compare`]: the walk that lists changes.
//! - [`rules`]: the rule table that classifies them.
//! - [`version`]: version discipline (semver bump, changelog, crate version).
//! - [`rust_api`]: public items of the generated code, compared with `syn`.
//! - [`mod@render`]: text, Markdown and JSON reports.
//!
//! ```
//! use passage_codegen::{diff, LoadedSpec};
//! let old = "openapi: 3.0.3\ninfo: {title: t, version: 1.0.0}\npaths: {}\n";
//! let new = "openapi: 3.0.3\ninfo: {title: t, version: 1.1.0}\npaths:\n  /a:\n    get:\n      operationId: get_a\n      responses: {'204': {description: ok}}\n";
//! let old = LoadedSpec::from_str("old.yaml", old.into()).unwrap();
//! let new = LoadedSpec::from_str("new.yaml", new.into()).unwrap();
//! let changes = diff::diff(&old, &new);
//! assert_eq!(changes.changes.len(), 1);
//! assert!(!changes.is_breaking());
//! ```

pub mod compare;
pub mod model;
pub mod render;
pub mod rules;
pub mod rust_api;
pub mod version;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::LoadedSpec;
pub use render::{render, Format};
pub use rules::{Rule, RuleInfo, Severity};
pub use rust_api::{ApiItem, ChangedItem, RustApiDiff};
pub use version::{VersionInputs, VersionProblem};

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

/// Compares two loaded specs.
pub fn diff(old: &LoadedSpec, new: &LoadedSpec) -> SpecDiff {
    diff_json(old.json(), new.json())
}

/// Compares two specs given as JSON values.
pub fn diff_json(old: &Value, new: &Value) -> SpecDiff {
    let (a, b) = (model::Model::new(old), model::Model::new(new));
    let changes = compare::compare(&a, &b);
    let mut used_by = BTreeMap::new();
    for change in &changes {
        if let Subject::Schema { name } = &change.subject {
            let users: BTreeSet<String> = [&a, &b]
                .iter()
                .filter_map(|m| m.used_by.get(name))
                .flatten()
                .cloned()
                .collect();
            used_by.insert(name.clone(), users.into_iter().collect());
        }
    }
    SpecDiff {
        old_version: a.version.clone(),
        new_version: b.version.clone(),
        changes,
        used_by,
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

/// Generates both specs and compares the public items of the generated code.
pub fn rust_api_effect(old: &LoadedSpec, new: &LoadedSpec) -> RustApi {
    let generate = |spec: &LoadedSpec, which: &str| {
        crate::generate(spec).map_err(|e| match e {
            crate::GenerateError::Lint { report, .. } => format!(
                "the {which} spec does not lint clean ({} finding(s)), so no client was generated from it",
                report.findings.len()
            ),
            other => format!("the {which} spec did not generate: {other}"),
        })
    };
    let codes = generate(old, "old").and_then(|a| generate(new, "new").map(|b| (a, b)));
    match codes {
        Ok((a, b)) => match rust_api::diff_api(&a, &b) {
            Ok(diff) => RustApi::Compared(diff),
            Err(e) => RustApi::Skipped {
                reason: format!("the generated code did not parse: {e}"),
            },
        },
        Err(reason) => RustApi::Skipped { reason },
    }
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
