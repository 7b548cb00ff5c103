//! `passage-codegen`: turns `spec/passage-auth.yaml` into the checked-in
//! `generated/src/generated.rs` of the `passage-auth-client` crate.
//!
//! The pipeline is [`load`] → [`lint()`] → [`generate()`]; `cargo xtask` drives it.

pub mod generate;
pub mod lint;
pub mod load;
mod locate;

pub use generate::{generate, generate_with, GenerateError, Options};
pub use lint::{lint, Finding, LintReport};
pub use load::{load, LoadError, LoadedSpec};
