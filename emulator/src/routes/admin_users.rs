//! The admin API for test setup: reset, users created and changed directly, sessions without a
//! ceremony, app settings changed at runtime.

use std::sync::Arc;

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::base::api_error::{ApiError, ApiResult};
use crate::context::Context;
use crate::domain::accounts::classify_identifier;
use crate::domain::accounts::{
    delete_user as remove_user, ensure_can_login, ensure_identifier_free, new_user, record_login,
};
use crate::domain::sessions::issue_session;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::model::admin_api::{AdminUser, UserPatch};
use crate::model::app::AppRecord;
use crate::model::records::UserRecord;
use crate::model::state::EmulatorState as Model;
use crate::routes::admin::app_summary;
use crate::routes::users::apply_metadata;
use crate::settings::app::AppConfig;
use crate::settings::seed::NewUser;
use crate::views::admin_user;

/// Query of `POST /_emulator/reset`.
#[derive(Debug, Deserialize)]
pub struct ResetQuery {
    #[serde(default)]
    app_id: Option<String>,
}

/// Empties an app's users and everything that hangs off them, keeping its settings and keys.
fn reset_app(app: &mut AppRecord) {
    app.users.clear();
    app.devices.clear();
    app.magic_links.clear();
    app.otps.clear();
    app.refresh_tokens.clear();
    app.families.clear();
    app.oauth_codes.clear();
    app.nonces.clear();
    app.transactions.clear();
}

/// `POST /_emulator/reset[?app_id=]` (204): empties users, sessions, outbox, faults and the request log,
/// of one app (its outbox messages, and faults and logged requests under `/v1/apps/{app_id}`) or of all.
pub async fn reset(
    State(ctx): State<Arc<Context>>,
    ApiQuery(q): ApiQuery<ResetQuery>,
) -> ApiResult<StatusCode> {
    match q.app_id {
        None => {
            ctx.mutate(|state| {
                state.apps.values_mut().for_each(reset_app);
                state.outbox.clear();
                state.social_flows.clear();
                state.handshakes.clear();
                Ok(())
            })
            .await?;
            ctx.faults.clear();
            ctx.request_log.clear();
        }
        Some(app_id) => {
            ctx.mutate(|state| {
                reset_app(state.app_mut(&app_id)?);
                state.outbox.retain(|m| m.app_id != app_id);
                state.social_flows.retain(|_, f| f.app_id != app_id);
                state.handshakes.retain(|_, h| h.app_id() != app_id);
                Ok(())
            })
            .await?;
            let prefix = format!("/v1/apps/{app_id}");
            let under = |path: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
            ctx.faults.retain(|r| !under(&r.path_prefix));
            ctx.request_log.retain(|r| !under(&r.path));
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

fn user<'a>(app: &'a AppRecord, user_id: &str) -> ApiResult<&'a UserRecord> {
    app.users.get(user_id).ok_or_else(ApiError::user_not_found)
}

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
    Ok(Json(admin_user(app, user(app, &user_id)?, now)))
}

/// Checks a fixed user id: letters, digits, `-` and `_`, 1 to 64 characters.
fn valid_user_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Creates a user directly (admin API and seeding): the app's identifier rules and metadata schema
/// apply, public sign-up does not.
pub fn create_user_in(app: &mut AppRecord, body: &NewUser, now: i64) -> ApiResult<AdminUser> {
    let (kind, identifier) = classify_identifier(&app.config, &body.identifier)?;
    ensure_identifier_free(app, &identifier, None)?;
    let mut user = new_user(kind, &identifier, body.status, now);
    if let Some(id) = &body.id {
        if !valid_user_id(id) {
            return Err(ApiError::bad_request(
                "id may only contain letters, digits, '-' and '_' (at most 64)",
            ));
        }
        if app.users.contains_key(id) {
            return Err(ApiError::bad_request("a user with this id already exists"));
        }
        user.id = id.clone();
    }
    if body.email_verified && user.email.is_empty() {
        return Err(ApiError::bad_request(
            "email_verified needs an e-mail identifier",
        ));
    }
    if body.phone_verified && user.phone.is_empty() {
        return Err(ApiError::bad_request(
            "phone_verified needs a phone identifier",
        ));
    }
    user.email_verified = body.email_verified;
    user.phone_verified = body.phone_verified;
    let metadata: serde_json::Map<String, Value> = body.user_metadata.clone().into_iter().collect();
    user.user_metadata = apply_metadata(
        &app.config.user_metadata_schema,
        &BTreeMap::new(),
        &metadata,
    )?;
    let view = admin_user(app, &user, now);
    app.users.insert(user.id.clone(), user);
    Ok(view)
}

