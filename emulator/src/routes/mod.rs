//! HTTP routes: the `/v1` API of the spec and the `/_emulator` admin API, plus shared helpers.

use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, patch, post};
use axum::{middleware, Router};
use serde_json::{json, Value};

use crate::clock::rfc3339;
use crate::config::{AllowedIdentifier, AppConfig};
use crate::error::{ApiError, ApiResult};
use crate::faults::fault_middleware;
use crate::state::{
    AppRecord, AppState, DeviceRecord, FamilyRecord, RefreshRecord, RefreshState, Shared, State,
    UserRecord,
};
use crate::tokens::{digest_hex, random_id, random_secret, sign, verify, Claims, VerifyError};

pub mod admin;
pub mod apps;
pub mod currentuser;
pub mod passwordless;
pub mod social;
pub mod tokens;
pub mod users;
pub mod webauthn;

/// Builds the complete router (API, admin API, fault middleware).
pub fn router(shared: AppState) -> Router {
    let api = Router::new()
        .route("/apps/{app_id}", get(apps::get_app))
        .route("/apps/{app_id}/.well-known/jwks.json", get(apps::get_jwks))
        .route(
            "/apps/{app_id}/.well-known/openid-configuration",
            get(apps::get_openid_configuration),
        )
        .route(
            "/apps/{app_id}/currentuser",
            get(currentuser::get_currentuser),
        )
        .route(
            "/apps/{app_id}/currentuser/devices",
            get(currentuser::list_devices),
        )
        .route(
            "/apps/{app_id}/currentuser/devices/start",
            post(webauthn::add_device_start),
        )
        .route(
            "/apps/{app_id}/currentuser/devices/finish",
            post(webauthn::add_device_finish),
        )
        .route(
            "/apps/{app_id}/currentuser/devices/{device_id}",
            patch(currentuser::update_device).delete(currentuser::delete_device),
        )
        .route(
            "/apps/{app_id}/currentuser/email",
            patch(currentuser::update_email),
        )
        .route(
            "/apps/{app_id}/currentuser/phone",
            patch(currentuser::update_phone),
        )
        .route(
            "/apps/{app_id}/currentuser/user-metadata",
            get(currentuser::get_metadata).patch(currentuser::update_metadata),
        )
        .route(
            "/apps/{app_id}/currentuser/social-connections",
            get(currentuser::list_social_connections),
        )
        .route(
            "/apps/{app_id}/currentuser/social-connections/{social_connection_type}",
            axum::routing::delete(currentuser::delete_social_connection),
        )
        .route(
            "/apps/{app_id}/currentuser/social/link_account",
            get(social::link_account),
        )
        .route(
            "/apps/{app_id}/login/magic-link",
            post(passwordless::login_magic_link),
        )
        .route("/apps/{app_id}/login/otp", post(passwordless::login_otp))
        .route(
            "/apps/{app_id}/login/webauthn/start",
            post(webauthn::login_start),
        )
        .route(
            "/apps/{app_id}/login/webauthn/finish",
            post(webauthn::login_finish),
        )
        .route(
            "/apps/{app_id}/magic-link/activate",
            patch(passwordless::activate_magic_link),
        )
        .route(
            "/apps/{app_id}/magic-link/status",
            post(passwordless::magic_link_status),
        )
        .route(
            "/apps/{app_id}/otp/activate",
            post(passwordless::activate_otp),
        )
        .route(
            "/apps/{app_id}/register/magic-link",
            post(passwordless::register_magic_link),
        )
        .route(
            "/apps/{app_id}/register/otp",
            post(passwordless::register_otp),
        )
        .route(
            "/apps/{app_id}/register/webauthn/start",
            post(webauthn::register_start),
        )
        .route(
            "/apps/{app_id}/register/webauthn/finish",
            post(webauthn::register_finish),
        )
        .route(
            "/apps/{app_id}/tokens",
            post(tokens::refresh).delete(tokens::revoke),
        )
        .route(
            "/apps/{app_id}/users",
            get(users::check_identifier).post(users::create_user),
        )
        .route("/apps/{app_id}/social/authorize", get(social::authorize))
        .route(
            "/apps/{app_id}/social/oauth2_callback",
            get(social::callback).post(social::apple_callback),
        )
        .route("/apps/{app_id}/social/token", get(social::exchange_token))
        .route(
            "/apps/{app_id}/social/id_token",
            post(social::exchange_id_token),
        )
        .route(
            "/apps/{app_id}/authenticate/transactions/webauthn/start",
            post(webauthn::transaction_login_start),
        )
        .route(
            "/apps/{app_id}/authenticate/transactions/webauthn/finish",
            post(webauthn::transaction_login_finish),
        )
        .route(
            "/apps/{app_id}/register/transactions/webauthn/start",
            post(webauthn::transaction_register_start),
        )
        .route(
            "/apps/{app_id}/register/transactions/webauthn/finish",
            post(webauthn::transaction_register_finish),
        )
        .route(
            "/social/oauth2_callback",
            get(social::callback_default_dev).post(social::apple_callback_default_dev),
        )
        .route(
            "/analytics/passkey-readiness",
            post(apps::passkey_readiness),
        )
        .method_not_allowed_fallback(method_not_allowed);
    Router::new()
        .nest("/v1", api)
        .nest("/_emulator", admin::router())
        .nest("/_emulator/ui", crate::ui::router())
        .fallback(no_route)
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            fault_middleware,
        ))
        // Outside the faults and the request log: preflights are answered here and never consume a fault.
        .layer(crate::cors::layer(shared.clone()))
        .layer(middleware::from_fn(crate::cors::preflight_no_content))
        .with_state(shared)
}

