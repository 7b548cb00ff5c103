//! WebAuthn operations: passkey registration, login (with and without identifier), adding a device
//! to the signed-in user, and the transaction ceremonies that answer a nonce. The ceremonies are
//! [`crate::domain::passkeys`]'.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::base::api_error::{ApiError, ApiResult};
use crate::base::redact::redacted_debug;
use crate::context::Context;
use crate::domain::passkeys::{
    finish_adding_device, finish_registration_of_new_user, finish_transaction_registration,
    parse_attachment, record_credential_use, start_adding_device, start_passkey_login,
    start_registration_of_new_user, start_transaction_login, start_transaction_registration,
    take_login, Started,
};
use crate::domain::sessions::{bearer_user, log_in};
use crate::domain::transactions::issue_nonce;
use crate::http::extract::{authorization, not_null, ApiJson, ApiPath, OptionalJson};
use crate::http::views::{device_json, start_user_json};
use crate::model::handshakes::CeremonyPurpose;
use crate::model::state::EmulatorState;

fn handshake_json(started: Started) -> Value {
    json!({ "id": started.handshake_id, "challenge": started.options })
}

/// The `user` of a start answer.
fn start_user(
    state: &EmulatorState,
    app_id: &str,
    user_id: &str,
    quirks: bool,
) -> ApiResult<Value> {
    let app = state.app(app_id)?;
    Ok(json!(app
        .users
        .get(user_id)
        .map(|u| start_user_json(app, u, quirks))))
}

/// Finishes a login: the handshake and the user's credentials are taken under the state lock, the
/// assertion is verified after it is released (so that verifications run on every core), then the
/// used credential is written back. Returns the user id.
async fn finish_login(
    ctx: &Context,
    app_id: &str,
    handshake_id: &str,
    response: &Value,
    expected: &CeremonyPurpose,
    now: i64,
) -> ApiResult<String> {
    let check = ctx
        .mutate(|state| take_login(state, app_id, handshake_id, response, expected, now))
        .await?;
    let verified = check.verify(response)?;
    if let Some(used) = &verified.used {
        ctx.mutate(|state| {
            record_credential_use(state.app_mut(app_id)?, used, now);
            Ok(())
        })
        .await?;
    }
    Ok(verified.user_id)
}

/// Body of `register/webauthn/start`.
#[derive(Debug, Deserialize)]
pub struct RegisterStartRequest {
    identifier: String,
    #[serde(default, deserialize_with = "not_null")]
    authenticator_attachment: Option<String>,
}

/// `POST /apps/{app_id}/register/webauthn/start` (200): creates (or reuses) a pending user.
pub async fn register_start(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<RegisterStartRequest>,
) -> ApiResult<Json<Value>> {
    let now = ctx.clock.now();
    let pref = parse_attachment(body.authenticator_attachment.as_deref())?;
    let quirks = ctx.options.quirks;
    let out = ctx
        .mutate(|state| {
            let (started, user_id) =
                start_registration_of_new_user(state, &app_id, &body.identifier, pref, now)?;
            let user = start_user(state, &app_id, &user_id, quirks)?;
            Ok(json!({ "handshake": handshake_json(started), "user": user }))
        })
        .await?;
    Ok(Json(out))
}

/// Body of the registration finish operations.
#[derive(Deserialize)]
pub struct RegisterFinishRequest {
    handshake_id: String,
    handshake_response: Value,
    user_id: String,
}
redacted_debug!(RegisterFinishRequest {
    handshake_id,
    user_id
});

/// `POST /apps/{app_id}/register/webauthn/finish` (201 AuthResponse).
pub async fn register_finish(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<RegisterFinishRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let now = ctx.clock.now();
    let out = ctx
        .mutate(|state| {
            finish_registration_of_new_user(
                &ctx.urls,
                state,
                &app_id,
                &body.handshake_id,
                &body.handshake_response,
                &body.user_id,
                now,
            )
        })
        .await?;
    Ok((StatusCode::CREATED, Json(out.finish()?)))
}

