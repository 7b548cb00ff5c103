//! The apps of the `/_emulator` admin API: listing and adding apps, changing their settings at
//! runtime, rotating their signing keys.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};

use crate::base::api_error::{ApiError, ApiResult};
use crate::context::Context;
use crate::domain::apps::{add_app, check_config, rotate_key as rotate, update_settings};
use crate::http::extract::{ApiPath, PlainJson};
use crate::http::views::app_summary;
use crate::jwt::SigningKey;
use crate::model::admin_api::{AppConfig, AppSummary, RotatedKey};

/// `GET /_emulator/apps` -> `{"apps": [...]}`.
pub async fn list_apps(State(ctx): State<Arc<Context>>) -> Json<Value> {
    let state = ctx.lock();
    let apps: Vec<AppSummary> = state
        .apps
        .values()
        .map(|a| app_summary(&ctx.urls, a))
        .collect();
    Json(json!({ "apps": apps }))
}

/// A new signing key, generated off the async threads (RSA key generation is slow).
async fn new_key() -> ApiResult<SigningKey> {
    tokio::task::spawn_blocking(SigningKey::generate)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// `POST /_emulator/apps` with an app configuration (same keys as a `[[apps]]` TOML table) -> 201.
pub async fn create_app(
    State(ctx): State<Arc<Context>>,
    PlainJson(config): PlainJson<AppConfig>,
) -> ApiResult<(StatusCode, Json<AppSummary>)> {
    check_config(&config)?;
    // Each app signs with its own key.
    let key = new_key().await?;
    let summary = ctx
        .mutate(|state| {
            let id = config.id.clone();
            add_app(state, config.clone(), key)?;
            Ok(app_summary(&ctx.urls, state.app(&id)?))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(summary)))
}

/// `PATCH /_emulator/apps/{app_id}` with configuration keys (as in an `[[apps]]` table) to change; the
/// app keeps its users, sessions and keys. Unknown keys, a different `id` or invalid values give 400.
pub async fn update_app(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    PlainJson(patch): PlainJson<Map<String, Value>>,
) -> ApiResult<Json<AppSummary>> {
    let summary = ctx
        .mutate(|state| {
            let app = state.app_mut(&app_id)?;
            update_settings(app, &app_id, &patch)?;
            Ok(app_summary(&ctx.urls, app))
        })
        .await?;
    Ok(Json(summary))
}

/// `POST /_emulator/apps/{app_id}/rotate-key` -> `{"kid": new, "previous_kid": old}`.
pub async fn rotate_key(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
) -> ApiResult<Json<RotatedKey>> {
    ctx.lock().app(&app_id)?;
    let key = new_key().await?;
    let now = ctx.clock.now();
    let rotated = ctx
        .mutate(|state| Ok(rotate(state.app_mut(&app_id)?, key, now)))
        .await?;
    Ok(Json(rotated))
}
