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
//! - `doc_examples`: progenitor's usage examples, compiled instead of ignored.
//! - `duplicates`: refuses code that defines an item twice.
//! - `runtime_wiring`: the crate's `Error`, and the runtime's traits for its
//!   error body and client (the hooks hand every request to the runtime).
//! - `crate_files`: the manifest and the crate root around the code.
//! - `header`: the `@generated` header.

mod crate_files;
mod doc_examples;
mod duplicates;
pub mod error;
mod header;
mod operation_table;
pub mod options;
mod postprocess;
mod replacement_types;
mod runtime_wiring;
mod settings;

use progenitor::Generator;
use quote::quote;

use crate::isolate::generate_or_blame;
use crate::lint::{lint, LintReport};
use crate::spec::LoadedSpec;
use duplicates::duplicate_item;
pub use error::GenerateError;
use header::header;
use operation_table::operation_table;
pub use options::{ErrorBody, Options, API_MODULE, RUNTIME_CRATE};
use replacement_types::ReplacementTypes;
use runtime_wiring::runtime_wiring;
use settings::progenitor_settings;

/// What the generator writes for one spec: a crate of three files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedCrate {
    /// `Cargo.toml`.
    pub manifest: String,
    /// `src/lib.rs`: the crate's documentation and the re-export of the code.
    pub root: String,
    /// `src/api.rs`: the generated code.
    pub code: String,
}

impl GeneratedCrate {
    /// The paths of a generated crate's files, relative to its directory.
    pub const FILES: [&'static str; 3] = ["Cargo.toml", "src/lib.rs", "src/api.rs"];

    /// Every file, as (path relative to the crate's directory, contents), in
    /// the order of [`Self::FILES`].
    pub fn files(&self) -> [(&'static str, &str); 3] {
        let [manifest, root, code] = Self::FILES;
        [
            (manifest, &self.manifest),
            (root, &self.root),
            (code, &self.code),
        ]
    }
}

/// Lints the spec and generates its crate with options made from its name
/// ([`Options::for_spec`]).
pub fn generate(spec: &LoadedSpec) -> Result<GeneratedCrate, GenerateError> {
    generate_with(spec, &Options::for_spec(&spec.path.display().to_string()))
}

/// Lints the spec and generates its crate.
///
/// Never panics: a panic or an error of the generator on a spec that passed
/// lint becomes a [`GenerateError::Lint`] whose findings (rule `generator`)
/// name the schema or operation it failed on.
pub fn generate_with(
    spec: &LoadedSpec,
    options: &Options,
) -> Result<GeneratedCrate, GenerateError> {
    let path = options.spec_display_name.clone();
    let report = lint(spec);
    if !report.is_clean() {
        return Err(GenerateError::Lint { path, report });
    }
    // The options must fit the spec before the generator runs: their errors
    // name an option, not a place of the spec.
    runtime_wiring::check_error_body(
        spec.json(),
        options,
        &ReplacementTypes::collect(spec.json()),
    )?;
    convert_located(spec, options)
}

/// [`convert`], with a panic or an error turned into located findings.
pub(crate) fn convert_located(
    spec: &LoadedSpec,
    options: &Options,
) -> Result<GeneratedCrate, GenerateError> {
    let convert = |spec: &LoadedSpec| convert(spec, options).map_err(|e| e.to_string());
    generate_or_blame(spec, &convert).map_err(|findings| GenerateError::Lint {
        path: options.spec_display_name.clone(),
        report: LintReport { findings },
    })
}

/// Runs progenitor and the post-processing on a spec that passed lint.
fn convert(spec: &LoadedSpec, options: &Options) -> Result<GeneratedCrate, GenerateError> {
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
    let (operations, operation_ids) = operation_table(doc);
    // A part of the spec cut out to locate a failure may lack the error body:
    // it gets no wiring (the whole spec was checked to have it).
    let wiring_items = if runtime_wiring::has_error_body(doc, options) {
        runtime_wiring(doc, options, &types)?
    } else {
        proc_macro2::TokenStream::new()
    };
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

        #wiring_items
    };
    let mut file: syn::File = syn::parse2(tokens).map_err(|e| GenerateError::Syntax {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let module = options.module_path();
    let body_type = crate::naming::rust_ident(&options.error_body.schema, true);
    let wiring = postprocess::Wiring {
        error_type: parse_path(&format!("{module}::Error"), &path)?,
        call_wrapper: parse_path(
            &format!("::{RUNTIME_CRATE}::finish_call::<{module}::types::{body_type}, _, _>"),
            &path,
        )?,
        call_wrapper_for: parse_path(
            &format!("::{RUNTIME_CRATE}::finish_call_for::<{module}::types::{body_type}, _, _>"),
            &path,
        )?,
        runtime: parse_path(&format!("::{RUNTIME_CRATE}"), &path)?,
        error_body: parse_path(&format!("{module}::types::{body_type}"), &path)?,
        operations: parse_path(&format!("{module}::operations"), &path)?,
        operation_ids,
    };
    postprocess::apply(&mut file, &wiring);
    doc_examples::compile_examples(&mut file, &options.crate_name.replace('-', "_"));
    if let Some(message) = duplicate_item(&file) {
        return Err(GenerateError::Syntax { path, message });
    }
    let header = header(&path, version, &sha);
    let code = format!("{header}\n{}", prettyplease::unparse(&file));
    Ok(GeneratedCrate {
        manifest: crate_files::manifest(options, &header, &code),
        root: crate_files::crate_root(options, &header, doc),
        code,
    })
}

fn parse_path(s: &str, path: &str) -> Result<syn::Path, GenerateError> {
    syn::parse_str(s).map_err(|e| GenerateError::Syntax {
        path: path.to_string(),
        message: format!("the generated path `{s}` is not a Rust path: {e}"),
    })
}
