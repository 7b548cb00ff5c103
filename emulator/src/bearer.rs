//! Bearer-token authentication of the `currentuser` operations.

use axum::http::HeaderMap;

use crate::base::api_error::{ApiError, ApiResult};
use crate::context::Context;
use crate::jwt::{verify, VerifyError};
use crate::model::state::EmulatorState;

/// Extracts and verifies the bearer token; returns the user id (401 `invalid_access_token` otherwise,
/// 404 `user_not_found` when the user no longer exists).
pub fn bearer_user(
    ctx: &Context,
    state: &EmulatorState,
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
        &ctx.urls.issuer(app_id),
        app_id,
        ctx.clock.now(),
        app.config.key_grace_seconds,
    )
    .map_err(|e: VerifyError| ApiError::invalid_access_token(e.to_string()))?;
    if !app.users.contains_key(&claims.sub) {
        return Err(ApiError::user_not_found());
    }
    Ok(claims.sub)
}
