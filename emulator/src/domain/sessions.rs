//! Sessions: issuing auth tokens (claims decided under the state lock, signed after it is
//! released), refresh token families and the `AuthResult` body, and verifying the bearer token
//! of the signed-in user's operations.

use serde_json::{json, Value};

use crate::base::api_error::{ApiError, ApiResult};
use crate::base::digest::digest_hex;
use crate::base::random::{random_id, random_secret};
use crate::domain::accounts::{ensure_can_login, record_login};
use crate::jwt::{verify, Claims, PendingToken, VerifyError};
use crate::model::app::AppRecord;
use crate::model::records::{FamilyRecord, RefreshRecord, RefreshState};
use crate::model::state::EmulatorState;
use crate::settings::urls::Urls;

/// The claims of an auth token for `user_id`, to be signed once the state lock is released.
pub fn auth_token(
    urls: &Urls,
    app: &AppRecord,
    user_id: &str,
    now: i64,
) -> ApiResult<PendingToken> {
    let key = app
        .active_key()
        .ok_or_else(|| ApiError::internal("the app has no signing key"))?;
    let claims = Claims {
        jti: crate::base::random::random_uuid().simple().to_string(),
        iss: urls.issuer(&app.config.id),
        sub: user_id.to_owned(),
        aud: vec![app.config.auth_origin.clone(), app.config.id.clone()],
        iat: now,
        nbf: now - 5,
        exp: now + app.config.auth_token_ttl_seconds,
    };
    PendingToken::new(key, claims).map_err(signing_failed)
}

fn signing_failed(e: anyhow::Error) -> ApiError {
    ApiError::internal(format!("could not sign the token: {e}"))
}

/// Issues a refresh token in `family_id`; returns the secret.
pub fn new_refresh_token(app: &mut AppRecord, family_id: &str, user_id: &str, now: i64) -> String {
    let secret = random_secret(32);
    insert_refresh_token(app, &secret, family_id, user_id, now);
    secret
}

/// Stores the digest of the refresh token `secret` as the active token of `family_id`.
pub fn insert_refresh_token(
    app: &mut AppRecord,
    secret: &str,
    family_id: &str,
    user_id: &str,
    now: i64,
) {
    app.refresh_tokens.insert(
        digest_hex(secret),
        RefreshRecord {
            family_id: family_id.to_owned(),
            user_id: user_id.to_owned(),
            issued_at: now,
            state: RefreshState::Active,
            rotated_pair: None,
        },
    );
}

/// An `AuthResponse` decided under the state lock, whose auth token is signed by [`Self::finish`]
/// after the lock is released (so that signatures run on every core).
#[derive(Debug)]
pub struct AuthResponse {
    /// The body without `auth_result.auth_token`; handlers may adjust it (e.g. `redirect_url`).
    pub body: Value,
    token: PendingToken,
}

impl AuthResponse {
    /// The response for `token` and, when enabled, a refresh token with its lifetime in seconds.
    pub fn new(app: &AppRecord, token: PendingToken, refresh: Option<(String, i64)>) -> Self {
        Self {
            body: json!({ "auth_result": auth_result(app, String::new(), refresh) }),
            token,
        }
    }

    /// The token's claims (what the reuse grace window re-signs).
    pub fn token(&self) -> &PendingToken {
        &self.token
    }

    /// Signs the auth token and returns the complete body. Call it without holding the state lock.
    pub fn finish(mut self) -> ApiResult<Value> {
        let token = self.token.sign().map_err(signing_failed)?;
        self.body["auth_result"]["auth_token"] = Value::String(token);
        Ok(self.body)
    }
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

/// Starts a new session for `user_id`: the claims of a fresh auth token and (when enabled) a new
/// refresh token family. The token is signed by [`AuthResponse::finish`], outside the lock.
pub fn issue_session(
    urls: &Urls,
    app: &mut AppRecord,
    user_id: &str,
    now: i64,
) -> ApiResult<AuthResponse> {
    let token = auth_token(urls, app, user_id, now)?;
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
    Ok(AuthResponse::new(app, token, refresh))
}

/// Logs `user_id` in once they proved who they are (a passkey login), or directly (the admin API's
/// `sessions`): the login is counted, a pending user becomes active, and a new session is issued;
/// 403 `user_not_active` for inactive users.
pub fn log_in(
    urls: &Urls,
    app: &mut AppRecord,
    user_id: &str,
    now: i64,
) -> ApiResult<AuthResponse> {
    let user = app
        .users
        .get_mut(user_id)
        .ok_or_else(ApiError::user_not_found)?;
    ensure_can_login(user)?;
    record_login(user, now);
    issue_session(urls, app, user_id, now)
}

/// Verifies the bearer token of a signed-in user's operation (`authorization`: the `Authorization`
/// header, when there is one) at emulator time `now`; returns the user id (401
/// `invalid_access_token` otherwise, 404 `user_not_found` when the user no longer exists, 403
/// `user_not_active` while the user is deactivated).
pub fn bearer_user(
    urls: &Urls,
    state: &EmulatorState,
    app_id: &str,
    authorization: Option<&str>,
    now: i64,
) -> ApiResult<String> {
    let app = state.app(app_id)?;
    let value =
        authorization.ok_or_else(|| ApiError::invalid_access_token("missing bearer token"))?;
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
        &urls.issuer(app_id),
        app_id,
        now,
        app.config.key_grace_seconds,
    )
    .map_err(|e: VerifyError| ApiError::invalid_access_token(e.to_string()))?;
    let user = app
        .users
        .get(&claims.sub)
        .ok_or_else(ApiError::user_not_found)?;
    // A deactivated user's token no longer opens their account (see `accounts::deactivate_sessions`).
    ensure_can_login(user)?;
    Ok(claims.sub)
}
