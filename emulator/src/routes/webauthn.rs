//! WebAuthn routes: passkey registration, login (with and without identifier), adding a device to the
//! signed-in user, and the transaction ceremonies that answer a nonce. Verification is done by the
//! ceremony engine in [`crate::webauthn`]; this module keeps handshakes, users and devices.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::base::api_error::{ApiError, ApiResult};
use crate::base::digest::digest_hex;
use crate::base::enums::LoginMethod;
use crate::base::random::{random_id, random_secret};
use crate::base::redact::redacted_debug;
use crate::bearer::bearer_user;
use crate::context::Context;
use crate::domain::accounts::register_user;
use crate::domain::accounts::{ensure_can_login, record_login};
use crate::domain::sessions::issue_session;
use crate::extract::{ApiJson, ApiPath, OptionalJson};
use crate::model::app::AppRecord;
use crate::model::handshakes::{CeremonyPurpose, Handshake};
use crate::model::records::{DeviceRecord, NonceRecord, TransactionKind};
use crate::model::state::EmulatorState as Model;
use crate::relying_party::{AttachmentPreference, CeremonyError, RelyingParty, StoredCredential};
use crate::views::{device_json, devices_of, start_user_json};

/// Seconds a handshake stays valid.
const HANDSHAKE_TTL_SECONDS: i64 = 300;

fn relying_party(app: &AppRecord) -> ApiResult<RelyingParty> {
    let origin = url::Url::parse(&app.config.effective_rp_origin())
        .map_err(|e| ApiError::internal(format!("bad WebAuthn origin in app config: {e}")))?;
    RelyingParty::new(&app.config.effective_rp_id(), &origin, &app.config.name)
        .map_err(|e| ApiError::internal(e.to_string()))
}

fn attachment(value: Option<&str>) -> ApiResult<Option<AttachmentPreference>> {
    match value {
        None | Some("platform") => Ok(Some(AttachmentPreference::Platform)),
        Some("cross-platform") => Ok(Some(AttachmentPreference::CrossPlatform)),
        Some("any") => Ok(None),
        Some(_) => Err(ApiError::bad_request(
            "authenticator_attachment must be platform, cross-platform or any",
        )),
    }
}

/// Maps an engine error: bad input 400, verification failure 401 with `code`, no passkeys 409.
fn ceremony_error(err: CeremonyError, code: &'static str) -> ApiError {
    match err {
        CeremonyError::NoCredentials => ApiError::new(
            StatusCode::CONFLICT,
            "user_has_no_passkeys",
            "the user has no passkeys",
        ),
        e if e.is_bad_input() => ApiError::bad_request(e.to_string()),
        e if e.is_verification_failure() => ApiError::unauthorized(code, e.to_string()),
        e => ApiError::internal(e.to_string()),
    }
}

/// The user's stored credentials (decoded), with their device ids.
fn credentials_of(app: &AppRecord, user_id: &str) -> ApiResult<Vec<(String, StoredCredential)>> {
    devices_of(app, user_id)
        .map(|d| {
            serde_json::from_value::<StoredCredential>(d.credential.clone())
                .map(|c| (d.id.clone(), c))
                .map_err(|e| ApiError::internal(format!("stored credential is unreadable: {e}")))
        })
        .collect()
}

fn add_device(
    app: &mut AppRecord,
    user_id: &str,
    cred: &StoredCredential,
    now: i64,
) -> ApiResult<DeviceRecord> {
    let count = devices_of(app, user_id).count();
    let device = DeviceRecord {
        id: random_id("dev_"),
        cred_id: cred.id(),
        friendly_name: format!("Passkey {}", count + 1),
        user_id: user_id.to_owned(),
        kind: crate::base::enums::DeviceKind::Passkey,
        created_at: now,
        updated_at: now,
        last_login_at: now,
        usage_count: 0,
        credential: serde_json::to_value(cred).map_err(|e| ApiError::internal(e.to_string()))?,
    };
    app.devices.insert(device.id.clone(), device.clone());
    Ok(device)
}

/// Forgets expired handshakes.
fn prune_handshakes(state: &mut Model, now: i64) {
    state.handshakes.retain(|_, h| {
        let expires_at = match h {
            Handshake::Register { expires_at, .. }
            | Handshake::Login { expires_at, .. }
            | Handshake::Discoverable { expires_at, .. } => *expires_at,
        };
        now < expires_at
    });
}

