//! Fault injection and the request log: the middleware every request to the Auth API (`/v1`) and the
//! Management API (`/management/v1`) goes through, on the emulator's listener and through the
//! intercepting proxy alike, and what each kind of armed fault does to a request.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::context::Context;
use crate::model::faults::{FaultKind, FaultRegistry, FaultRule, MAX_FAULT_DELAY_MS};
use crate::model::request_log::LoggedRequest;

/// Where the fault middleware sits: in front of one API, whose paths it logs and matches fault
/// rules against under that API's prefix on the emulator's listener (so that a request through the
/// intercepting proxy, which serves both APIs under `/v1`, is logged and faulted as the same request
/// to the listener would be).
#[derive(Debug, Clone)]
pub struct FaultScope {
    /// The shared context (faults, request log).
    pub ctx: Arc<Context>,
    /// The API's prefix on the emulator's listener (`/v1` or `/management/v1`).
    pub prefix: &'static str,
}

/// Middleware of one API's router: applies armed faults to its requests and records them in the
/// request log, by their path on the emulator's listener (`scope.prefix` and the path within the
/// API).
pub async fn fault_middleware(
    State(scope): State<FaultScope>,
    req: Request,
    next: Next,
) -> Response {
    let ctx = scope.ctx;
    let path = format!("{}{}", scope.prefix, req.uri().path());
    let method = req.method().as_str().to_owned();
    let drop_signal = req.extensions().get::<DropSignal>().cloned();
    let log = |status: Option<u16>| {
        // The path never has the query string, where a revoked refresh token would travel.
        match status {
            Some(status) => tracing::info!(%method, %path, status, "request"),
            None => tracing::info!(%method, %path, "request (connection dropped)"),
        }
        ctx.request_log.push(LoggedRequest {
            method: method.clone(),
            path: path.clone(),
            status,
        });
    };
    let outcome = match ctx.faults.take(&method, &path) {
        None => FaultOutcome::Respond(next.run(req).await),
        Some(rule) => {
            tracing::info!(kind = ?rule.kind, %method, %path, "injecting fault");
            apply(&rule, &ctx.faults, req, next).await
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

/// Adds `Retry-After: secs` when `secs` is set.
fn with_retry_after(mut resp: Response, secs: Option<u64>) -> Response {
    if let Some(v) = secs.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// Per-connection signal: notifying it makes the server close the connection without answering.
#[derive(Debug, Clone, Default)]
pub struct DropSignal(pub Arc<tokio::sync::Notify>);

/// What an armed fault made of a request.
pub enum FaultOutcome {
    /// Send this answer.
    Respond(Response),
    /// Close the connection without answering.
    Drop,
}

impl std::fmt::Debug for FaultOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Respond(resp) => write!(f, "Respond({})", resp.status()),
            Self::Drop => f.write_str("Drop"),
        }
    }
}

/// Applies `rule` to a request; `next` runs the handler for the kinds that let it run.
pub async fn apply(
    rule: &FaultRule,
    faults: &FaultRegistry,
    req: Request,
    next: Next,
) -> FaultOutcome {
    let resp = match rule.kind {
        FaultKind::Status500 => error_response(StatusCode::INTERNAL_SERVER_ERROR),
        FaultKind::Status503 => with_retry_after(
            error_response(StatusCode::SERVICE_UNAVAILABLE),
            rule.retry_after,
        ),
        FaultKind::Status429 => with_retry_after(
            error_response(StatusCode::TOO_MANY_REQUESTS),
            Some(rule.retry_after.unwrap_or(1)),
        ),
        FaultKind::Delay => {
            tokio::time::sleep(Duration::from_millis(rule.delay_ms.unwrap_or(1000))).await;
            next.run(req).await
        }
        FaultKind::DelayAfterProcessing => {
            let resp = next.run(req).await;
            tokio::time::sleep(Duration::from_millis(rule.delay_ms.unwrap_or(1000))).await;
            resp
        }
        FaultKind::HoldAfterProcessing => {
            let resp = next.run(req).await;
            let limit = rule.delay_ms.unwrap_or(MAX_FAULT_DELAY_MS);
            faults.hold(Duration::from_millis(limit)).await;
            resp
        }
        FaultKind::TruncatedBody => raw_response(
            rule.status,
            "application/json",
            r#"{"auth_result":{"auth_token":"eyJ"#,
        ),
        FaultKind::NonJsonBody => raw_response(
            rule.status,
            "text/html",
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
        ),
        FaultKind::DropConnection => return FaultOutcome::Drop,
        FaultKind::DropAfterProcessing => {
            let _ = next.run(req).await;
            return FaultOutcome::Drop;
        }
    };
    FaultOutcome::Respond(resp)
}

fn error_response(status: StatusCode) -> Response {
    let code = if status == StatusCode::TOO_MANY_REQUESTS {
        "rate_limited"
    } else {
        "internal_server_error"
    };
    let body = serde_json::json!({"code": code, "error": "fault injected by the emulator"});
    (status, axum::Json(body)).into_response()
}

fn raw_response(status: Option<u16>, content_type: &'static str, body: &'static str) -> Response {
    let status = status
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// Makes the server close the connection (through `signal`) and never answers.
pub async fn drop_connection(signal: Option<DropSignal>) -> Response {
    match signal {
        Some(DropSignal(notify)) => {
            notify.notify_one();
            // The connection task drops this future together with the connection.
            std::future::pending::<Response>().await
        }
        // Served without a connection that can be dropped (the in-process admin client): fail loudly
        // instead of hanging.
        None => error_response(StatusCode::INTERNAL_SERVER_ERROR),
    }
}
