//! The options of a generation: what the spec does not say about the crate
//! it becomes. Everything else (operations, auth, retry safety, secrets,
//! servers) comes from the spec; nothing here assumes a particular API.

/// The runtime crate the generated code calls (`passage-runtime`), by its
/// Rust name. It is part of the generator's contract, not of a spec.
pub const RUNTIME_CRATE: &str = "passage_runtime";

/// The module of the generated crate that holds the generated code; the
/// crate root re-exports it.
pub const API_MODULE: &str = "api";

/// How one spec becomes one crate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The spec's name as written in the headers (keep it relative, so the
    /// output is the same on every machine).
    pub spec_display_name: String,
    /// The crate's package name (e.g. `passage-auth-api`).
    pub crate_name: String,
    /// The crate's own semver (spec-diff checks its bump).
    pub crate_version: String,
    /// The crate's one-line description for its manifest.
    pub description: String,
    /// The schema of the API's error answers.
    pub error_body: ErrorBody,
}

/// Which schema the API's error answers have, and which of its properties
/// hold the error code and the message: the generated crate's error type is
/// the runtime's `Error` over that code's type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorBody {
    /// The component schema (e.g. `ApiError`).
    pub schema: String,
    /// The property with the machine-readable code (a string or a string enum).
    pub code_field: String,
    /// The property with the human-readable message (a string).
    pub message_field: String,
}

impl Default for ErrorBody {
    /// `ApiError` with `code` and `error`: the shape of both Passage APIs'
    /// errors, and the convention the specs of this repository follow.
    fn default() -> Self {
        Self {
            schema: "ApiError".into(),
            code_field: "code".into(),
            message_field: "error".into(),
        }
    }
}

impl Options {
    /// Options for the spec named `spec_display_name`, with a crate name made
    /// from its file stem (`spec/foo.yaml` -> `foo-api`), version `0.1.0`
    /// and the default [`ErrorBody`]: enough for tests and tools that only
    /// need the generated code.
    pub fn for_spec(spec_display_name: &str) -> Self {
        let stem = std::path::Path::new(spec_display_name)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("spec");
        Self {
            spec_display_name: spec_display_name.to_string(),
            crate_name: format!("{stem}-api"),
            crate_version: "0.1.0".into(),
            description: format!("Operations and types generated from {spec_display_name}"),
            error_body: ErrorBody::default(),
        }
    }

    /// The path of the generated module from the crate root.
    pub(crate) fn module_path(&self) -> String {
        format!("crate::{API_MODULE}")
    }
}