fn handshake_json(id: &str, options: Value) -> Value {
    json!({ "id": id, "challenge": options })
}

/// Starts a registration for `user_id`; returns (handshake id, options).
fn start_registration(
    state: &mut Model,
    app_id: &str,
    user_id: &str,
    purpose: CeremonyPurpose,
    attachment_pref: Option<AttachmentPreference>,
    now: i64,
) -> ApiResult<(String, Value)> {
    let app = state.app(app_id)?;
    let user = app
        .users
        .get(user_id)
        .ok_or_else(ApiError::user_not_found)?;
    let name = if user.email.is_empty() {
        &user.phone
    } else {
        &user.email
    };
    let (_, existing): (Vec<_>, Vec<StoredCredential>) =
        credentials_of(app, user_id)?.into_iter().unzip();
    let (options, reg_state) = relying_party(app)?
        .start_registration_with_attachment(
            user.webauthn_handle,
            name,
            name,
            &existing,
            attachment_pref,
        )
        .map_err(|e| ceremony_error(e, "webauthn_login_failed"))?;
    let id = random_id("hs_");
    prune_handshakes(state, now);
    state.handshakes.insert(
        id.clone(),
        Handshake::Register {
            app_id: app_id.to_owned(),
            user_id: user_id.to_owned(),
            purpose,
            state: reg_state,
            expires_at: now + HANDSHAKE_TTL_SECONDS,
        },
    );
    Ok((id, options))
}

/// Finishes a registration; returns (user id, new device).
fn finish_registration(
    state: &mut Model,
    app_id: &str,
    handshake_id: &str,
    response: &Value,
    expected: &CeremonyPurpose,
    now: i64,
) -> ApiResult<(String, DeviceRecord)> {
    let unknown = || ApiError::bad_request("unknown or expired handshake");
    let handshake = state.handshakes.remove(handshake_id).ok_or_else(unknown)?;
    let Handshake::Register {
        app_id: hs_app,
        user_id,
        purpose,
        state: reg_state,
        expires_at,
    } = handshake
    else {
        return Err(unknown());
    };
    if hs_app != app_id || &purpose != expected || now >= expires_at {
        return Err(unknown());
    }
    let app = state.app_mut(app_id)?;
    let cred = relying_party(app)?
        .finish_registration(response, &reg_state)
        .map_err(|e| ceremony_error(e, "webauthn_login_failed"))?;
    if app.devices.values().any(|d| d.cred_id == cred.id()) {
        return Err(ApiError::bad_request(
            "this credential is already registered",
        ));
    }
    let device = add_device(app, &user_id, &cred, now)?;
    Ok((user_id, device))
}

/// Starts a login: for `user_id` when given (their passkeys), else discoverable.
fn start_login(
    state: &mut Model,
    app_id: &str,
    user_id: Option<&str>,
    purpose: CeremonyPurpose,
    now: i64,
) -> ApiResult<(String, Value)> {
    let app = state.app(app_id)?;
    let rp = relying_party(app)?;
    let id = random_id("hs_");
    let expires_at = now + HANDSHAKE_TTL_SECONDS;
    let (options, handshake) = match user_id {
        Some(user_id) => {
            let (_, creds): (Vec<_>, Vec<StoredCredential>) =
                credentials_of(app, user_id)?.into_iter().unzip();
            let (options, login_state) = rp
                .start_login(&creds)
                .map_err(|e| ceremony_error(e, "webauthn_login_failed"))?;
            let hs = Handshake::Login {
                app_id: app_id.to_owned(),
                user_id: user_id.to_owned(),
                purpose,
                state: login_state,
                expires_at,
            };
            (options, hs)
        }
        None => {
            let (options, disc_state) = rp
                .start_discoverable_login()
                .map_err(|e| ceremony_error(e, "discoverable_login_failed"))?;
            let hs = Handshake::Discoverable {
                app_id: app_id.to_owned(),
                purpose,
                state: disc_state,
                expires_at,
            };
            (options, hs)
        }
    };
    prune_handshakes(state, now);
    state.handshakes.insert(id.clone(), handshake);
    Ok((id, options))
}

/// A login ceremony taken out of the state, to be verified without holding the state lock.
struct LoginCheck {
    user_id: String,
    rp: RelyingParty,
    state: LoginCheckState,
    device_ids: Vec<String>,
    creds: Vec<StoredCredential>,
    code: &'static str,
}

