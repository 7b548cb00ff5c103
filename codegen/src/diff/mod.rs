//! Spec review: what changed between two versions of the spec, whether each
//! change breaks clients generated from the old one, whether the version says
//! so, and what the change does to the generated Rust API.
//!
//! - [`model`]: a flat view of one spec (operations, schema usage).
//! - [`compare`]: the walk that lists changes.
//! - [`report`]: what a review reports (changes, Rust API effect, version problems).
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
pub mod report;
pub mod rules;
pub mod rust_api;
pub mod version;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::generate::{generate, GenerateError};
use crate::spec::LoadedSpec;
pub use render::{render, Format};
pub use report::{Change, Report, RustApi, SpecDiff, Subject};
pub use rules::{Rule, RuleInfo, Severity};
pub use rust_api::{ApiItem, ChangedItem, RustApiDiff};
pub use version::{VersionInputs, VersionProblem};

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

/// Generates both specs and compares the public items of the generated code.
pub fn rust_api_effect(old: &LoadedSpec, new: &LoadedSpec) -> RustApi {
    let generate = |spec: &LoadedSpec, which: &str| {
        generate(spec).map_err(|e| match e {
            GenerateError::Lint { report, .. } => format!(
                "the {which} spec does not lint clean ({} finding(s)), so no client was generated from it",
                report.findings.len()
            ),
            other => format!("the {which} spec did not generate: {other}"),
        })
    };
    let codes = generate(old, "old").and_then(|a| generate(new, "new").map(|b| (a, b)));
    match codes {
        Ok((a, b)) => match rust_api::diff_api(&a.code, &b.code) {
            Ok(diff) => RustApi::Compared(diff),
            Err(e) => RustApi::Skipped {
                reason: format!("the generated code did not parse: {e}"),
            },
        },
        Err(reason) => RustApi::Skipped { reason },
    }
}