/// Body of `login/webauthn/start`.
#[derive(Debug, Default, Deserialize)]
pub struct LoginStartRequest {
    #[serde(default, deserialize_with = "not_null")]
    identifier: Option<String>,
}

/// `POST /apps/{app_id}/login/webauthn/start` (200): with an identifier, a login for that user's
/// passkeys (409 `user_has_no_passkeys` when none); without, a discoverable login.
pub async fn login_start(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    OptionalJson(body): OptionalJson<LoginStartRequest>,
) -> ApiResult<Json<Value>> {
    let now = ctx.clock.now();
    let quirks = ctx.options.quirks;
    let out = ctx
        .mutate(|state| {
            let (started, user_id) =
                start_passkey_login(state, &app_id, body.identifier.as_deref(), now)?;
            let user = match user_id {
                Some(user_id) => start_user(state, &app_id, &user_id, quirks)?,
                None => Value::Null,
            };
            Ok(json!({ "handshake": handshake_json(started), "user": user }))
        })
        .await?;
    Ok(Json(out))
}

/// Body of the assertion finish operations.
#[derive(Deserialize)]
pub struct LoginFinishRequest {
    handshake_id: String,
    handshake_response: Value,
    #[serde(default)]
    #[allow(dead_code)]
    user_id: Option<String>,
    #[serde(default)]
    transaction_id: Option<String>,
}
redacted_debug!(LoginFinishRequest {
    handshake_id,
    user_id,
    transaction_id
});

/// `POST /apps/{app_id}/login/webauthn/finish` (200 AuthResponse).
pub async fn login_finish(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<LoginFinishRequest>,
) -> ApiResult<Json<Value>> {
    let now = ctx.clock.now();
    let user_id = finish_login(
        &ctx,
        &app_id,
        &body.handshake_id,
        &body.handshake_response,
        &CeremonyPurpose::Login,
        now,
    )
    .await?;
    let out = ctx
        .mutate(|state| log_in(&ctx.urls, state.app_mut(&app_id)?, &user_id, now))
        .await?;
    Ok(Json(out.finish()?))
}

/// Body of `currentuser/devices/start`.
#[derive(Debug, Default, Deserialize)]
pub struct AddDeviceStartRequest {
    #[serde(default, deserialize_with = "not_null")]
    authenticator_attachment: Option<String>,
}

/// Checks the bearer token of a current-user operation before its body is read (401 whatever the
/// body holds).
fn authenticate(ctx: &Context, app_id: &str, headers: &HeaderMap) -> ApiResult<()> {
    let state = ctx.lock();
    bearer_user(
        &ctx.urls,
        &state,
        app_id,
        authorization(headers),
        ctx.clock.now(),
    )
    .map(drop)
}

/// `POST /apps/{app_id}/currentuser/devices/start` (200).
pub async fn add_device_start(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    headers: HeaderMap,
    body: Result<OptionalJson<AddDeviceStartRequest>, ApiError>,
) -> ApiResult<Json<Value>> {
    authenticate(&ctx, &app_id, &headers)?;
    let OptionalJson(body) = body?;
    let now = ctx.clock.now();
    let pref = parse_attachment(body.authenticator_attachment.as_deref())?;
    let quirks = ctx.options.quirks;
    let out = ctx
        .mutate(|state| {
            let user_id = bearer_user(
                &ctx.urls,
                state,
                &app_id,
                authorization(&headers),
                ctx.clock.now(),
            )?;
            let started = start_adding_device(state, &app_id, &user_id, pref, now)?;
            let user = start_user(state, &app_id, &user_id, quirks)?;
            Ok(json!({ "handshake": handshake_json(started), "user": user }))
        })
        .await?;
    Ok(Json(out))
}