enum LoginCheckState {
    Known(crate::relying_party::LoginState),
    Discoverable(crate::relying_party::DiscoverableState),
}

/// Under the lock: takes the (single-use) handshake and copies the user's credentials.
fn take_login(
    state: &mut Model,
    app_id: &str,
    handshake_id: &str,
    response: &Value,
    expected: &CeremonyPurpose,
    now: i64,
) -> ApiResult<LoginCheck> {
    let unknown =
        || ApiError::unauthorized("webauthn_login_failed", "unknown or expired handshake");
    let handshake = state.handshakes.remove(handshake_id).ok_or_else(unknown)?;
    let (user_id, check_state, code) = match handshake {
        Handshake::Login {
            app_id: hs_app,
            user_id,
            purpose,
            state: login_state,
            expires_at,
        } => {
            if hs_app != app_id || &purpose != expected || now >= expires_at {
                return Err(unknown());
            }
            (
                user_id,
                LoginCheckState::Known(login_state),
                "webauthn_login_failed",
            )
        }
        Handshake::Discoverable {
            app_id: hs_app,
            purpose,
            state: disc_state,
            expires_at,
        } => {
            let failed =
                |m: &str| ApiError::unauthorized("discoverable_login_failed", m.to_owned());
            if hs_app != app_id || &purpose != expected || now >= expires_at {
                return Err(failed("unknown or expired handshake"));
            }
            let app = state.app(app_id)?;
            // Reads the user handle only; nothing is verified here.
            let (handle, _) = relying_party(app)?
                .identify_discoverable(response)
                .map_err(|e| ceremony_error(e, "discoverable_login_failed"))?;
            let user_id = app
                .users
                .values()
                .find(|u| u.webauthn_handle == handle)
                .map(|u| u.id.clone())
                .ok_or_else(|| failed("no user owns this passkey"))?;
            (
                user_id,
                LoginCheckState::Discoverable(disc_state),
                "discoverable_login_failed",
            )
        }
        Handshake::Register { .. } => return Err(unknown()),
    };
    let app = state.app(app_id)?;
    let (device_ids, creds) = credentials_of(app, &user_id)?.into_iter().unzip();
    Ok(LoginCheck {
        user_id,
        rp: relying_party(app)?,
        state: check_state,
        device_ids,
        creds,
        code,
    })
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
    let mut check = ctx
        .mutate(|state| take_login(state, app_id, handshake_id, response, expected, now))
        .await?;
    let used = match check.state {
        LoginCheckState::Known(login_state) => {
            check
                .rp
                .finish_login(response, &login_state, &mut check.creds)
        }
        LoginCheckState::Discoverable(disc_state) => {
            check
                .rp
                .finish_discoverable_login(response, disc_state, &mut check.creds)
        }
    }
    .map_err(|e| ceremony_error(e, check.code))?;
    let Some((device_id, cred)) = check
        .device_ids
        .iter()
        .zip(&check.creds)
        .find(|(_, c)| c.id() == used)
    else {
        return Ok(check.user_id);
    };
    let value = serde_json::to_value(cred).map_err(|e| ApiError::internal(e.to_string()))?;
    ctx.mutate(|state| {
        let app = state.app_mut(app_id)?;
        if let Some(device) = app.devices.get_mut(device_id) {
            // Two logins verified at once: the higher signature counter wins.
            let stored = serde_json::from_value::<StoredCredential>(device.credential.clone())
                .map(|c| c.sign_count())
                .unwrap_or(0);
            if cred.sign_count() >= stored {
                device.credential = value;
            }
            device.usage_count += 1;
            device.last_login_at = now;
            device.updated_at = now;
        }
        Ok(())
    })
    .await?;
    Ok(check.user_id)
}

/// Body of `register/webauthn/start`.
#[derive(Debug, Deserialize)]
pub struct RegisterStartRequest {
    identifier: String,
    #[serde(default)]
    authenticator_attachment: Option<String>,
}

