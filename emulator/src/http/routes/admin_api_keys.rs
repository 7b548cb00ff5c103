//! The API keys of the `/_emulator` admin API: listing an app's keys, making one (shown once) and
//! revoking one.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::base::api_error::ApiResult;
use crate::context::Context;
use crate::domain::api_keys::{create, list, revoke};
use crate::http::extract::{ApiPath, PlainOptionalJson};
use crate::model::admin_api::{ApiKeyInfo, NewApiKey};

/// `GET /_emulator/apps/{app_id}/api-keys` -> `{"api_keys": [...]}` (configured keys in full, made
/// keys by their hint).
pub async fn list_api_keys(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let state = ctx.lock();
    Ok(Json(json!({ "api_keys": list(state.app(&app_id)?) })))
}

/// `POST /_emulator/apps/{app_id}/api-keys [{"name"}]` -> 201, the new key (the only answer that
/// shows it).
pub async fn create_api_key(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    PlainOptionalJson(body): PlainOptionalJson<NewApiKey>,
) -> ApiResult<(StatusCode, Json<ApiKeyInfo>)> {
    let now = ctx.clock.now();
    let made = ctx
        .mutate(|state| create(state.app_mut(&app_id)?, &body.name, now))
        .await?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// `DELETE /_emulator/apps/{app_id}/api-keys/{key_id}` (204); 404 `api_key_not_found`.
pub async fn revoke_api_key(
    State(ctx): State<Arc<Context>>,
    ApiPath((app_id, key_id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    ctx.mutate(|state| revoke(state.app_mut(&app_id)?, &key_id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
