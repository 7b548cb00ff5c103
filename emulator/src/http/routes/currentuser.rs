//! `currentuser`: operations on the signed-in user (bearer token): profile, metadata, identifiers,
//! devices, social links.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::base::api_error::{ApiError, ApiResult};
use crate::base::enums::SocialProvider;
use crate::base::identifiers::{parse_identifier, IdentifierError, IdentifierKind};
use crate::context::Context;
use crate::domain::accounts::{invalid_identifier, update_metadata as change_metadata};
use crate::domain::devices::{delete_device as remove_device, friendly_name, rename_device};
use crate::domain::passwordless::start_identifier_change;
use crate::domain::sessions::bearer_user;
use crate::domain::social_login::unlink;
use crate::http::extract::{authorization, not_null, ApiJson, ApiPath};
use crate::http::views::{current_user_json, device_json, social_json};
use crate::model::app::AppRecord;
use crate::model::records::{LinkPurpose, UserRecord};
use crate::model::state::EmulatorState;

/// The signed-in user's id (the bearer token checked at the current emulator time).
fn signed_in(
    ctx: &Context,
    state: &EmulatorState,
    app_id: &str,
    headers: &HeaderMap,
) -> ApiResult<String> {
    bearer_user(
        &ctx.urls,
        state,
        app_id,
        authorization(headers),
        ctx.clock.now(),
    )
}

/// Checks the bearer token before anything else of the request (its body is read after it, so a
/// request without a valid token is 401 whatever its body holds).
fn authenticate(ctx: &Context, app_id: &str, headers: &HeaderMap) -> ApiResult<()> {
    let state = ctx.lock();
    signed_in(ctx, &state, app_id, headers).map(drop)
}

/// The app and the user the bearer token belongs to.
fn signed_in_user<'a>(
    ctx: &Context,
    state: &'a EmulatorState,
    app_id: &str,
    headers: &HeaderMap,
) -> ApiResult<(&'a AppRecord, &'a UserRecord)> {
    let user_id = signed_in(ctx, state, app_id, headers)?;
    let app = state.app(app_id)?;
    let user = app
        .users
        .get(&user_id)
        .ok_or_else(ApiError::user_not_found)?;
    Ok((app, user))
}

/// `GET /apps/{app_id}/currentuser`.
pub async fn get_currentuser(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let state = ctx.lock();
    let (app, user) = signed_in_user(&ctx, &state, &app_id, &headers)?;
    Ok(Json(json!({ "user": current_user_json(app, user) })))
}

/// `GET /apps/{app_id}/currentuser/devices`.
pub async fn list_devices(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let state = ctx.lock();
    let user_id = signed_in(&ctx, &state, &app_id, &headers)?;
    let app = state.app(&app_id)?;
    let devices: Vec<Value> = app.devices_of(&user_id).map(device_json).collect();
    Ok(Json(json!({ "devices": devices })))
}

/// Body of the device rename.
#[derive(Debug, Deserialize)]
pub struct UpdateDeviceRequest {
    friendly_name: String,
}

/// `PATCH /apps/{app_id}/currentuser/devices/{device_id}`.
pub async fn update_device(
    State(ctx): State<Arc<Context>>,
    ApiPath((app_id, device_id)): ApiPath<(String, String)>,
    headers: HeaderMap,
    body: Result<ApiJson<UpdateDeviceRequest>, ApiError>,
) -> ApiResult<Json<Value>> {
    authenticate(&ctx, &app_id, &headers)?;
    let ApiJson(body) = body?;
    let now = ctx.clock.now();
    let name = friendly_name(&body.friendly_name)?;
    let device = ctx
        .mutate(|state| {
            let user_id = signed_in(&ctx, state, &app_id, &headers)?;
            let device = rename_device(state.app_mut(&app_id)?, &user_id, &device_id, name, now)?;
            Ok(device_json(&device))
        })
        .await?;
    Ok(Json(json!({ "device": device })))
}