/// `POST /apps/{app_id}/register/webauthn/start` (200): creates (or reuses) a pending user.
pub async fn register_start(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<RegisterStartRequest>,
) -> ApiResult<Json<Value>> {
    let now = ctx.clock.now();
    let pref = attachment(body.authenticator_attachment.as_deref())?;
    let quirks = ctx.options.quirks;
    let out = ctx
        .mutate(|state| {
            state
                .app(&app_id)?
                .config
                .ensure_offers(LoginMethod::Passkeys)?;
            let (user_id, _) = register_user(state.app_mut(&app_id)?, &body.identifier, now)?;
            let (id, options) = start_registration(
                state,
                &app_id,
                &user_id,
                CeremonyPurpose::Register,
                pref,
                now,
            )?;
            let app = state.app(&app_id)?;
            let user = app
                .users
                .get(&user_id)
                .map(|u| start_user_json(app, u, quirks));
            Ok(json!({ "handshake": handshake_json(&id, options), "user": user }))
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
            check_handshake_user(state, &body.handshake_id, &body.user_id)?;
            let (user_id, _) = finish_registration(
                state,
                &app_id,
                &body.handshake_id,
                &body.handshake_response,
                &CeremonyPurpose::Register,
                now,
            )?;
            let app = state.app_mut(&app_id)?;
            let user = app
                .users
                .get_mut(&user_id)
                .ok_or_else(ApiError::user_not_found)?;
            record_login(user, now);
            issue_session(&ctx, app, &user_id, now)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(out.finish()?)))
}

/// Refuses a finish call whose `user_id` is not the one the handshake was started for.
fn check_handshake_user(state: &Model, handshake_id: &str, user_id: &str) -> ApiResult<()> {
    match state.handshakes.get(handshake_id) {
        Some(Handshake::Register {
            user_id: expected, ..
        }) if expected != user_id => Err(ApiError::bad_request(
            "user_id does not match the handshake",
        )),
        _ => Ok(()),
    }
}

/// Body of `login/webauthn/start`.
#[derive(Debug, Default, Deserialize)]
pub struct LoginStartRequest {
    #[serde(default)]
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
            let app = state.app(&app_id)?;
            app.config.ensure_offers(LoginMethod::Passkeys)?;
            let user_id = match body.identifier.as_deref().filter(|i| !i.trim().is_empty()) {
                Some(identifier) => {
                    let (_, id) =
                        crate::domain::accounts::classify_identifier(&app.config, identifier)?;
                    let user = app
                        .find_user_by_identifier(&id)
                        .ok_or_else(ApiError::user_not_found)?;
                    ensure_can_login(user)?;
                    Some(user.id.clone())
                }
                None => None,
            };
            let (id, options) = start_login(
                state,
                &app_id,
                user_id.as_deref(),
                CeremonyPurpose::Login,
                now,
            )?;
            let app = state.app(&app_id)?;
            let user = user_id
                .and_then(|u| app.users.get(&u))
                .map(|u| start_user_json(app, u, quirks));
            Ok(json!({ "handshake": handshake_json(&id, options), "user": user }))
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
        .mutate(|state| {
            let app = state.app_mut(&app_id)?;
            let user = app
                .users
                .get_mut(&user_id)
                .ok_or_else(ApiError::user_not_found)?;
            ensure_can_login(user)?;
            record_login(user, now);
            issue_session(&ctx, app, &user_id, now)
        })
        .await?;
    Ok(Json(out.finish()?))
}

/// Body of `currentuser/devices/start`.
#[derive(Debug, Default, Deserialize)]
pub struct AddDeviceStartRequest {
    #[serde(default)]
    authenticator_attachment: Option<String>,
}

/// `POST /apps/{app_id}/currentuser/devices/start` (200).
pub async fn add_device_start(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<AddDeviceStartRequest>,
) -> ApiResult<Json<Value>> {
    let now = ctx.clock.now();
    let pref = attachment(body.authenticator_attachment.as_deref())?;
    let quirks = ctx.options.quirks;
    let out = ctx
        .mutate(|state| {
            let user_id = bearer_user(&ctx, state, &app_id, &headers)?;
            state
                .app(&app_id)?
                .config
                .ensure_offers(LoginMethod::Passkeys)?;
            let (id, options) = start_registration(
                state,
                &app_id,
                &user_id,
                CeremonyPurpose::AddDevice,
                pref,
                now,
            )?;
            let app = state.app(&app_id)?;
            let user = app
                .users
                .get(&user_id)
                .map(|u| start_user_json(app, u, quirks));
            Ok(json!({ "handshake": handshake_json(&id, options), "user": user }))
        })
        .await?;
    Ok(Json(out))
}