async fn no_route() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "invalid_request", "no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request",
        "method not allowed on this route",
    )
}

/// Kind of a user identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentifierKind {
    /// E-mail address.
    Email,
    /// E.164 phone number.
    Phone,
}

/// Classifies and normalizes an identifier, checking the app allows its kind.
pub fn classify_identifier(
    config: &AppConfig,
    identifier: &str,
) -> ApiResult<(IdentifierKind, String)> {
    let id = crate::state::normalize_identifier(identifier);
    let kind = if is_email(&id) {
        IdentifierKind::Email
    } else if is_phone(&id) {
        IdentifierKind::Phone
    } else {
        return Err(ApiError::bad_request(
            "identifier must be an e-mail address or an E.164 phone number",
        ));
    };
    let allowed = match config.allowed_identifier {
        AllowedIdentifier::Both => true,
        AllowedIdentifier::Email => kind == IdentifierKind::Email,
        AllowedIdentifier::Phone => kind == IdentifierKind::Phone,
    };
    if !allowed {
        return Err(ApiError::bad_request(format!(
            "this app only accepts {} identifiers",
            config.allowed_identifier.as_str()
        )));
    }
    Ok((kind, id))
}

/// Loose e-mail check: one `@`, a non-empty local part and a dotted domain.
pub fn is_email(s: &str) -> bool {
    let mut parts = s.split('@');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(local), Some(domain), None) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.chars().any(char::is_whitespace)
        }
        _ => false,
    }
}

/// E.164 check: `+` and 7 to 15 digits.
pub fn is_phone(s: &str) -> bool {
    s.strip_prefix('+')
        .is_some_and(|d| (7..=15).contains(&d.len()) && d.chars().all(|c| c.is_ascii_digit()))
}

/// A new user record.
pub fn new_user(kind: IdentifierKind, identifier: &str, status: &str, now: i64) -> UserRecord {
    let (email, phone) = match kind {
        IdentifierKind::Email => (identifier.to_owned(), String::new()),
        IdentifierKind::Phone => (String::new(), identifier.to_owned()),
    };
    UserRecord {
        id: random_id("usr_"),
        email,
        phone,
        email_verified: false,
        phone_verified: false,
        status: status.to_owned(),
        user_metadata: Default::default(),
        login_count: 0,
        created_at: now,
        updated_at: now,
        last_login_at: None,
        social: Default::default(),
        webauthn_handle: uuid::Uuid::new_v4(),
    }
}

