//! The HTTP layer, the only axum code: the router (every route and the layers around them), one
//! route module per API area, the request extractors and answer views they share, fault injection
//! and the request log, CORS, the `Host` check, the admin API's access checks, the accept loop, and
//! in-process calls.
//!
//! Architecture invariant: imports every earlier layer but not the server; a route module
//! (`http::routes::*`) never imports another route module.

pub mod admin_guard;
pub mod cors;
mod error_response;
pub mod extract;
pub mod fault_injection;
pub mod host_guard;
pub mod in_process;
pub mod redirect;
pub mod router;
pub mod routes;
pub mod serve;
pub mod views;

pub use in_process::InProcess;
pub use router::router;
pub use serve::serve;