/// `POST /apps/{app_id}/currentuser/devices/finish` (201 CurrentUserDevice).
pub async fn add_device_finish(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    headers: HeaderMap,
    body: Result<ApiJson<RegisterFinishRequest>, ApiError>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    authenticate(&ctx, &app_id, &headers)?;
    let ApiJson(body) = body?;
    let now = ctx.clock.now();
    let out = ctx
        .mutate(|state| {
            let user_id = bearer_user(
                &ctx.urls,
                state,
                &app_id,
                authorization(&headers),
                ctx.clock.now(),
            )?;
            let device = finish_adding_device(
                state,
                &app_id,
                &user_id,
                &body.user_id,
                &body.handshake_id,
                &body.handshake_response,
                now,
            )?;
            Ok(json!({ "device": device_json(&device) }))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Body of `authenticate/transactions/webauthn/start`.
#[derive(Debug, Default, Deserialize)]
pub struct TransactionStartRequest {
    #[serde(default)]
    transaction_id: Option<String>,
}

/// `POST /apps/{app_id}/authenticate/transactions/webauthn/start` (200): a login for the transaction's
/// user, or a discoverable login when no transaction is given.
pub async fn transaction_login_start(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    OptionalJson(body): OptionalJson<TransactionStartRequest>,
) -> ApiResult<Json<Value>> {
    let now = ctx.clock.now();
    let tx = body.transaction_id.filter(|t| !t.is_empty());
    let out = ctx
        .mutate(|state| {
            let started = start_transaction_login(state, &app_id, tx.as_deref(), now)?;
            Ok(json!({ "handshake": handshake_json(started), "transaction_id": tx }))
        })
        .await?;
    Ok(Json(out))
}

/// `POST /apps/{app_id}/authenticate/transactions/webauthn/finish` (200 Nonce).
pub async fn transaction_login_finish(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<LoginFinishRequest>,
) -> ApiResult<Json<Value>> {
    let now = ctx.clock.now();
    let tx = body.transaction_id.clone().filter(|t| !t.is_empty());
    let user_id = finish_login(
        &ctx,
        &app_id,
        &body.handshake_id,
        &body.handshake_response,
        &CeremonyPurpose::Transaction(tx.clone()),
        now,
    )
    .await?;
    let out = ctx
        .mutate(|state| {
            let nonce = issue_nonce(state.app_mut(&app_id)?, tx, &user_id, now);
            Ok(json!({ "nonce": nonce }))
        })
        .await?;
    Ok(Json(out))
}

/// Body of `register/transactions/webauthn/start`.
#[derive(Debug, Deserialize)]
pub struct TransactionRegisterStartRequest {
    transaction_id: String,
    #[serde(default, deserialize_with = "not_null")]
    authenticator_attachment: Option<String>,
}

/// `POST /apps/{app_id}/register/transactions/webauthn/start` (200).
pub async fn transaction_register_start(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<TransactionRegisterStartRequest>,
) -> ApiResult<Json<Value>> {
    let now = ctx.clock.now();
    let pref = parse_attachment(body.authenticator_attachment.as_deref())?;
    let out = ctx
        .mutate(|state| {
            let started =
                start_transaction_registration(state, &app_id, &body.transaction_id, pref, now)?;
            Ok(json!({ "handshake": handshake_json(started), "transaction_id": body.transaction_id }))
        })
        .await?;
    Ok(Json(out))
}

/// Body of `register/transactions/webauthn/finish`.
#[derive(Deserialize)]
pub struct TransactionRegisterFinishRequest {
    handshake_id: String,
    handshake_response: Value,
    transaction_id: String,
}
redacted_debug!(TransactionRegisterFinishRequest {
    handshake_id,
    transaction_id
});

/// `POST /apps/{app_id}/register/transactions/webauthn/finish` (201 Nonce).
pub async fn transaction_register_finish(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<TransactionRegisterFinishRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let now = ctx.clock.now();
    let out = ctx
        .mutate(|state| {
            let nonce = finish_transaction_registration(
                state,
                &app_id,
                &body.handshake_id,
                &body.handshake_response,
                &body.transaction_id,
                now,
            )?;
            Ok(json!({ "nonce": nonce }))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(out)))
}
