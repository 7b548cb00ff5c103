//! The users of the `/_emulator` admin API: users created, changed and removed directly, and
//! sessions without a ceremony.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::base::api_error::{ApiError, ApiResult};
use crate::context::Context;
use crate::domain::accounts::{create_user as create, delete_user as remove, patch_user};
use crate::domain::sessions::log_in;
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::views::admin_user;
use crate::model::admin_api::{AdminUser, NewUser, UserPatch};

/// `GET /_emulator/apps/{app_id}/users` -> `{"users": [...]}` (by id).
pub async fn list_users(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let now = ctx.clock.now();
    let state = ctx.lock();
    let app = state.app(&app_id)?;
    let users: Vec<AdminUser> = app
        .users
        .values()
        .map(|u| admin_user(app, u, now))
        .collect();
    Ok(Json(json!({ "users": users })))
}

/// `GET /_emulator/apps/{app_id}/users/{user_id}`.
pub async fn get_user(
    State(ctx): State<Arc<Context>>,
    ApiPath((app_id, user_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<AdminUser>> {
    let now = ctx.clock.now();
    let state = ctx.lock();
    let app = state.app(&app_id)?;
    let user = app
        .users
        .get(&user_id)
        .ok_or_else(ApiError::user_not_found)?;
    Ok(Json(admin_user(app, user, now)))
}

/// `POST /_emulator/apps/{app_id}/users` (201 the user).
pub async fn create_user(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<AdminUser>)> {
    let now = ctx.clock.now();
    let view = ctx
        .mutate(|state| {
            let app = state.app_mut(&app_id)?;
            let user_id = create(app, &body, now)?;
            Ok(admin_user(app, &app.users[&user_id], now))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// `PATCH /_emulator/apps/{app_id}/users/{user_id}`: status, verification flags, metadata.
pub async fn update_user(
    State(ctx): State<Arc<Context>>,
    ApiPath((app_id, user_id)): ApiPath<(String, String)>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> ApiResult<Json<AdminUser>> {
    let now = ctx.clock.now();
    let view = ctx
        .mutate(|state| {
            let app = state.app_mut(&app_id)?;
            patch_user(app, &user_id, &patch, now)?;
            Ok(admin_user(app, &app.users[&user_id], now))
        })
        .await?;
    Ok(Json(view))
}

/// `DELETE /_emulator/apps/{app_id}/users/{user_id}` (204): the user, their devices and sessions.
pub async fn delete_user(
    State(ctx): State<Arc<Context>>,
    ApiPath((app_id, user_id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    ctx.mutate(|state| remove(state, &app_id, &user_id).map(drop))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /_emulator/apps/{app_id}/users/{user_id}/sessions` (201 `AuthResponse`): a session as after a
/// login (the login is counted, a pending user becomes active); 403 `user_not_active` for inactive users.
pub async fn create_session(
    State(ctx): State<Arc<Context>>,
    ApiPath((app_id, user_id)): ApiPath<(String, String)>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let now = ctx.clock.now();
    let body = ctx
        .mutate(|state| log_in(&ctx.urls, state.app_mut(&app_id)?, &user_id, now))
        .await?;
    Ok((StatusCode::CREATED, Json(body.finish()?)))
}