/// Creates the seed users of a configuration (skipping identifiers that already exist, as after a
/// restart with a state file).
pub fn seed_users(
    state: &mut Model,
    users: &[crate::settings::seed::SeedUser],
    now: i64,
) -> anyhow::Result<()> {
    let default_app = state.apps.keys().next().cloned();
    for seed in users {
        let app_id = seed
            .app_id
            .clone()
            .or_else(|| default_app.clone())
            .ok_or_else(|| anyhow::anyhow!("no app to seed"))?;
        let app = state
            .apps
            .get_mut(&app_id)
            .ok_or_else(|| anyhow::anyhow!("seed user for unknown app {app_id}"))?;
        if app.find_user_by_identifier(&seed.user.identifier).is_some() {
            continue;
        }
        create_user_in(app, &seed.user, now)
            .map_err(|e| anyhow::anyhow!("seed user of app {app_id}: {}", e.message))?;
    }
    Ok(())
}

/// `POST /_emulator/apps/{app_id}/users` (201 the user).
pub async fn create_user(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<AdminUser>)> {
    let now = ctx.clock.now();
    let view = ctx
        .mutate(|state| create_user_in(state.app_mut(&app_id)?, &body, now))
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
            let current = user(app, &user_id)?.clone();
            let mut next = current.clone();
            if let Some(status) = patch.status {
                next.status = status;
            }
            if let Some(flag) = patch.email_verified {
                if flag && next.email.is_empty() {
                    return Err(ApiError::bad_request("the user has no e-mail address"));
                }
                next.email_verified = flag;
            }
            if let Some(flag) = patch.phone_verified {
                if flag && next.phone.is_empty() {
                    return Err(ApiError::bad_request("the user has no phone number"));
                }
                next.phone_verified = flag;
            }
            if let Some(update) = &patch.user_metadata {
                next.user_metadata = apply_metadata(
                    &app.config.user_metadata_schema,
                    &current.user_metadata,
                    update,
                )?;
            }
            next.updated_at = now;
            let view = admin_user(app, &next, now);
            app.users.insert(user_id.clone(), next);
            Ok(view)
        })
        .await?;
    Ok(Json(view))
}

/// `DELETE /_emulator/apps/{app_id}/users/{user_id}` (204): the user, their devices and sessions.
pub async fn delete_user(
    State(ctx): State<Arc<Context>>,
    ApiPath((app_id, user_id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    ctx.mutate(|state| {
        let app = state.app_mut(&app_id)?;
        remove_user(app, &user_id)?;
        state
            .handshakes
            .retain(|_, h| h.user_id() != Some(&user_id));
        Ok(())
    })
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
        .mutate(|state| {
            let app = state.app_mut(&app_id)?;
            let user = app
                .users
                .get_mut(&user_id)
                .ok_or_else(ApiError::user_not_found)?;
            ensure_can_login(user)?;
            record_login(user, now);
            issue_session(&ctx, app, &user_id, now)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(body.finish()?)))
}

/// `PATCH /_emulator/apps/{app_id}` with configuration keys (as in an `[[apps]]` table) to change; the
/// app keeps its users, sessions and keys. Unknown keys, a different `id` or invalid values give 400.
pub async fn update_app(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(patch): ApiJson<serde_json::Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let summary = ctx
        .mutate(|state| {
            let app = state.app_mut(&app_id)?;
            let mut merged =
                serde_json::to_value(&app.config).map_err(|e| ApiError::internal(e.to_string()))?;
            if let Some(object) = merged.as_object_mut() {
                object.extend(patch.clone());
            }
            let config: AppConfig = serde_json::from_value(merged).map_err(|e| {
                ApiError::bad_request(format!(
                    "invalid app settings: {}",
                    crate::base::api_error::json_error_text(&e)
                ))
            })?;
            if config.id != app_id {
                return Err(ApiError::bad_request("an app's id cannot change"));
            }
            config
                .validate()
                .map_err(|e| ApiError::bad_request(e.to_string()))?;
            *app.config = config;
            Ok(app_summary(&ctx, app))
        })
        .await?;
    Ok(Json(summary))
}
