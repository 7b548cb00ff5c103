//! The project's own rules for the spec, checked before generation so that a
//! mistake gets a message naming the operation and the JSON pointer (and the
//! line) instead of a progenitor panic.
//!
//! Each rule has a stable id (shown in brackets in every finding) and lives in
//! the module of its family: [`document`], [`operations`], [`responses`],
//! [`schemas`], [`names`], [`types`]. [`rules::RULES`] lists every id with its
//! fix; `docs/lint-rules.md` is the same table for readers. What a run
//! reports ([`Finding`], [`LintReport`]) and how each finding gets its subject
//! and position live in `finding`. The rules walk the spec with
//! [`crate::spec`] and name Rust items with [`crate::naming`].

pub mod document;
mod finding;
pub mod names;
pub mod operations;
pub mod responses;
pub mod rules;
pub mod schemas;
#[cfg(test)]
pub(crate) mod testing;
pub mod types;

use crate::spec::LoadedSpec;
pub(crate) use finding::{add_subject_and_position, Sink};
pub use finding::{Finding, LintReport, Location};

/// Runs every rule on the spec.
pub fn lint(spec: &LoadedSpec) -> LintReport {
    let doc = spec.json();
    let mut sink = Sink::default();
    document::check(doc, &mut sink);
    operations::check(doc, &mut sink);
    responses::check(doc, &mut sink);
    schemas::check(doc, &mut sink);
    types::check(doc, &mut sink);
    names::check(doc, &mut sink);
    let mut findings = sink.into_findings();
    add_subject_and_position(spec, &mut findings);
    // In document order, whatever order the rules and maps visited the nodes in.
    findings.sort_by_key(|f| f.location.as_ref().map(|l| (l.line, l.column)));
    LintReport { findings }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn the_fixture_is_clean() {
        let report = lint(&spec(VALID));
        assert!(report.is_clean(), "{report}");
    }

    #[test]
    fn findings_carry_file_and_line() {
        let report = lint(&variant("      summary: Get an app\n", ""));
        let finding = &report.of_rule("summary-and-tag")[0];
        assert_eq!(finding.operation.as_deref(), Some("get_app"));
        assert_eq!(finding.pointer, "/paths/~1apps~1{app_id}/get");
        let location = finding.location.as_ref().unwrap();
        assert_eq!((location.file.as_str(), location.line), ("test.yaml", 14));
        assert_eq!(location.column, 5);
        let text = finding.to_string();
        assert!(
            text.starts_with("test.yaml:14:5: [summary-and-tag] operation `get_app`"),
            "{text}"
        );
        assert!(
            text.ends_with(&format!(". Fix: {}", finding.fix())),
            "{text}"
        );
        assert!(!finding.fix().is_empty());
    }
}
