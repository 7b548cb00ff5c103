//! The emulator UI at `/_emulator/ui`: one server-rendered page for a developer clicking through their
//! own app (apps and their settings, users with their devices and sessions, the outbox with passcodes
//! and clickable magic links, the clock, faults and the request log).
//!
//! The page works without script for reading. Its small inline script (no build step) refreshes the
//! live parts from `GET /_emulator/ui/panels` (the same HTML, rendered per panel, as JSON) once a
//! second (`?refresh_ms=` changes that), and sends the buttons' and forms' actions to the `/_emulator` admin API.

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};

use serde::Deserialize;

use crate::extract::ApiQuery;
use crate::state::AppState;

mod render;

/// The UI routes (mounted under `/_emulator/ui`).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(page))
        .route("/panels", get(panels))
}

/// Query of the page.
#[derive(Debug, Deserialize)]
struct PageQuery {
    /// Milliseconds between live refreshes (clamped to 100..=60000; 1000 by default).
    #[serde(default)]
    refresh_ms: Option<u64>,
}

/// `GET /_emulator/ui[?refresh_ms=N]`: the whole page.
async fn page(
    State(shared): State<AppState>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> impl IntoResponse {
    let refresh_ms = q.refresh_ms.unwrap_or(1000).clamp(100, 60_000);
    (
        [(header::CACHE_CONTROL, "no-store")],
        Html(render::page(&shared, refresh_ms)),
    )
}

/// `GET /_emulator/ui/panels` -> `{"<panel>": "<html>", ...}`, for the page's live refresh.
async fn panels(State(shared): State<AppState>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(render::panels(&shared)),
    )
}
