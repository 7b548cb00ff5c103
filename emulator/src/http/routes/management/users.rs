//! Users: listing them page by page, creating, reading, changing, activating, deactivating and
//! deleting them.

use std::sync::Arc;

use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::base::api_error::ApiResult;
use crate::base::enums::UserStatus;
use crate::context::Context;
use crate::domain::accounts::{
    create_managed_user, delete_user as remove, set_status, update_managed_user, ManagedUserChange,
};
use crate::domain::user_listing::{list_users, ListUsersQuery, UserPage};
use crate::http::extract::{not_null, ApiJson, ApiPath, ApiQuery};
use crate::http::routes::management::views::{user_info, user_item};

/// Body of `create_user` and `update_user` (unknown members are ignored).
#[derive(Debug, Default, Deserialize)]
pub struct UserRequest {
    #[serde(default, deserialize_with = "not_null")]
    email: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    phone: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    user_metadata: Option<Map<String, Value>>,
}

impl UserRequest {
    fn change(&self) -> ManagedUserChange<'_> {
        ManagedUserChange {
            email: self.email.as_deref(),
            phone: self.phone.as_deref(),
            user_metadata: self.user_metadata.as_ref(),
        }
    }
}

/// The link to page `n` of `page`: `<Host><API prefix>/apps/{app_id}/users?<query>`, without a
/// scheme (as Passage's own fixtures show them).
fn page_link(
    headers: &HeaderMap,
    original: &Uri,
    inner: &Uri,
    page: &UserPage<'_>,
    n: i64,
) -> Value {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // The prefix the API is served under here (`/management/v1`, or `/v1` through the proxy).
    let prefix = original
        .path()
        .strip_suffix(inner.path())
        .unwrap_or_default();
    json!({ "href": format!("{host}{prefix}{}?{}", inner.path(), page.query_for_page(n)) })
}

/// `GET /apps/{app_id}/users` -> one page of `ListPaginatedUsersResponse`.
pub async fn list_paginated_users(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<ListUsersQuery>,
    OriginalUri(original): OriginalUri,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let now = ctx.clock.now();
    let state = ctx.lock();
    let app = state.app(&app_id)?;
    let page = list_users(app, &query, now)?;
    let link = |n: i64| page_link(&headers, &original, &uri, &page, n);
    let none = json!({ "href": "" });
    let links = json!({
        "first": link(1),
        "last": link(page.last_page),
        "next": if page.page < page.last_page { link(page.page + 1) } else { none.clone() },
        "previous": if page.page > 1 { link(page.page - 1) } else { none },
        "self": link(page.page),
    });
    let users: Vec<Value> = page.users.iter().map(|u| user_item(u)).collect();
    Ok(Json(json!({
        "users": users,
        "_links": links,
        "created_before": page.created_before,
        "limit": page.limit,
        "page": page.page,
        "total_users": page.total,
    })))
}

/// `POST /apps/{app_id}/users` -> 201 `{"user": UserInfo}`.
pub async fn create_user(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<UserRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let now = ctx.clock.now();
    let user = ctx
        .mutate(|state| {
            let app = state.app_mut(&app_id)?;
            let user_id = create_managed_user(app, &body.change(), now)?;
            Ok(user_info(app, &app.users[&user_id]))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "user": user }))))
}

/// `GET /apps/{app_id}/users/{user_id}` -> `{"user": UserInfo}`.
pub async fn get_user(
    State(ctx): State<Arc<Context>>,
    ApiPath((app_id, user_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<Value>> {
    let state = ctx.lock();
    let app = state.app(&app_id)?;
    let user = app
        .users
        .get(&user_id)
        .ok_or_else(crate::base::api_error::ApiError::user_not_found)?;
    Ok(Json(json!({ "user": user_info(app, user) })))
}

/// `PATCH /apps/{app_id}/users/{user_id}` -> `{"user": UserInfo}` after the change.
pub async fn update_user(
    State(ctx): State<Arc<Context>>,
    ApiPath((app_id, user_id)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<UserRequest>,
) -> ApiResult<Json<Value>> {
    let now = ctx.clock.now();
    let user = ctx
        .mutate(|state| {
            let app = state.app_mut(&app_id)?;
            update_managed_user(app, &user_id, &body.change(), now)?;
            Ok(user_info(app, &app.users[&user_id]))
        })
        .await?;
    Ok(Json(json!({ "user": user })))
}

/// `DELETE /apps/{app_id}/users/{user_id}` -> 200 without a body: the user with their devices,
/// sessions, links, passcodes and transactions.
pub async fn delete_user(
    State(ctx): State<Arc<Context>>,
    ApiPath((app_id, user_id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    ctx.mutate(|state| remove(state, &app_id, &user_id).map(drop))
        .await?;
    Ok(StatusCode::OK)
}

async fn change_status(
    ctx: &Context,
    app_id: &str,
    user_id: &str,
    status: UserStatus,
) -> ApiResult<Json<Value>> {
    let now = ctx.clock.now();
    let user = ctx
        .mutate(|state| {
            let app = state.app_mut(app_id)?;
            set_status(app, user_id, status, now)?;
            Ok(user_info(app, &app.users[user_id]))
        })
        .await?;
    Ok(Json(json!({ "user": user })))
}

/// `PATCH /apps/{app_id}/users/{user_id}/activate` -> `{"user": UserInfo}`, now active.
pub async fn activate_user(
    State(ctx): State<Arc<Context>>,
    ApiPath((app_id, user_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<Value>> {
    change_status(&ctx, &app_id, &user_id, UserStatus::Active).await
}

/// `PATCH /apps/{app_id}/users/{user_id}/deactivate` -> `{"user": UserInfo}`, now inactive: every
/// login answers 403 `user_not_active`.
pub async fn deactivate_user(
    State(ctx): State<Arc<Context>>,
    ApiPath((app_id, user_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<Value>> {
    change_status(&ctx, &app_id, &user_id, UserStatus::Inactive).await
}
