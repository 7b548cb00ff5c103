//! `users`: looking a user up by identifier, and public sign-up.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::base::api_error::ApiResult;
use crate::context::Context;
use crate::domain::accounts::{classify_identifier, sign_up};
use crate::http::extract::{not_null, ApiJson, ApiPath, ApiQuery};
use crate::http::views::{apply_status_quirk, user_json};

/// Query of `GET users`.
#[derive(Debug, Deserialize)]
pub struct CheckQuery {
    identifier: String,
}

/// `GET /apps/{app_id}/users?identifier=` (200; `{"user": null}` when unknown).
pub async fn check_identifier(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<CheckQuery>,
) -> ApiResult<Json<Value>> {
    let state = ctx.lock();
    let app = state.app(&app_id)?;
    // A `+` left unencoded in a query string arrives as a space: accept ` 15551234567` as a phone.
    let raw = match query.identifier.strip_prefix(' ') {
        Some(rest) if !rest.is_empty() && rest.trim_end().chars().all(|c| c.is_ascii_digit()) => {
            format!("+{}", rest.trim_end())
        }
        _ => query.identifier.clone(),
    };
    let (_, id) = classify_identifier(&app.config, &raw)?;
    let user = app.find_user_by_identifier(&id).map(|u| user_json(app, u));
    Ok(Json(json!({ "user": user })))
}

/// Body of `POST users`.
#[derive(Debug, Deserialize)]
pub struct CreateUserRequest {
    identifier: String,
    #[serde(default, deserialize_with = "not_null")]
    user_metadata: Option<Map<String, Value>>,
}

/// `POST /apps/{app_id}/users` (201). Existing identifiers give 400 `invalid_request`.
pub async fn create_user(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<CreateUserRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let now = ctx.clock.now();
    let quirks = ctx.options.quirks;
    let user = ctx
        .mutate(|state| {
            let app = state.app_mut(&app_id)?;
            let user_id = sign_up(app, &body.identifier, body.user_metadata.as_ref(), now)?;
            let mut view = user_json(app, &app.users[&user_id]);
            if quirks {
                apply_status_quirk(&mut view);
            }
            Ok(view)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "user": user }))))
}
