//! The instance-wide part of the `/_emulator` admin API: reset, clock, outbox, faults, request log.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::base::api_error::{ApiError, ApiResult};
use crate::base::identifiers::normalize_identifier;
use crate::context::Context;
use crate::domain::apps::{reset_all, reset_app};
use crate::http::extract::{ApiQuery, PlainJson};
use crate::model::admin_api::{ClockReading, FaultRule};
use crate::model::outbox::OutboxMessage;
use crate::settings::urls::{AUTH_API_PREFIX, MANAGEMENT_API_PREFIX};

/// Query of `POST /_emulator/reset`.
#[derive(Debug, Deserialize)]
pub struct ResetQuery {
    #[serde(default)]
    app_id: Option<String>,
}

/// `POST /_emulator/reset[?app_id=]` (204): empties users, sessions, outbox, faults and the request log,
/// of one app (its outbox messages, and faults and logged requests under `/v1/apps/{app_id}` and
/// `/management/v1/apps/{app_id}`) or of all.
pub async fn reset(
    State(ctx): State<Arc<Context>>,
    ApiQuery(q): ApiQuery<ResetQuery>,
) -> ApiResult<StatusCode> {
    match q.app_id {
        None => {
            ctx.mutate(|state| {
                reset_all(state);
                Ok(())
            })
            .await?;
            ctx.faults.clear();
            ctx.request_log.clear();
        }
        Some(app_id) => {
            ctx.mutate(|state| reset_app(state, &app_id)).await?;
            let prefixes =
                [AUTH_API_PREFIX, MANAGEMENT_API_PREFIX].map(|api| format!("{api}/apps/{app_id}"));
            let under = |path: &str| {
                prefixes
                    .iter()
                    .any(|prefix| path == prefix || path.starts_with(&format!("{prefix}/")))
            };
            ctx.faults.retain(|r| !under(&r.path_prefix));
            ctx.request_log.retain(|r| !under(&r.path));
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

fn clock_reading(ctx: &Context, now: i64) -> ClockReading {
    ClockReading {
        now,
        offset_seconds: ctx.clock.offset_seconds(),
    }
}

/// `GET /_emulator/clock` -> `{"now": ..., "offset_seconds": ...}`.
pub async fn get_clock(State(ctx): State<Arc<Context>>) -> Json<ClockReading> {
    Json(clock_reading(&ctx, ctx.clock.now()))
}

/// Largest single clock step (100 years), so emulator time never overflows.
const MAX_ADVANCE_SECONDS: i64 = 100 * 365 * 24 * 3600;

/// Body of `POST /_emulator/clock/advance`.
#[derive(Debug, Deserialize)]
pub struct AdvanceRequest {
    seconds: i64,
}

/// `POST /_emulator/clock/advance {"seconds": N}` -> `{"now": ..., "offset_seconds": ...}`.
pub async fn advance_clock(
    State(ctx): State<Arc<Context>>,
    PlainJson(body): PlainJson<AdvanceRequest>,
) -> ApiResult<Json<ClockReading>> {
    if !(0..=MAX_ADVANCE_SECONDS).contains(&body.seconds) {
        return Err(ApiError::bad_request(
            "seconds must be between 0 and 3153600000 (the clock only moves forward)",
        ));
    }
    let now = ctx.clock.advance(body.seconds);
    Ok(Json(clock_reading(&ctx, now)))
}

/// Query of `GET /_emulator/outbox`.
#[derive(Debug, Deserialize)]
pub struct OutboxQuery {
    #[serde(default)]
    identifier: Option<String>,
    #[serde(default)]
    otp_id: Option<String>,
}

/// `GET /_emulator/outbox[?identifier=][&otp_id=]` -> JSON array of messages, oldest first
/// (with `otp_id`, only the passcode of that id).
pub async fn get_outbox(
    State(ctx): State<Arc<Context>>,
    ApiQuery(q): ApiQuery<OutboxQuery>,
) -> ApiResult<Response> {
    let needle = q.identifier.as_deref().map(normalize_identifier);
    let wanted = |m: &&OutboxMessage| q.otp_id.is_none() || m.otp_id == q.otp_id;
    // Serialised straight from the records, under the lock: no copy of the messages.
    let body = {
        let state = ctx.lock();
        let messages: Vec<&OutboxMessage> = match (&needle, &q.otp_id) {
            // One passcode has that id: searched from the newest message, where a test looks for
            // the passcode it just had sent.
            (Some(identifier), Some(_)) => state
                .outbox
                .for_identifier(identifier)
                .rev()
                .find(wanted)
                .into_iter()
                .collect(),
            (Some(identifier), None) => state.outbox.for_identifier(identifier).collect(),
            (None, _) => state.outbox.iter().filter(wanted).collect(),
        };
        serde_json::to_vec(&messages)
    }
    .map_err(|e| ApiError::internal(format!("cannot encode the outbox: {e}")))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

/// `DELETE /_emulator/outbox` (204).
pub async fn clear_outbox(State(ctx): State<Arc<Context>>) -> ApiResult<StatusCode> {
    ctx.mutate(|state| {
        state.outbox.clear();
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /_emulator/faults` -> `{"faults": [...]}`.
pub async fn list_faults(State(ctx): State<Arc<Context>>) -> Json<Value> {
    Json(json!({ "faults": ctx.faults.list() }))
}

/// `POST /_emulator/faults` with a [`FaultRule`] -> 201; 400 for a rule that cannot be armed
/// ([`FaultRule::check`]: no count, too long a delay, a status a client cannot receive).
pub async fn add_fault(
    State(ctx): State<Arc<Context>>,
    PlainJson(rule): PlainJson<FaultRule>,
) -> ApiResult<StatusCode> {
    rule.check()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    ctx.faults.add(rule);
    Ok(StatusCode::CREATED)
}

/// `DELETE /_emulator/faults` (204).
pub async fn clear_faults(State(ctx): State<Arc<Context>>) -> StatusCode {
    ctx.faults.clear();
    StatusCode::NO_CONTENT
}

/// `POST /_emulator/faults/release` (204): sends every answer a `hold_after_processing` fault
/// holds now.
pub async fn release_held_answers(State(ctx): State<Arc<Context>>) -> StatusCode {
    ctx.faults.release_held();
    StatusCode::NO_CONTENT
}

/// Query of `GET /_emulator/requests`.
#[derive(Debug, Deserialize)]
pub struct RequestsQuery {
    #[serde(default)]
    path_prefix: Option<String>,
    #[serde(default)]
    method: Option<String>,
}

/// `GET /_emulator/requests[?path_prefix=&method=]` -> `{"count": n, "requests": [{method, path, status}]}`.
pub async fn list_requests(
    State(ctx): State<Arc<Context>>,
    ApiQuery(q): ApiQuery<RequestsQuery>,
) -> Json<Value> {
    let matching: Vec<Value> = ctx
        .request_log
        .list()
        .into_iter()
        .filter(|r| {
            q.path_prefix
                .as_deref()
                .is_none_or(|p| r.path.starts_with(p))
        })
        .filter(|r| {
            q.method
                .as_deref()
                .is_none_or(|m| r.method.eq_ignore_ascii_case(m))
        })
        .map(|r| json!(r))
        .collect();
    Json(json!({ "count": matching.len(), "requests": matching }))
}

/// `DELETE /_emulator/requests` (204).
pub async fn clear_requests(State(ctx): State<Arc<Context>>) -> StatusCode {
    ctx.request_log.clear();
    StatusCode::NO_CONTENT
}
