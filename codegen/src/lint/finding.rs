//! What lint reports: findings with their rule, subject and position, and the
//! sink the rules push them into.

use std::fmt;

use super::rules;
use crate::spec::{operation_of, subject_of, LoadedSpec, Position};

/// Where a finding points, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The rule's stable id, e.g. `operation-id` (see [`rules::RULES`]).
    pub rule: &'static str,
    /// The operationId (or `METHOD path` when it has none) the finding is about.
    pub operation: Option<String>,
    /// The component the finding is about, e.g. `schema `User``, when it is in
    /// `components` rather than in an operation.
    pub component: Option<String>,
    /// JSON pointer (RFC 6901) to the offending node.
    pub pointer: String,
    /// What is wrong, in the spec's terms.
    pub message: String,
    /// File, line and column, filled in by [`lint`](super::lint()) when the node can be located.
    pub location: Option<Location>,
}

/// A place in a spec file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The spec file as named to the loader.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl Finding {
    /// How to fix it: the hint of the finding's rule.
    pub fn fix(&self) -> &'static str {
        rules::get(self.rule).map_or("", |r| r.fix)
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(Location { file, line, column }) = &self.location {
            write!(f, "{file}:{line}:{column}: ")?;
        }
        write!(f, "[{}] ", self.rule)?;
        if let Some(op) = &self.operation {
            write!(f, "operation `{op}`: ")?;
        } else if let Some(component) = &self.component {
            write!(f, "{component}: ")?;
        }
        write!(f, "{} (at {})", self.message, self.pointer)?;
        match self.fix() {
            "" => Ok(()),
            fix => write!(f, ". Fix: {fix}"),
        }
    }
}

/// All findings of one lint run; empty means the spec passes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LintReport {
    /// Findings in document order (by line and column).
    pub findings: Vec<Finding>,
}

impl LintReport {
    /// True when no rule found anything.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// Findings of one rule (handy in tests).
    pub fn of_rule(&self, rule: &str) -> Vec<&Finding> {
        self.findings.iter().filter(|f| f.rule == rule).collect()
    }
}

impl fmt::Display for LintReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in &self.findings {
            writeln!(f, "{finding}")?;
        }
        write!(f, "{} finding(s)", self.findings.len())
    }
}

/// Collects findings with their context; handed to every rule.
#[derive(Default)]
pub(crate) struct Sink {
    findings: Vec<Finding>,
}

impl Sink {
    /// The findings pushed so far.
    pub(crate) fn into_findings(self) -> Vec<Finding> {
        self.findings
    }

    pub(crate) fn push(
        &mut self,
        rule: &'static str,
        operation: Option<&str>,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.findings.push(Finding {
            rule,
            operation: operation.map(str::to_string),
            component: None,
            pointer: pointer.into(),
            message: message.into(),
            location: None,
        });
    }
}

/// Fills in what each finding is about (its operation or component) and its
/// file, line and column in the spec.
pub(crate) fn add_subject_and_position(spec: &LoadedSpec, findings: &mut [Finding]) {
    let doc = spec.json();
    let file = spec.path.display().to_string();
    for finding in findings {
        if finding.operation.is_none() {
            finding.operation = operation_of(doc, &finding.pointer);
        }
        if finding.component.is_none() {
            finding.component = subject_of(&finding.pointer);
        }
        let position = spec
            .position_of(&finding.pointer)
            .unwrap_or(Position { line: 1, column: 1 });
        finding.location = Some(Location {
            file: file.clone(),
            line: position.line,
            column: position.column,
        });
    }
}
