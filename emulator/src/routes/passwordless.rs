//! Registration and login by one-time passcode and magic link, and their redemption.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::base::api_error::{ApiError, ApiResult};
use crate::base::clock::rfc3339;
use crate::base::digest::{digest_hex, secret_eq};
use crate::base::enums::LoginMethod;
use crate::base::enums::OutboxKind;
use crate::base::random::{random_id, random_otp, random_secret};
use crate::base::redact::redacted_debug;
use crate::context::Context;
use crate::domain::accounts::classify_identifier;
use crate::domain::accounts::{ensure_can_login, identifier_taken, record_login, register_user};
use crate::domain::sessions::issue_session;
use crate::extract::{ApiJson, ApiPath};
use crate::model::app::AppRecord;
use crate::model::outbox::OutboxMessage;
use crate::model::records::{LinkPurpose, MagicLinkRecord, OtpRecord};
use crate::model::state::EmulatorState as Model;

/// Body of the register/login send operations.
#[derive(Debug, Deserialize)]
pub struct SendRequest {
    identifier: String,
    #[serde(default)]
    #[allow(dead_code)]
    language: Option<String>,
    #[serde(default)]
    magic_link_path: Option<String>,
}

/// Finds the user for a login; returns (user id, normalized identifier).
fn login_user(app: &AppRecord, identifier: &str) -> ApiResult<(String, String)> {
    let (_, id) = classify_identifier(&app.config, identifier)?;
    let user = app
        .find_user_by_identifier(&id)
        .ok_or_else(ApiError::user_not_found)?;
    ensure_can_login(user)?;
    Ok((user.id.clone(), id))
}

/// Creates a passcode and puts it in the outbox; returns its id.
fn send_otp(
    state: &mut Model,
    app_id: &str,
    user_id: &str,
    identifier: &str,
    now: i64,
) -> ApiResult<String> {
    let app = state.app_mut(app_id)?;
    let otp = OtpRecord {
        id: random_id("otp_"),
        code: random_otp(),
        user_id: user_id.to_owned(),
        identifier: identifier.to_owned(),
        expires_at: now + app.config.otp_ttl_seconds,
        failed_attempts: 0,
        used: false,
    };
    let message = OutboxMessage {
        app_id: app_id.to_owned(),
        identifier: identifier.to_owned(),
        kind: OutboxKind::Otp,
        otp: Some(otp.code.clone()),
        otp_id: Some(otp.id.clone()),
        magic_link_url: None,
        magic_link_secret: None,
        magic_link_id: None,
        created_at: rfc3339(now),
    };
    let id = otp.id.clone();
    app.otps.insert(id.clone(), otp);
    state.outbox.push(message);
    Ok(id)
}

/// Creates a magic link and puts it in the outbox; returns its id.
#[allow(clippy::too_many_arguments)]
pub fn send_magic_link(
    state: &mut Model,
    app_id: &str,
    user_id: &str,
    identifier: &str,
    purpose: LinkPurpose,
    path: Option<&str>,
    redirect_url: Option<String>,
    now: i64,
) -> ApiResult<String> {
    let app = state.app_mut(app_id)?;
    let secret = random_secret(24);
    let path = path.unwrap_or(&app.config.login_url);
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    let invalid_path = || ApiError::bad_request("magic_link_path is not a valid path");
    let origin = url::Url::parse(&app.config.auth_origin).map_err(|_| invalid_path())?;
    let mut url = origin.join(&path).map_err(|_| invalid_path())?;
    // `//host/x` joins as a scheme-relative URL: the link (and its secret) must stay on the app's origin.
    if url.origin() != origin.origin() {
        return Err(invalid_path());
    }
    url.query_pairs_mut().append_pair("psg_magic_link", &secret);
    let link = MagicLinkRecord {
        id: random_id("ml_"),
        secret_digest: digest_hex(&secret),
        user_id: user_id.to_owned(),
        identifier: identifier.to_owned(),
        purpose,
        expires_at: now + app.config.magic_link_ttl_seconds,
        activated: false,
        status_delivered: false,
        redirect_url,
    };
    let id = link.id.clone();
    app.magic_links.insert(id.clone(), link);
    state.outbox.push(OutboxMessage {
        app_id: app_id.to_owned(),
        identifier: identifier.to_owned(),
        kind: OutboxKind::MagicLink,
        otp: None,
        otp_id: None,
        magic_link_url: Some(url.to_string()),
        magic_link_secret: Some(secret),
        magic_link_id: Some(id.clone()),
        created_at: rfc3339(now),
    });
    Ok(id)
}

