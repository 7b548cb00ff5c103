//! A user's passkeys and sessions: listing and removing passkeys, revoking every refresh token.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::base::api_error::{ApiError, ApiResult};
use crate::context::Context;
use crate::domain::devices::delete_user_device as remove_device;
use crate::domain::refresh_tokens::revoke_user_sessions;
use crate::http::extract::ApiPath;
use crate::http::routes::management::views::device;

/// `GET /apps/{app_id}/users/{user_id}/devices` -> `{"devices": [WebAuthnDevice]}`.
pub async fn list_user_devices(
    State(ctx): State<Arc<Context>>,
    ApiPath((app_id, user_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<Value>> {
    let state = ctx.lock();
    let app = state.app(&app_id)?;
    if !app.users.contains_key(&user_id) {
        return Err(ApiError::user_not_found());
    }
    let devices: Vec<Value> = app.devices_of(&user_id).map(device).collect();
    Ok(Json(json!({ "devices": devices })))
}

/// `DELETE /apps/{app_id}/users/{user_id}/devices/{device_id}` -> 200 without a body; the passkey
/// can no longer log in.
pub async fn delete_user_device(
    State(ctx): State<Arc<Context>>,
    ApiPath((app_id, user_id, device_id)): ApiPath<(String, String, String)>,
) -> ApiResult<StatusCode> {
    ctx.mutate(|state| remove_device(state.app_mut(&app_id)?, &user_id, &device_id))
        .await?;
    Ok(StatusCode::OK)
}

/// `DELETE /apps/{app_id}/users/{user_id}/tokens` -> 200 without a body: every refresh token of the
/// user is revoked.
pub async fn revoke_user_refresh_tokens(
    State(ctx): State<Arc<Context>>,
    ApiPath((app_id, user_id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    ctx.mutate(|state| revoke_user_sessions(state.app_mut(&app_id)?, &user_id))
        .await?;
    Ok(StatusCode::OK)
}
