//! The emulator UI at `/_emulator/ui`: one server-rendered page for a developer clicking through their
//! own app (apps and their settings, users with their devices and sessions, the outbox with passcodes
//! and clickable magic links, the clock, faults and the request log).
//!
//! The page works without script for reading. Its small inline script (no build step) refreshes the
//! live parts from `GET /_emulator/ui/panels` (the same HTML, rendered per panel, as JSON) once a
//! second (`?refresh_ms=` changes that), and sends the buttons' and forms' actions to the `/_emulator`
//! admin API.
//!
//! Access follows the admin API's rule: open on a loopback bind without an admin token; with a token,
//! the page is served without any state and its script asks for the token, then sends it with every
//! call (`/panels` is guarded like the admin API, see [`crate::http::router()`]); on a non-loopback
//! bind without a token, refused.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use crate::base::api_error::ApiError;
use crate::context::Context;
use crate::http::extract::ApiQuery;
use crate::settings::admin_access::{admin_allowed, AdminRefusal};

mod render;

/// Query of the page.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    /// Milliseconds between live refreshes (clamped to 100..=60000; 1000 by default).
    #[serde(default)]
    refresh_ms: Option<u64>,
}

/// `GET /_emulator/ui[?refresh_ms=N]`: the whole page (or, when an admin token is required, the page
/// without state, which asks for the token).
pub async fn page(State(ctx): State<Arc<Context>>, ApiQuery(q): ApiQuery<PageQuery>) -> Response {
    let refresh_ms = q.refresh_ms.unwrap_or(1000).clamp(100, 60_000);
    // A browser navigating here cannot send the token header, so none is presented.
    let view = match admin_allowed(&ctx.options.admin, None) {
        Ok(()) => render::View::Full,
        Err(AdminRefusal::BadToken) => render::View::NeedsToken,
        Err(AdminRefusal::NotLoopback) => {
            return ApiError::forbidden(
                "operation_not_allowed",
                "the emulator UI is disabled on a non-loopback address unless admin_token is configured",
            )
            .into_response()
        }
    };
    (
        [(header::CACHE_CONTROL, "no-store")],
        Html(render::page(&ctx, refresh_ms, view)),
    )
        .into_response()
}

/// `GET /_emulator/ui/panels` -> `{"<panel>": "<html>", ...}`, for the page's live refresh.
pub async fn panels(State(ctx): State<Arc<Context>>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(render::panels(&ctx)),
    )
}