/// `POST /apps/{app_id}/register/otp` (201).
pub async fn register_otp(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<SendRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let now = ctx.clock.now();
    let otp_id = ctx
        .mutate(|state| {
            state.app(&app_id)?.config.ensure_offers(LoginMethod::Otp)?;
            let (user_id, id) = register_user(state.app_mut(&app_id)?, &body.identifier, now)?;
            send_otp(state, &app_id, &user_id, &id, now)
        })
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
        .mutate(|state| {
            state.app(&app_id)?.config.ensure_offers(LoginMethod::Otp)?;
            let (user_id, id) = login_user(state.app(&app_id)?, &body.identifier)?;
            send_otp(state, &app_id, &user_id, &id, now)
        })
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
            state
                .app(&app_id)?
                .config
                .ensure_offers(LoginMethod::MagicLink)?;
            let (user_id, id) = register_user(state.app_mut(&app_id)?, &body.identifier, now)?;
            send_magic_link(
                state,
                &app_id,
                &user_id,
                &id,
                LinkPurpose::Login,
                body.magic_link_path.as_deref(),
                None,
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
            state
                .app(&app_id)?
                .config
                .ensure_offers(LoginMethod::MagicLink)?;
            let (user_id, id) = login_user(state.app(&app_id)?, &body.identifier)?;
            send_magic_link(
                state,
                &app_id,
                &user_id,
                &id,
                LinkPurpose::Login,
                body.magic_link_path.as_deref(),
                None,
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

/// A passcode that cannot be redeemed: 400 `invalid_request`, which the official native SDKs show as
/// "the otp or the otp_id is invalid" (a 401 would read as "attempts used up" to the login element).
fn invalid_otp(message: &str) -> ApiError {
    ApiError::bad_request(message)
}

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
            let app = state.app_mut(&app_id)?;
            let max = app.config.otp_max_attempts;
            let otp = app
                .otps
                .get_mut(&body.otp_id)
                .ok_or_else(|| invalid_otp("unknown one-time passcode"))?;
            if otp.failed_attempts >= max {
                return Err(ApiError::unauthorized(
                    "exceeded_attempts",
                    "too many wrong passcodes; request a new one",
                ));
            }
            if otp.used {
                return Err(invalid_otp("one-time passcode already used"));
            }
            if now >= otp.expires_at {
                return Err(invalid_otp("one-time passcode expired"));
            }
            if !secret_eq(&otp.code, body.otp.trim()) {
                otp.failed_attempts += 1;
                if otp.failed_attempts >= max {
                    return Err(ApiError::unauthorized(
                        "exceeded_attempts",
                        "too many wrong passcodes; request a new one",
                    ));
                }
                return Err(invalid_otp("wrong one-time passcode"));
            }
            otp.used = true;
            let (user_id, identifier) = (otp.user_id.clone(), otp.identifier.clone());
            let user = app
                .users
                .get_mut(&user_id)
                .ok_or_else(ApiError::user_not_found)?;
            ensure_can_login(user)?;
            mark_verified(user, &identifier);
            record_login(user, now);
            issue_session(&ctx, app, &user_id, now)
        })
        .await;
    Ok(Json(result?.finish()?))
}

