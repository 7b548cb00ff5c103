//! One-time passcodes and magic links: registration and login by either, and their redemption.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::base::api_error::ApiResult;
use crate::base::redact::redacted_debug;
use crate::context::Context;
use crate::domain::passwordless::{
    activate_magic_link as activate_link, activate_otp as redeem_otp, magic_link_status as poll,
    send_login_magic_link, send_login_otp, send_registration_magic_link, send_registration_otp,
};
use crate::http::extract::{not_null, ApiJson, ApiPath};

/// Body of the register/login send operations.
#[derive(Debug, Deserialize)]
pub struct SendRequest {
    identifier: String,
    #[serde(default)]
    #[allow(dead_code)]
    language: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    magic_link_path: Option<String>,
}

/// `POST /apps/{app_id}/register/otp` (201).
pub async fn register_otp(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<SendRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let now = ctx.clock.now();
    let otp_id = ctx
        .mutate(|state| send_registration_otp(state, &app_id, &body.identifier, now))
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "otp_id": otp_id }))))
}

/// `POST /apps/{app_id}/login/otp` (201).
pub async fn login_otp(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<SendRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let now = ctx.clock.now();
    let otp_id = ctx
        .mutate(|state| send_login_otp(state, &app_id, &body.identifier, now))
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "otp_id": otp_id }))))
}

/// `POST /apps/{app_id}/register/magic-link` (201).
pub async fn register_magic_link(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<SendRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let now = ctx.clock.now();
    let link_id = ctx
        .mutate(|state| {
            send_registration_magic_link(
                state,
                &app_id,
                &body.identifier,
                body.magic_link_path.as_deref(),
                now,
            )
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "magic_link": { "id": link_id } })),
    ))
}

/// `POST /apps/{app_id}/login/magic-link` (200).
pub async fn login_magic_link(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<SendRequest>,
) -> ApiResult<Json<Value>> {
    let now = ctx.clock.now();
    let link_id = ctx
        .mutate(|state| {
            send_login_magic_link(
                state,
                &app_id,
                &body.identifier,
                body.magic_link_path.as_deref(),
                now,
            )
        })
        .await?;
    Ok(Json(json!({ "magic_link": { "id": link_id } })))
}

/// Body of `otp/activate`.
#[derive(Deserialize)]
pub struct ActivateOtpRequest {
    otp: String,
    otp_id: String,
}
redacted_debug!(ActivateOtpRequest { otp_id });

/// `POST /apps/{app_id}/otp/activate` (200). Wrong, unknown, used or expired passcodes give 400
/// `invalid_request`; too many wrong tries give 401 `exceeded_attempts`.
pub async fn activate_otp(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<ActivateOtpRequest>,
) -> ApiResult<Json<Value>> {
    let now = ctx.clock.now();
    let result = ctx
        .mutate(|state| {
            redeem_otp(
                &ctx.urls,
                state.app_mut(&app_id)?,
                &body.otp_id,
                &body.otp,
                now,
            )
        })
        .await;
    Ok(Json(result?.finish()?))
}

/// Body of `magic-link/activate`.
#[derive(Deserialize)]
pub struct ActivateLinkRequest {
    magic_link: String,
}
redacted_debug!(ActivateLinkRequest {});

/// `PATCH /apps/{app_id}/magic-link/activate` (200). Unknown, used or expired links give 401 `invalid_magic_link`.
pub async fn activate_magic_link(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<ActivateLinkRequest>,
) -> ApiResult<Json<Value>> {
    let now = ctx.clock.now();
    let result = ctx
        .mutate(|state| activate_link(&ctx.urls, state.app_mut(&app_id)?, &body.magic_link, now))
        .await;
    Ok(Json(result?.finish()?))
}

/// Body of `magic-link/status`.
#[derive(Debug, Deserialize)]
pub struct LinkStatusRequest {
    id: String,
}

/// `POST /apps/{app_id}/magic-link/status`: 404 `magic_link_not_found` until the link is activated, then
/// 200 with a new session on every poll until the link expires (so a poll whose answer was lost can be
/// repeated), then 404 again.
pub async fn magic_link_status(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<LinkStatusRequest>,
) -> ApiResult<Json<Value>> {
    let now = ctx.clock.now();
    let result = ctx
        .mutate(|state| poll(&ctx.urls, state.app_mut(&app_id)?, &body.id, now))
        .await;
    Ok(Json(result?.finish()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_debug_hides_secrets() {
        let otp: ActivateOtpRequest =
            serde_json::from_value(json!({"otp": "987654", "otp_id": "otp_1"})).expect("otp");
        let text = format!("{otp:?}");
        assert!(text.contains("otp_1") && !text.contains("987654"), "{text}");
        let link: ActivateLinkRequest =
            serde_json::from_value(json!({"magic_link": "link-secret"})).expect("link");
        assert!(!format!("{link:?}").contains("link-secret"));
    }
}
