//! Issuing sessions: signed auth tokens, refresh token families and the `AuthResult` body.

use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::state::{AppRecord, FamilyRecord, RefreshRecord, RefreshState, Shared};
use crate::tokens::{digest_hex, random_id, random_secret, sign, Claims};

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
