//! `tokens`: refresh-token rotation and revocation.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

use crate::base::api_error::{ApiError, ApiResult};
use crate::base::redact::redacted_debug;
use crate::context::Context;
use crate::domain::refresh_tokens::{revoke as revoke_family_of, rotate};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};

/// Body of `POST tokens`.
#[derive(Deserialize)]
pub struct RefreshRequest {
    refresh_token: String,
}
redacted_debug!(RefreshRequest {});

/// `POST /apps/{app_id}/tokens` (201): rotates the refresh token. Presenting a rotated token again revokes
/// the whole family (401 `invalid_refresh_token`), except within the app's reuse grace window, where the
/// same new pair is returned again.
pub async fn refresh(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let now = ctx.clock.now();
    let presented = body.refresh_token.trim();
    let result = ctx
        .mutate(|state| rotate(&ctx.urls, state.app_mut(&app_id)?, presented, now))
        .await;
    Ok((StatusCode::CREATED, Json(result?.finish()?)))
}

/// Query of `DELETE tokens`.
#[derive(Deserialize)]
pub struct RevokeQuery {
    refresh_token: String,
}
redacted_debug!(RevokeQuery {});

/// `DELETE /apps/{app_id}/tokens?refresh_token=` (200): revokes the token's whole family. Unknown tokens
/// are accepted silently (as OAuth2 revocation does).
pub async fn revoke(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<RevokeQuery>,
) -> ApiResult<StatusCode> {
    if query.refresh_token.trim().is_empty() {
        return Err(ApiError::bad_request("refresh_token is required"));
    }
    ctx.mutate(|state| {
        revoke_family_of(state.app_mut(&app_id)?, query.refresh_token.trim());
        Ok(())
    })
    .await?;
    Ok(StatusCode::OK)
}