/// `POST /apps/{app_id}/currentuser/devices/finish` (201 CurrentUserDevice).
pub async fn add_device_finish(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RegisterFinishRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let now = ctx.clock.now();
    let out = ctx
        .mutate(|state| {
            let user_id = bearer_user(&ctx, state, &app_id, &headers)?;
            if body.user_id != user_id {
                return Err(ApiError::forbidden(
                    "operation_not_allowed",
                    "user_id is not the signed-in user",
                ));
            }
            check_handshake_user(state, &body.handshake_id, &user_id)?;
            let (_, device) = finish_registration(
                state,
                &app_id,
                &body.handshake_id,
                &body.handshake_response,
                &CeremonyPurpose::AddDevice,
                now,
            )?;
            Ok(json!({ "device": device_json(&device) }))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(out)))
}

fn transaction_not_found() -> ApiError {
    ApiError::not_found("transaction_not_found", "transaction not found")
}

/// Looks up an open transaction of `kind`; returns its user id.
fn open_transaction(app: &AppRecord, id: &str, kind: TransactionKind) -> ApiResult<String> {
    let tx = app
        .transactions
        .get(id)
        .filter(|t| t.kind == kind && !t.completed)
        .ok_or_else(transaction_not_found)?;
    Ok(tx.user_id.clone())
}

/// Issues a nonce for a completed transaction ceremony.
fn issue_nonce(
    app: &mut AppRecord,
    transaction_id: Option<String>,
    user_id: &str,
    now: i64,
) -> String {
    if let Some(tx) = transaction_id
        .as_ref()
        .and_then(|id| app.transactions.get_mut(id))
    {
        tx.completed = true;
    }
    let nonce = random_secret(24);
    app.nonces.insert(
        digest_hex(&nonce),
        NonceRecord {
            transaction_id,
            user_id: user_id.to_owned(),
            issued_at: now,
        },
    );
    nonce
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
    let out = ctx
        .mutate(|state| {
            let app = state.app(&app_id)?;
            let tx = body.transaction_id.clone().filter(|t| !t.is_empty());
            let user_id = match &tx {
                Some(id) => Some(open_transaction(app, id, TransactionKind::Authenticate)?),
                None => None,
            };
            let (id, options) = start_login(
                state,
                &app_id,
                user_id.as_deref(),
                CeremonyPurpose::Transaction(tx.clone()),
                now,
            )?;
            Ok(json!({ "handshake": handshake_json(&id, options), "transaction_id": tx }))
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
            let app = state.app_mut(&app_id)?;
            let nonce = issue_nonce(app, tx, &user_id, now);
            Ok(json!({ "nonce": nonce }))
        })
        .await?;
    Ok(Json(out))
}

/// Body of `register/transactions/webauthn/start`.
#[derive(Debug, Deserialize)]
pub struct TransactionRegisterStartRequest {
    transaction_id: String,
    #[serde(default)]
    authenticator_attachment: Option<String>,
}

/// `POST /apps/{app_id}/register/transactions/webauthn/start` (200).
pub async fn transaction_register_start(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<TransactionRegisterStartRequest>,
) -> ApiResult<Json<Value>> {
    let now = ctx.clock.now();
    let pref = attachment(body.authenticator_attachment.as_deref())?;
    let out = ctx.mutate(|state| {
        let user_id = open_transaction(state.app(&app_id)?, &body.transaction_id, TransactionKind::Register)?;
        let (id, options) = start_registration(
            state,
            &app_id,
            &user_id,
            CeremonyPurpose::Transaction(Some(body.transaction_id.clone())),
            pref,
            now,
        )?;
        Ok(json!({ "handshake": handshake_json(&id, options), "transaction_id": body.transaction_id }))
    }).await?;
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
            open_transaction(
                state.app(&app_id)?,
                &body.transaction_id,
                TransactionKind::Register,
            )?;
            let (user_id, _) = finish_registration(
                state,
                &app_id,
                &body.handshake_id,
                &body.handshake_response,
                &CeremonyPurpose::Transaction(Some(body.transaction_id.clone())),
                now,
            )?;
            let app = state.app_mut(&app_id)?;
            if let Some(user) = app.users.get_mut(&user_id) {
                if user.status == crate::base::enums::UserStatus::Pending {
                    user.status = crate::base::enums::UserStatus::Active;
                }
            }
            let nonce = issue_nonce(app, Some(body.transaction_id.clone()), &user_id, now);
            Ok(json!({ "nonce": nonce }))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(out)))
}
