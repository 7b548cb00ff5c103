//! Why generation failed.

use crate::lint::LintReport;

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The spec breaks the project's rules; nothing was generated.
    #[error("{path}: the spec does not pass lint:\n{report}")]
    Lint {
        /// The spec file.
        path: String,
        /// What lint found.
        report: LintReport,
    },
    /// progenitor refused the spec.
    #[error("{path}: progenitor could not generate the client: {message}")]
    Progenitor {
        /// The spec file.
        path: String,
        /// progenitor's error or panic message.
        message: String,
    },
    /// The generated tokens did not parse as Rust (a generator bug).
    #[error("{path}: the generated code is not valid Rust: {message}")]
    Syntax {
        /// The spec file.
        path: String,
        /// syn's message.
        message: String,
    },
    /// The generator options do not fit the spec (an error body schema it
    /// does not have, or one without the named code and message properties).
    #[error("{path}: {message} (generator option `{option}`)")]
    Options {
        /// The spec file.
        path: String,
        /// The option that does not fit.
        option: &'static str,
        /// What does not fit.
        message: String,
    },
}