/// `DELETE /apps/{app_id}/currentuser/devices/{device_id}`.
pub async fn delete_device(
    State(ctx): State<Arc<Context>>,
    ApiPath((app_id, device_id)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    ctx.mutate(|state| {
        let user_id = signed_in(&ctx, state, &app_id, &headers)?;
        remove_device(state.app_mut(&app_id)?, &user_id, &device_id)
    })
    .await?;
    Ok(StatusCode::OK)
}

/// Body of the e-mail change.
#[derive(Debug, Deserialize)]
pub struct UpdateEmailRequest {
    new_email: String,
    #[serde(default)]
    #[allow(dead_code)]
    language: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    magic_link_path: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    redirect_url: Option<String>,
}

/// Body of the phone change.
#[derive(Debug, Deserialize)]
pub struct UpdatePhoneRequest {
    #[serde(default, deserialize_with = "not_null")]
    new_phone: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    language: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    magic_link_path: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    redirect_url: Option<String>,
}

async fn identifier_change(
    ctx: &Arc<Context>,
    app_id: &str,
    headers: &HeaderMap,
    new_identifier: String,
    purpose: LinkPurpose,
    path: Option<&str>,
    redirect_url: Option<String>,
) -> ApiResult<Json<Value>> {
    let now = ctx.clock.now();
    let link_id = ctx
        .mutate(|state| {
            let user_id = signed_in(ctx, state, app_id, headers)?;
            start_identifier_change(
                state,
                app_id,
                &user_id,
                &new_identifier,
                purpose,
                path,
                redirect_url,
                now,
            )
        })
        .await?;
    Ok(Json(json!({ "magic_link": { "id": link_id } })))
}

/// `PATCH /apps/{app_id}/currentuser/email`: sends a magic link to the new address; the change applies
/// when the link is activated.
pub async fn update_email(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    headers: HeaderMap,
    body: Result<ApiJson<UpdateEmailRequest>, ApiError>,
) -> ApiResult<Json<Value>> {
    authenticate(&ctx, &app_id, &headers)?;
    let ApiJson(body) = body?;
    let email = match parse_identifier(&body.new_email).map_err(invalid_identifier)? {
        (IdentifierKind::Email, email) => email,
        (IdentifierKind::Phone, _) => {
            return Err(ApiError::bad_request("new_email is not an e-mail address"))
        }
    };
    identifier_change(
        &ctx,
        &app_id,
        &headers,
        email.clone(),
        LinkPurpose::ChangeEmail { new_email: email },
        body.magic_link_path.as_deref(),
        body.redirect_url,
    )
    .await
}

/// `PATCH /apps/{app_id}/currentuser/phone`: like the e-mail change, for the phone number.
pub async fn update_phone(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    headers: HeaderMap,
    body: Result<ApiJson<UpdatePhoneRequest>, ApiError>,
) -> ApiResult<Json<Value>> {
    authenticate(&ctx, &app_id, &headers)?;
    let ApiJson(body) = body?;
    let not_phone = || ApiError::bad_request("new_phone must be an E.164 phone number");
    let phone = match parse_identifier(body.new_phone.as_deref().unwrap_or_default()) {
        Ok((IdentifierKind::Phone, phone)) => phone,
        Ok((IdentifierKind::Email, _)) | Err(IdentifierError::NotEmailOrPhone) => {
            return Err(not_phone())
        }
        Err(e) => return Err(invalid_identifier(e)),
    };
    identifier_change(
        &ctx,
        &app_id,
        &headers,
        phone.clone(),
        LinkPurpose::ChangePhone { new_phone: phone },
        body.magic_link_path.as_deref(),
        body.redirect_url,
    )
    .await
}

/// `GET /apps/{app_id}/currentuser/user-metadata`.
pub async fn get_metadata(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let state = ctx.lock();
    let (_, user) = signed_in_user(&ctx, &state, &app_id, &headers)?;
    Ok(Json(json!({ "user_metadata": user.user_metadata })))
}

/// Body of the metadata update.
#[derive(Debug, Deserialize)]
pub struct UpdateMetadataRequest {
    #[serde(default, deserialize_with = "not_null")]
    user_metadata: Option<Map<String, Value>>,
}

/// `PATCH /apps/{app_id}/currentuser/user-metadata`: unknown fields or wrong types give 400 and change nothing.
pub async fn update_metadata(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    headers: HeaderMap,
    body: Result<ApiJson<UpdateMetadataRequest>, ApiError>,
) -> ApiResult<Json<Value>> {
    authenticate(&ctx, &app_id, &headers)?;
    let ApiJson(body) = body?;
    let now = ctx.clock.now();
    let update = body.user_metadata.unwrap_or_default();
    let user = ctx
        .mutate(|state| {
            let user_id = signed_in(&ctx, state, &app_id, &headers)?;
            let app = state.app_mut(&app_id)?;
            change_metadata(app, &user_id, &update, now)?;
            Ok(current_user_json(app, &app.users[&user_id]))
        })
        .await?;
    Ok(Json(json!({ "user": user })))
}

/// `GET /apps/{app_id}/currentuser/social-connections`.
pub async fn list_social_connections(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let state = ctx.lock();
    let (_, user) = signed_in_user(&ctx, &state, &app_id, &headers)?;
    Ok(Json(json!({ "social_connections": social_json(user) })))
}

/// `DELETE /apps/{app_id}/currentuser/social-connections/{social_connection_type}`.
pub async fn delete_social_connection(
    State(ctx): State<Arc<Context>>,
    ApiPath((app_id, kind)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let provider = SocialProvider::parse(&kind)
        .ok_or_else(|| ApiError::bad_request("unknown social connection type"))?;
    ctx.mutate(|state| {
        let user_id = signed_in(&ctx, state, &app_id, &headers)?;
        unlink(state.app_mut(&app_id)?, &user_id, provider)
    })
    .await?;
    Ok(StatusCode::OK)
}
