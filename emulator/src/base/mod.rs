//! The base layer: what every other layer uses (the clock, the API error, random ids and secrets,
//! digests, identifier syntax, the closed sets of wire values, redacted `Debug`).
//!
//! Architecture invariant: imports no other layer of the crate, and no axum.

pub mod api_error;
pub mod clock;
pub mod digest;
pub mod enums;
pub mod identifiers;
pub mod random;
pub(crate) mod redact;
