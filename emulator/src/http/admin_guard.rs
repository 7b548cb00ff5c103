//! The admin API's (and the UI's) access checks, as middlewares:
//!
//! - [`admin_guard`]: the configured token, or a loopback bind without one;
//! - [`browser_guard`]: no other web page may drive them. A request whose `Origin` is neither the
//!   emulator's own nor a loopback origin (`null` included), or that a browser marks
//!   `Sec-Fetch-Site: cross-site`, gets 403 `origin_not_allowed`; an admin write (`POST`, `PATCH`,
//!   `PUT`, `DELETE`) must be `Content-Type: application/json` (415 otherwise), which no page can send
//!   to another origin without a CORS preflight (and the admin API answers none). A write without a
//!   body and without a `Content-Type` passes: the admin API's bodiless writes (`POST /reset`,
//!   `POST .../sessions`, `POST .../rotate-key`, the `DELETE`s) carry nothing a page could forge.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::base::api_error::ApiError;
use crate::context::Context;
use crate::http::host_guard::RequestHost;
use crate::settings::admin_access::{
    admin_allowed, admin_origin_allowed, AdminRefusal, ADMIN_TOKEN_HEADER,
};

/// Refuses admin calls without the configured token (401), or on a non-loopback bind without a token
/// configured (403).
pub async fn admin_guard(State(ctx): State<Arc<Context>>, req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(ADMIN_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok());
    match admin_allowed(&ctx.options.admin, presented) {
        Ok(()) => next.run(req).await,
        Err(AdminRefusal::BadToken) => {
            ApiError::invalid_access_token("missing or wrong x-emulator-admin-token")
                .into_response()
        }
        Err(AdminRefusal::NotLoopback) => ApiError::forbidden(
            "operation_not_allowed",
            "the admin API is disabled on a non-loopback address unless admin_token is configured",
        )
        .into_response(),
    }
}

/// Refuses admin and UI requests from other web pages: a foreign `Origin`, `Sec-Fetch-Site:
/// cross-site` (403 `origin_not_allowed`), or a write that is not JSON (415 `invalid_request`).
pub async fn browser_guard(req: Request, next: Next) -> Response {
    let headers = req.headers();
    let origin = headers
        .get(header::ORIGIN)
        .map(|v| v.to_str().unwrap_or(""));
    let host = RequestHost::of(&req).name();
    let cross_site = headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"));
    if cross_site || !admin_origin_allowed(origin, host) {
        return ApiError::forbidden(
            "origin_not_allowed",
            "the emulator's admin API and UI only answer their own pages and loopback origins",
        )
        .into_response();
    }
    let write = matches!(
        *req.method(),
        Method::POST | Method::PATCH | Method::PUT | Method::DELETE
    );
    if write && !json_or_bodiless(headers) {
        return ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "admin API writes must be sent as Content-Type: application/json",
        )
        .into_response();
    }
    next.run(req).await
}

/// Whether a write is JSON (`application/json`, any parameters), or has neither a body nor a
/// `Content-Type`.
fn json_or_bodiless(headers: &HeaderMap) -> bool {
    match headers.get(header::CONTENT_TYPE) {
        Some(value) => value.to_str().is_ok_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
        }),
        None => {
            let empty_length = headers
                .get(header::CONTENT_LENGTH)
                .is_none_or(|v| v.as_bytes() == b"0");
            empty_length && !headers.contains_key(header::TRANSFER_ENCODING)
        }
    }
}