fn devices_of<'a>(
    app: &'a AppRecord,
    user_id: &'a str,
) -> impl Iterator<Item = &'a DeviceRecord> + 'a {
    app.devices.values().filter(move |d| d.user_id == user_id)
}

fn webauthn_types(app: &AppRecord, user_id: &str) -> Vec<String> {
    let mut types: Vec<String> = devices_of(app, user_id).map(|d| d.kind.clone()).collect();
    types.sort();
    types.dedup();
    types
}

fn metadata_value(user: &UserRecord) -> Value {
    if user.user_metadata.is_empty() {
        Value::Null
    } else {
        json!(user.user_metadata)
    }
}

/// The spec's `User` view.
pub fn user_json(app: &AppRecord, user: &UserRecord) -> Value {
    json!({
        "id": user.id,
        "email": user.email,
        "email_verified": user.email_verified,
        "phone": user.phone,
        "phone_verified": user.phone_verified,
        "status": user.status,
        "user_metadata": metadata_value(user),
        "webauthn": devices_of(app, &user.id).next().is_some(),
        "webauthn_types": webauthn_types(app, &user.id),
    })
}

/// The spec's `Credential` view.
pub fn device_json(device: &DeviceRecord) -> Value {
    json!({
        "id": device.id,
        "cred_id": device.cred_id,
        "friendly_name": device.friendly_name,
        "user_id": device.user_id,
        "type": device.kind,
        "created_at": rfc3339(device.created_at),
        "updated_at": rfc3339(device.updated_at),
        "last_login_at": rfc3339(device.last_login_at),
        "usage_count": device.usage_count,
        "icons": {"light": null, "dark": null},
    })
}

/// The spec's `UserSocialConnections` view.
pub fn social_json(user: &UserRecord) -> Value {
    let mut map = serde_json::Map::new();
    for (kind, link) in &user.social {
        map.insert(
            kind.clone(),
            json!({
                "provider_id": link.provider_id,
                "provider_identifier": link.provider_identifier,
                "created_at": rfc3339(link.created_at),
                "last_login_at": rfc3339(link.last_login_at),
            }),
        );
    }
    Value::Object(map)
}

/// The spec's `CurrentUser` view.
pub fn current_user_json(app: &AppRecord, user: &UserRecord) -> Value {
    let devices: Vec<Value> = devices_of(app, &user.id).map(device_json).collect();
    json!({
        "id": user.id,
        "email": user.email,
        "email_verified": user.email_verified,
        "phone": user.phone,
        "phone_verified": user.phone_verified,
        "created_at": rfc3339(user.created_at),
        "updated_at": rfc3339(user.updated_at),
        "last_login_at": user.last_login_at.map(rfc3339).unwrap_or_default(),
        "login_count": user.login_count,
        "status": user.status,
        "social_connections": social_json(user),
        "user_metadata": metadata_value(user),
        "webauthn": !devices.is_empty(),
        "webauthn_devices": devices,
        "webauthn_types": webauthn_types(app, &user.id),
    })
}

/// Records a successful login: activates a pending user and counts the login.
pub fn record_login(user: &mut UserRecord, now: i64) {
    if user.status == "pending" {
        user.status = "active".to_owned();
    }
    user.login_count += 1;
    user.last_login_at = Some(now);
    user.updated_at = now;
}

/// Refuses users that may not log in (403 `user_not_active`).
pub fn ensure_can_login(user: &UserRecord) -> ApiResult<()> {
    if user.status == "inactive" {
        return Err(ApiError::forbidden("user_not_active", "user is not active"));
    }
    Ok(())
}

