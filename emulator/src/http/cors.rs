//! CORS for the `/v1` API, so that a web page on an app's auth origin (or any loopback origin while
//! developing) can call the emulator cross-origin, as the official web SDK calls the hosted service.

use std::sync::Arc;

use std::time::Duration;

use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::context::Context;
use crate::settings::cors::is_loopback_origin;
use crate::settings::cors::normalize_origin;

/// Request headers a page may send (the official web SDK sends the `Passage-*` ones on every call,
/// the Flex web SDK `Passage-Flex-Version`).
pub const ALLOWED_REQUEST_HEADERS: [&str; 6] = [
    "authorization",
    "content-type",
    "passage-version",
    "passage-element-version",
    "passage-flex-version",
    "x-api-key",
];

/// Methods of the `/v1` API.
pub const ALLOWED_METHODS: [Method; 4] = [Method::GET, Method::POST, Method::PATCH, Method::DELETE];

/// Whether `origin` may call the API: an app's auth origin, a loopback origin (when allowed) or a
/// configured extra origin.
pub fn origin_allowed(ctx: &Arc<Context>, origin: &str) -> bool {
    let Some(origin) = normalize_origin(origin) else {
        return false;
    };
    let settings = &ctx.options.cors;
    if settings.allow_loopback && is_loopback_origin(&origin) {
        return true;
    }
    if settings.extra_origins.contains(&origin) {
        return true;
    }
    ctx.lock()
        .apps
        .values()
        .any(|app| normalize_origin(&app.config.auth_origin).as_deref() == Some(origin.as_str()))
}

/// The CORS layer for `/v1`: allowed origins are checked per request (apps can be added at runtime);
/// no credentials (the API uses bearer tokens, not cookies).
pub fn layer(ctx: Arc<Context>) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(
            move |origin: &HeaderValue, parts: &Parts| {
                parts.uri.path().starts_with("/v1")
                    && origin
                        .to_str()
                        .is_ok_and(|origin| origin_allowed(&ctx, origin))
            },
        ))
        .allow_methods(ALLOWED_METHODS)
        .allow_headers(ALLOWED_REQUEST_HEADERS.map(HeaderName::from_static))
        .expose_headers([header::RETRY_AFTER])
        .max_age(Duration::from_secs(600))
}

/// Middleware around the CORS layer: preflights (which the layer answers itself, with 200) get 204.
pub async fn preflight_no_content(req: Request, next: Next) -> Response {
    let preflight = req.method() == Method::OPTIONS;
    let mut resp = next.run(req).await;
    if preflight && resp.status() == StatusCode::OK {
        *resp.status_mut() = StatusCode::NO_CONTENT;
    }
    resp
}
