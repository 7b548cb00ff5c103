//! `get_app`: the app's settings.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::base::api_error::ApiResult;
use crate::context::Context;
use crate::http::extract::ApiPath;
use crate::http::routes::management::views::app_info;

/// `GET /apps/{app_id}` -> `{"app": AppInfo}` (the API key is optional here).
pub async fn get_app(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let state = ctx.lock();
    let app = state.app(&app_id)?;
    Ok(Json(json!({ "app": app_info(app) })))
}
