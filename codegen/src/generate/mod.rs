//! Generation: progenitor's settings, the types that replace typify's for
//! string enums and secret strings, the operation table, the
//! post-processing of progenitor's output, formatting and the header.
//!
//! - [`options`](mod@options): how the generated module is wired into its crate.
//! - `settings`: progenitor's settings.
//! - `replacement_types`: open enums and redacting secret types.
//! - `operation_table`: what the spec declares about each operation.
//! - `postprocess`: rewrites progenitor's output (runtime paths, `send()`
//!   through the call wrapper, no `Client::new`, `#[non_exhaustive]` types).
//! - `duplicates`: refuses code that defines an item twice.
//! - `header`: the `@generated` header.

mod duplicates;
pub mod error;
mod header;
mod operation_table;
pub mod options;
mod postprocess;
mod replacement_types;
mod settings;

use progenitor::Generator;
use quote::quote;

use crate::isolate::generate_or_blame;
use crate::lint::{lint, LintReport};
use crate::spec::LoadedSpec;
use duplicates::duplicate_item;
pub use error::GenerateError;
use header::with_header;
use operation_table::operation_table;
pub use options::Options;
use replacement_types::ReplacementTypes;
use settings::progenitor_settings;

/// Lints the spec and generates the client module with the project's options.
pub fn generate(spec: &LoadedSpec) -> Result<String, GenerateError> {
    generate_with(spec, &Options::default())
}

/// Lints the spec and generates the client module.
///
/// Never panics: a panic or an error of the generator on a spec that passed
/// lint becomes a [`GenerateError::Lint`] whose findings (rule `generator`)
/// name the schema or operation it failed on.
pub fn generate_with(spec: &LoadedSpec, options: &Options) -> Result<String, GenerateError> {
    let path = options.spec_display_name.clone();
    let report = lint(spec);
    if !report.is_clean() {
        return Err(GenerateError::Lint { path, report });
    }
    convert_located(spec, options)
}

/// [`convert`], with a panic or an error turned into located findings.
pub(crate) fn convert_located(
    spec: &LoadedSpec,
    options: &Options,
) -> Result<String, GenerateError> {
    let convert = |spec: &LoadedSpec| convert(spec, options).map_err(|e| e.to_string());
    generate_or_blame(spec, &convert).map_err(|findings| GenerateError::Lint {
        path: options.spec_display_name.clone(),
        report: LintReport { findings },
    })
}

/// Runs progenitor and the post-processing on a spec that passed lint.
fn convert(spec: &LoadedSpec, options: &Options) -> Result<String, GenerateError> {
    let path = options.spec_display_name.clone();
    let doc = spec.json();
    let types = ReplacementTypes::collect(doc);
    let settings = progenitor_settings(options, &types);

    // A panic here is caught (quietly) by `convert_located`, which locates it.
    let client_tokens = Generator::new(&settings)
        .generate_tokens(&spec.openapi)
        .map_err(|e| GenerateError::Progenitor {
            path: path.clone(),
            message: e.to_string(),
        })?;

    let replacement_types = types.tokens();
    let operations = operation_table(doc);
    let version = &spec.openapi.info.version;
    let sha = spec.sha256();
    let tokens = quote! {
        #client_tokens

        /// The `info.version` of the spec this module was generated from.
        pub const SPEC_VERSION: &str = #version;
        /// The sha256 of the spec bytes this module was generated from.
        pub const SPEC_SHA256: &str = #sha;

        #replacement_types

        #operations
    };
    let mut file: syn::File = syn::parse2(tokens).map_err(|e| GenerateError::Syntax {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let wiring = postprocess::Wiring {
        error_type: parse_path(&options.error_type, &path)?,
        call_wrapper: parse_path(&options.call_wrapper, &path)?,
        runtime: parse_path(&options.runtime, &path)?,
    };
    postprocess::apply(&mut file, &wiring);
    if let Some(message) = duplicate_item(&file) {
        return Err(GenerateError::Syntax { path, message });
    }
    let body = prettyplease::unparse(&file);
    Ok(with_header(&path, version, &sha, &body))
}

fn parse_path(s: &str, path: &str) -> Result<syn::Path, GenerateError> {
    syn::parse_str(s).map_err(|e| GenerateError::Syntax {
        path: path.to_string(),
        message: format!("option `{s}` is not a Rust path: {e}"),
    })
}