fn mark_verified(user: &mut crate::model::records::UserRecord, identifier: &str) {
    if user.email == identifier {
        user.email_verified = true;
    }
    if user.phone == identifier {
        user.phone_verified = true;
    }
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
        .mutate(|state| {
            let app = state.app_mut(&app_id)?;
            let wanted = digest_hex(body.magic_link.trim());
            let link = app
                .magic_links
                .values()
                .find(|l| secret_eq(&l.secret_digest, &wanted))
                .cloned()
                .ok_or_else(|| {
                    ApiError::unauthorized("invalid_magic_link", "unknown magic link")
                })?;
            if link.activated {
                return Err(ApiError::unauthorized(
                    "invalid_magic_link",
                    "magic link already used",
                ));
            }
            if now >= link.expires_at {
                return Err(ApiError::unauthorized(
                    "invalid_magic_link",
                    "magic link expired",
                ));
            }
            // An identifier change must not take an identifier another user has meanwhile.
            let new_identifier = match &link.purpose {
                LinkPurpose::ChangeEmail { new_email } => Some(new_email),
                LinkPurpose::ChangePhone { new_phone } => Some(new_phone),
                LinkPurpose::Login => None,
            };
            if let Some(id) = new_identifier {
                if identifier_taken(app, id, Some(&link.user_id)) {
                    return Err(ApiError::bad_request(
                        "the new identifier is already in use",
                    ));
                }
            }
            let user = app
                .users
                .get_mut(&link.user_id)
                .ok_or_else(ApiError::user_not_found)?;
            ensure_can_login(user)?;
            if let Some(stored) = app.magic_links.get_mut(&link.id) {
                stored.activated = true;
            }
            let user = app
                .users
                .get_mut(&link.user_id)
                .ok_or_else(ApiError::user_not_found)?;
            match &link.purpose {
                LinkPurpose::Login => mark_verified(user, &link.identifier),
                LinkPurpose::ChangeEmail { new_email } => {
                    user.email = new_email.clone();
                    user.email_verified = true;
                }
                LinkPurpose::ChangePhone { new_phone } => {
                    user.phone = new_phone.clone();
                    user.phone_verified = true;
                }
            }
            record_login(user, now);
            let mut response = issue_session(&ctx, app, &link.user_id, now)?;
            if let Some(redirect) = link.redirect_url {
                response.body["auth_result"]["redirect_url"] = json!(redirect);
            }
            Ok(response)
        })
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
    let not_found = || {
        ApiError::not_found(
            "magic_link_not_found",
            "magic link not found or not activated yet",
        )
    };
    let result = ctx
        .mutate(|state| {
            let app = state.app_mut(&app_id)?;
            let link = app.magic_links.get_mut(&body.id).ok_or_else(not_found)?;
            if !link.activated || now >= link.expires_at {
                return Err(not_found());
            }
            link.status_delivered = true;
            let user_id = link.user_id.clone();
            issue_session(&ctx, app, &user_id, now)
        })
        .await;
    Ok(Json(result?.finish()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::SigningKey;
    use crate::settings::app::AppConfig;

    fn model() -> (Model, String) {
        let config = AppConfig::default();
        let app_id = config.id.clone();
        let mut state = Model::default();
        let key = SigningKey::default_key().expect("key");
        state
            .apps
            .insert(app_id.clone(), AppRecord::new(config, key));
        (state, app_id)
    }

    fn send(state: &mut Model, app_id: &str, path: &str) -> ApiResult<String> {
        send_magic_link(
            state,
            app_id,
            "usr_1",
            "a@b.co",
            LinkPurpose::Login,
            Some(path),
            None,
            0,
        )
    }

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

    #[test]
    fn magic_link_stays_on_the_auth_origin() {
        let (mut state, app_id) = model();
        let origin = state.apps[&app_id].config.auth_origin.clone();
        send(&mut state, &app_id, "welcome").expect("relative path");
        let url = state.outbox[0].magic_link_url.clone().expect("url");
        assert!(
            url.starts_with(&format!("{origin}/welcome?psg_magic_link=")),
            "{url}"
        );
        for path in ["//evil.example/steal", "/\\evil.example/steal"] {
            let err = send(&mut state, &app_id, path).expect_err(path);
            assert_eq!(err.code, "invalid_request", "{path}");
        }
        assert_eq!(state.outbox.len(), 1, "refused links are not sent");
    }
}
