//! The middleware every `/v1` request goes through: armed faults, then the request log.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::faults::{apply, drop_connection, DropSignal, FaultOutcome};
use crate::request_log::LoggedRequest;
use crate::state::AppState;

/// Middleware: applies armed faults to `/v1` requests and records them in the request log.
pub async fn fault_middleware(
    State(shared): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    if !path.starts_with("/v1") {
        return next.run(req).await;
    }
    let method = req.method().as_str().to_owned();
    let drop_signal = req.extensions().get::<DropSignal>().cloned();
    let log = |status: Option<u16>| {
        // The path never has the query string, where a revoked refresh token would travel.
        match status {
            Some(status) => tracing::info!(%method, %path, status, "request"),
            None => tracing::info!(%method, %path, "request (connection dropped)"),
        }
        shared.request_log.push(LoggedRequest {
            method: method.clone(),
            path: path.clone(),
            status,
        });
    };
    let outcome = match shared.faults.take(&method, &path) {
        None => FaultOutcome::Respond(next.run(req).await),
        Some(rule) => {
            tracing::info!(kind = ?rule.kind, %method, %path, "injecting fault");
            apply(&rule, req, next).await
        }
    };
    match outcome {
        FaultOutcome::Respond(resp) => {
            log(Some(resp.status().as_u16()));
            resp
        }
        FaultOutcome::Drop => {
            log(None);
            drop_connection(drop_signal).await
        }
    }
}
