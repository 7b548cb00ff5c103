//! The HTTP layer: the only axum code.

mod error_response;
