//! Fault injection, the request log and the exchange recorder: the middleware every request to the
//! Auth API (`/v1`) and the Management API (`/management/v1`) goes through, on the emulator's
//! listener and through the intercepting proxy alike, and what each kind of armed fault does to a
//! request.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::base::api_error::ApiError;
use crate::context::Context;
use crate::http::extract::unreadable_body;
use crate::model::exchanges::Exchange;
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
/// request log (and, when it is on, the exchange recorder), by their path on the emulator's listener
/// (`scope.prefix` and the path within the API).
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
    // With the recorder on, the request is kept whole: its body is read here and handed on as
    // read. A body announced over the limit is handed on unread (the handler answers as without
    // the recorder, 413 where it reads the body); one that turns out over the limit, or breaks,
    // while read here gets the answer the handlers' extractors give.
    let (req, recorded_request) = if ctx.options.record_exchanges {
        match buffer_request(req, ctx.options.max_body_bytes).await {
            Ok((req, recorded)) => (req, Some(recorded)),
            Err((error, recorded)) => {
                let resp = error.into_response();
                log(Some(resp.status().as_u16()));
                return record_answer(&ctx, &method, &path, recorded, resp, None).await;
            }
        }
    } else {
        (req, None)
    };
    let rule = ctx.faults.take(&method, &path);
    let fault = rule.as_ref().map(|rule| rule.kind);
    let outcome = match rule {
        None => FaultOutcome::Respond(next.run(req).await),
        Some(rule) => {
            tracing::info!(kind = ?rule.kind, %method, %path, "injecting fault");
            apply(&rule, &ctx.faults, req, next).await
        }
    };
    match outcome {
        FaultOutcome::Respond(resp) => {
            log(Some(resp.status().as_u16()));
            match recorded_request {
                Some(recorded) => record_answer(&ctx, &method, &path, recorded, resp, fault).await,
                None => resp,
            }
        }
        FaultOutcome::Drop => {
            log(None);
            if let Some(recorded) = recorded_request {
                ctx.exchanges.record(
                    Exchange::new(method, path, None, None, Vec::new(), fault).with_request(
                        recorded.query,
                        recorded.headers,
                        recorded.body,
                    ),
                );
            }
            drop_connection(drop_signal).await
        }
    }
}

/// A request as the exchange recorder keeps it.
struct RecordedRequest {
    query: Option<String>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Reads the request's body (at most `limit` bytes) and returns the request with that body, and
/// its copy (without the body when its `Content-Length` is over `limit`: then it is not read); or
/// the error its handler would have answered (413 over the limit), and the copy without the body.
async fn buffer_request(
    req: Request,
    limit: usize,
) -> Result<(Request, RecordedRequest), (ApiError, RecordedRequest)> {
    let (parts, body) = req.into_parts();
    let mut recorded = RecordedRequest {
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: Vec::new(),
    };
    let announced_too_large = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        .is_some_and(|len| len > limit);
    if announced_too_large {
        return Ok((Request::from_parts(parts, body), recorded));
    }
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => {
            recorded.body = bytes.to_vec();
            Ok((Request::from_parts(parts, Body::from(bytes)), recorded))
        }
        Err(e) => {
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            Err((unreadable_body(too_large), recorded))
        }
    }
}

/// Records `resp` (read whole: every answer of the emulator is a complete body in memory, so this
/// never waits on the network) with its request, and returns it as it was. An unreadable answer
/// body is recorded empty and answered as a 500.
async fn record_answer(
    ctx: &Context,
    method: &str,
    path: &str,
    request: RecordedRequest,
    resp: Response,
    fault: Option<FaultKind>,
) -> Response {
    let (parts, body) = resp.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await;
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (status, bytes) = match body {
        Ok(bytes) => (parts.status, bytes),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, Default::default()),
    };
    ctx.exchanges.record(
        Exchange::new(
            method,
            path,
            Some(status.as_u16()),
            content_type,
            bytes.to_vec(),
            fault,
        )
        .with_request(request.query, request.headers, request.body),
    );
    let mut resp = Response::from_parts(parts, Body::from(bytes));
    *resp.status_mut() = status;
    resp
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
