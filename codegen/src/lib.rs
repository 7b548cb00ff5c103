//! `passage-codegen`: turns `spec/passage-auth.yaml` into the checked-in
//! `generated/src/generated.rs` of the `passage-auth-client` crate.
//!
//! The pipeline is [`load()`] → [`lint()`] → [`generate()`]; `cargo xtask` drives it.
//! [`diff`] compares two versions of the spec for review (`cargo xtask spec-diff`).

pub mod diff;
pub mod generate;
mod isolate;
pub mod lint;
pub mod load;
pub mod locate;
pub mod mutate;
mod postprocess;
mod secrets;

pub use diff::{diff as diff_specs, Report as DiffReport, SpecDiff};
pub use generate::{generate, generate_with, GenerateError, Options};
pub use lint::{lint, Finding, LintReport, Location};
pub use load::{load, LoadError, LoadedSpec};