/// Signs an auth token for `user_id`.
pub fn auth_token(shared: &Shared, app: &AppRecord, user_id: &str, now: i64) -> ApiResult<String> {
    let key = app
        .active_key()
        .ok_or_else(|| ApiError::internal("the app has no signing key"))?;
    let claims = Claims {
        jti: uuid::Uuid::new_v4().simple().to_string(),
        iss: shared.issuer(&app.config.id),
        sub: user_id.to_owned(),
        aud: vec![app.config.auth_origin.clone(), app.config.id.clone()],
        iat: now,
        nbf: now - 5,
        exp: now + app.config.auth_token_ttl_seconds,
    };
    sign(key, &claims).map_err(|e| ApiError::internal(format!("could not sign the token: {e}")))
}

/// Issues a refresh token in `family_id`; returns the secret.
pub fn new_refresh_token(app: &mut AppRecord, family_id: &str, user_id: &str, now: i64) -> String {
    let secret = random_secret(32);
    app.refresh_tokens.insert(
        digest_hex(&secret),
        RefreshRecord {
            family_id: family_id.to_owned(),
            user_id: user_id.to_owned(),
            issued_at: now,
            state: RefreshState::Active,
            rotated_pair: None,
        },
    );
    secret
}

/// Builds an `AuthResult` JSON from its parts.
pub fn auth_result(app: &AppRecord, token: String, refresh: Option<(String, i64)>) -> Value {
    let mut result = json!({
        "auth_token": token,
        "redirect_url": app.config.redirect_url,
    });
    if let Some((secret, lifetime)) = refresh {
        result["refresh_token"] = json!(secret);
        result["refresh_token_expiration"] = json!(lifetime);
    }
    result
}

/// Starts a new session for `user_id`: a fresh auth token and (when enabled) a new refresh token family.
/// Returns the `AuthResponse` body.
pub fn issue_session(
    shared: &Shared,
    app: &mut AppRecord,
    user_id: &str,
    now: i64,
) -> ApiResult<Value> {
    let token = auth_token(shared, app, user_id, now)?;
    let refresh = if app.config.refresh_tokens {
        let family_id = random_id("fam_");
        let lifetime = app.config.refresh_token_lifetime_seconds;
        app.families.insert(
            family_id.clone(),
            FamilyRecord {
                user_id: user_id.to_owned(),
                created_at: now,
                expires_at: now + lifetime,
                revoked: false,
            },
        );
        Some((new_refresh_token(app, &family_id, user_id, now), lifetime))
    } else {
        None
    };
    Ok(json!({ "auth_result": auth_result(app, token, refresh) }))
}

/// Extracts and verifies the bearer token; returns the user id (401 `invalid_access_token` otherwise,
/// 404 `user_not_found` when the user no longer exists).
pub fn bearer_user(
    shared: &Shared,
    state: &State,
    app_id: &str,
    headers: &HeaderMap,
) -> ApiResult<String> {
    let app = state.app(app_id)?;
    let value = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::invalid_access_token("missing bearer token"))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or_else(|| {
            ApiError::invalid_access_token("authorization header is not a bearer token")
        })?
        .trim();
    let claims = verify(
        token,
        &app.keys,
        &shared.issuer(app_id),
        app_id,
        shared.clock.now(),
        app.config.key_grace_seconds,
    )
    .map_err(|e: VerifyError| ApiError::invalid_access_token(e.to_string()))?;
    if !app.users.contains_key(&claims.sub) {
        return Err(ApiError::user_not_found());
    }
    Ok(claims.sub)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_checks() {
        assert!(is_email("a@b.co"));
        assert!(!is_email("a@b"));
        assert!(!is_email("a b@c.d"));
        assert!(is_phone("+15551234567"));
        assert!(!is_phone("15551234567"));
        let cfg = AppConfig {
            allowed_identifier: AllowedIdentifier::Email,
            ..AppConfig::default()
        };
        assert!(classify_identifier(&cfg, "+15551234567").is_err());
        assert_eq!(
            classify_identifier(&cfg, " A@B.co ").unwrap(),
            (IdentifierKind::Email, "a@b.co".to_owned())
        );
    }
}
