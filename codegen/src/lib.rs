//! `passage-codegen`: turns `spec/passage-auth.yaml` into the checked-in
//! `generated/src/generated.rs` of the `passage-auth-client` crate.
//!
//! The pipeline is [`load()`] → [`lint()`] → [`generate()`]; `cargo xtask` drives it.
//! [`diff`] compares two versions of the spec for review (`cargo xtask spec-diff`).
//!
//! The modules, each importing only the ones listed before it:
//! - [`spec`]: the spec toolkit (loading with positions, JSON pointers, the
//!   walks over operations and schemas).
//! - [`naming`]: the Rust names the generator gives what the spec names.
//! - [`lint`](mod@lint): the project's rules for a spec; `secrets`: the secret places of
//!   requests.
//! - `isolate`: blames the schema or operation a failing generator fails on.
//! - [`generate`](mod@generate): progenitor and everything around it.
//! - [`diff`], [`mutate`]: tools over the pipeline; nothing imports them.

pub mod diff;
pub mod generate;
mod isolate;
pub mod lint;
pub mod mutate;
pub mod naming;
pub mod scratch;
mod secrets;
pub mod spec;

pub use diff::{diff as diff_specs, Report as DiffReport, SpecDiff};
pub use generate::{generate, generate_with, ErrorBody, GenerateError, GeneratedCrate, Options};
pub use lint::{lint, Finding, LintReport, Location};
pub use spec::{load, LoadError, LoadedSpec};
