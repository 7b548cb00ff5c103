//! The `Host` check every request of the emulator's listener goes through (API, admin API, UI):
//! the defence against DNS rebinding (see [`crate::settings::hosts`]).
//!
//! A request whose `Host` is not loopback, the listen address or a configured name
//! (`allowed_hosts`) gets 403 `host_not_allowed`. A request without a `Host` (HTTP/1.0, the
//! in-process admin client) cannot come from a browser and passes.
//!
//! Serving other names on purpose: a router that serves hosts the emulator stands in for (the
//! intercepting proxy serves `auth.passage.id` and `api.passage.id` through the same routes) marks
//! its requests with the [`HostVerified`] extension, which this check accepts, e.g. with
//! `router.layer(axum::Extension(HostVerified))` around the router it gives the proxy (an outer
//! layer runs before this one). Adding those names to `allowed_hosts` would work too, but would
//! also open them on the plain listener.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::base::api_error::ApiError;
use crate::context::Context;

/// Request extension: the `Host` of this request was checked by whoever handed it to the router
/// (the intercepting proxy, which only accepts the hosts it intercepts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostVerified;

/// The host a request names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestHost<'a> {
    /// The URI's authority (HTTP/2, absolute-form) or the `Host` header.
    Named(&'a str),
    /// Neither (HTTP/1.0, an in-process request).
    Absent,
    /// A `Host` header that is not readable text.
    Unreadable,
}

impl<'a> RequestHost<'a> {
    /// The host a request names.
    pub fn of(req: &'a Request) -> Self {
        if let Some(authority) = req.uri().authority() {
            return Self::Named(authority.as_str());
        }
        match req.headers().get(header::HOST).map(|v| v.to_str()) {
            None => Self::Absent,
            Some(Ok(host)) => Self::Named(host),
            Some(Err(_)) => Self::Unreadable,
        }
    }

    /// The host's name (`None` when absent or unreadable).
    pub fn name(self) -> Option<&'a str> {
        match self {
            Self::Named(host) => Some(host),
            Self::Absent | Self::Unreadable => None,
        }
    }
}

/// Middleware: refuses requests whose `Host` the emulator does not answer (403 `host_not_allowed`).
pub async fn host_guard(State(ctx): State<Arc<Context>>, req: Request, next: Next) -> Response {
    if req.extensions().get::<HostVerified>().is_some() {
        return next.run(req).await;
    }
    let allowed = match RequestHost::of(&req) {
        RequestHost::Absent => true,
        RequestHost::Named(host) => ctx.options.hosts.allows(host),
        RequestHost::Unreadable => false,
    };
    if allowed {
        next.run(req).await
    } else {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "host_not_allowed",
            "this emulator does not answer requests for this host name (add it to allowed_hosts \
             or --allowed-host if you reach the emulator by it)",
        )
        .into_response()
    }
}
