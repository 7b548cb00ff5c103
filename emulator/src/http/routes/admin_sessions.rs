//! Sessions of the `/_emulator` admin API: signing a user in without a ceremony ("sign in as").

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;

use crate::base::api_error::ApiResult;
use crate::context::Context;
use crate::domain::sessions::log_in;
use crate::http::extract::ApiPath;

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
