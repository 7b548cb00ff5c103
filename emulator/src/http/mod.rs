//! The HTTP layer: the only axum code.

pub mod cors;
mod error_response;
pub mod fault_injection;
