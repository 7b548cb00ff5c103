//! The `/_emulator` admin API: apps, keys, clock, outbox, faults, request log, fake provider.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{middleware, Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::model::admin_api::AppSummary;

use crate::base::api_error::{ApiError, ApiResult};
use crate::base::digest::digest_hex;
use crate::base::identifiers::normalize_identifier;
use crate::base::random::random_id;
use crate::base::redact::redacted_debug;
use crate::context::Context;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::jwt::SigningKey;
use crate::model::app::AppRecord;
use crate::model::faults::FaultRule;
use crate::model::records::{TransactionKind, TransactionRecord};
use crate::routes::admin_users;
use crate::routes::social::{fake_provider_authorize, mint_id_token};
use crate::settings::admin_access::ADMIN_TOKEN_HEADER;
use crate::settings::admin_access::{admin_allowed, AdminRefusal};
use crate::settings::app::AppConfig;

/// The admin routes (mounted under `/_emulator`).
pub fn router(ctx: Arc<Context>) -> Router<Arc<Context>> {
    Router::new()
        .route("/apps", get(list_apps).post(create_app))
        .route("/reset", post(admin_users::reset))
        .route("/apps/{app_id}", patch(admin_users::update_app))
        .route(
            "/apps/{app_id}/users",
            get(admin_users::list_users).post(admin_users::create_user),
        )
        .route(
            "/apps/{app_id}/users/{user_id}",
            get(admin_users::get_user)
                .patch(admin_users::update_user)
                .delete(admin_users::delete_user),
        )
        .route(
            "/apps/{app_id}/users/{user_id}/sessions",
            post(admin_users::create_session),
        )
        .route("/apps/{app_id}/rotate-key", post(rotate_key))
        .route("/clock", get(get_clock))
        .route("/clock/advance", post(advance_clock))
        .route("/outbox", get(get_outbox).delete(clear_outbox))
        .route(
            "/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/requests", get(list_requests).delete(clear_requests))
        .route("/apps/{app_id}/transactions", post(create_transaction))
        .route("/apps/{app_id}/nonces/verify", post(verify_nonce))
        .route("/fake-provider/id-token", post(id_token))
        .route_layer(middleware::from_fn_with_state(ctx, admin_guard))
        // Not admin calls: the health probe and the fake provider's page, which browsers reach in a
        // social login (no admin token to send).
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/fake-provider/authorize", get(fake_provider_authorize))
}

/// Refuses admin calls without the configured token (401), or on a non-loopback bind without a token
/// configured (403).
pub(crate) async fn admin_guard(
    State(ctx): State<Arc<Context>>,
    req: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let presented = req
        .headers()
        .get(ADMIN_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok());
    match admin_allowed(&ctx.options.admin, presented) {
        Ok(()) => next.run(req).await,
        Err(AdminRefusal::BadToken) => {
            ApiError::invalid_access_token("missing or wrong x-emulator-admin-token")
                .into_response()
        }
        Err(AdminRefusal::NotLoopback) => ApiError::forbidden(
            "operation_not_allowed",
            "the admin API is disabled on a non-loopback address unless admin_token is configured",
        )
        .into_response(),
    }
}

/// The admin view of an app.
pub fn app_summary(ctx: &Arc<Context>, app: &AppRecord) -> Value {
    let c = &app.config;
    json!(AppSummary {
        id: c.id.clone(),
        name: c.name.clone(),
        auth_origin: c.auth_origin.clone(),
        rp_id: c.effective_rp_id(),
        rp_origin: c.effective_rp_origin(),
        base_url: ctx.urls.base_url(),
        issuer: ctx.urls.issuer(&c.id),
        api_key: c.api_key.clone(),
        active_kid: app.active_key().map(|k| k.kid.clone()),
        config: (**c).clone(),
    })
}

/// `GET /_emulator/apps` -> `{"apps": [...]}`.
async fn list_apps(State(ctx): State<Arc<Context>>) -> Json<Value> {
    let state = ctx.lock();
    let apps: Vec<Value> = state.apps.values().map(|a| app_summary(&ctx, a)).collect();
    Json(json!({ "apps": apps }))
}

/// `POST /_emulator/apps` with an app configuration (same keys as a `[[apps]]` TOML table) -> 201.
async fn create_app(
    State(ctx): State<Arc<Context>>,
    ApiJson(config): ApiJson<AppConfig>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    config
        .validate()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    // Each app signs with its own key.
    let key = tokio::task::spawn_blocking(SigningKey::generate)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let summary = ctx
        .mutate(|state| {
            if state.apps.contains_key(&config.id) {
                return Err(ApiError::bad_request("an app with this id already exists"));
            }
            let app = AppRecord::new(config.clone(), key);
            let summary = app_summary(&ctx, &app);
            state.apps.insert(config.id.clone(), app);
            Ok(summary)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(summary)))
}

/// `POST /_emulator/apps/{app_id}/rotate-key` -> `{"kid": new, "previous_kid": old}`.
async fn rotate_key(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    ctx.lock().app(&app_id)?;
    let key = tokio::task::spawn_blocking(SigningKey::generate)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let now = ctx.clock.now();
    let out = ctx
        .mutate(|state| {
            let app = state.app_mut(&app_id)?;
            let previous = app.active_key().map(|k| k.kid.clone());
            for k in app.keys.iter_mut().filter(|k| k.retired_at.is_none()) {
                k.retired_at = Some(now);
            }
            let kid = key.kid.clone();
            app.keys.push(key);
            Ok(json!({ "kid": kid, "previous_kid": previous }))
        })
        .await?;
    Ok(Json(out))
}

async fn get_clock(State(ctx): State<Arc<Context>>) -> Json<Value> {
    Json(json!({ "now": ctx.clock.now(), "offset_seconds": ctx.clock.offset_seconds() }))
}

/// Largest single clock step (100 years), so emulator time never overflows.
const MAX_ADVANCE_SECONDS: i64 = 100 * 365 * 24 * 3600;

#[derive(Debug, Deserialize)]
struct AdvanceRequest {
    seconds: i64,
}

/// `POST /_emulator/clock/advance {"seconds": N}` -> `{"now": ..., "offset_seconds": ...}`.
async fn advance_clock(
    State(ctx): State<Arc<Context>>,
    ApiJson(body): ApiJson<AdvanceRequest>,
) -> ApiResult<Json<Value>> {
    if !(0..=MAX_ADVANCE_SECONDS).contains(&body.seconds) {
        return Err(ApiError::bad_request(
            "seconds must be between 0 and 3153600000 (the clock only moves forward)",
        ));
    }
    let now = ctx.clock.advance(body.seconds);
    Ok(Json(
        json!({ "now": now, "offset_seconds": ctx.clock.offset_seconds() }),
    ))
}

#[derive(Debug, Deserialize)]
struct OutboxQuery {
    #[serde(default)]
    identifier: Option<String>,
}

/// `GET /_emulator/outbox[?identifier=]` -> JSON array of messages, oldest first.
async fn get_outbox(
    State(ctx): State<Arc<Context>>,
    ApiQuery(q): ApiQuery<OutboxQuery>,
) -> Json<Value> {
    let needle = q.identifier.as_deref().map(normalize_identifier);
    let state = ctx.lock();
    let messages: Vec<Value> = match &needle {
        Some(identifier) => state
            .outbox
            .for_identifier(identifier)
            .map(|m| json!(m))
            .collect(),
        None => state.outbox.iter().map(|m| json!(m)).collect(),
    };
    Json(Value::Array(messages))
}

async fn clear_outbox(State(ctx): State<Arc<Context>>) -> ApiResult<StatusCode> {
    ctx.mutate(|state| {
        state.outbox.clear();
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_faults(State(ctx): State<Arc<Context>>) -> Json<Value> {
    Json(json!({ "faults": ctx.faults.list() }))
}

/// `POST /_emulator/faults` with a [`FaultRule`] -> 201.
async fn add_fault(
    State(ctx): State<Arc<Context>>,
    ApiJson(rule): ApiJson<FaultRule>,
) -> ApiResult<StatusCode> {
    if rule.count == 0 {
        return Err(ApiError::bad_request("count must be at least 1"));
    }
    if rule.delay_ms.is_some_and(|ms| ms > 600_000) {
        return Err(ApiError::bad_request("delay_ms must be at most 600000"));
    }
    ctx.faults.add(rule);
    Ok(StatusCode::CREATED)
}

async fn clear_faults(State(ctx): State<Arc<Context>>) -> StatusCode {
    ctx.faults.clear();
    StatusCode::NO_CONTENT
}

#[derive(Debug, Deserialize)]
struct RequestsQuery {
    #[serde(default)]
    path_prefix: Option<String>,
    #[serde(default)]
    method: Option<String>,
}

/// `GET /_emulator/requests[?path_prefix=&method=]` -> `{"count": n, "requests": [{method, path, status}]}`.
async fn list_requests(
    State(ctx): State<Arc<Context>>,
    ApiQuery(q): ApiQuery<RequestsQuery>,
) -> Json<Value> {
    let matching: Vec<Value> = ctx
        .request_log
        .list()
        .into_iter()
        .filter(|r| {
            q.path_prefix
                .as_deref()
                .is_none_or(|p| r.path.starts_with(p))
        })
        .filter(|r| {
            q.method
                .as_deref()
                .is_none_or(|m| r.method.eq_ignore_ascii_case(m))
        })
        .map(|r| json!(r))
        .collect();
    Json(json!({ "count": matching.len(), "requests": matching }))
}

async fn clear_requests(State(ctx): State<Arc<Context>>) -> StatusCode {
    ctx.request_log.clear();
    StatusCode::NO_CONTENT
}

#[derive(Debug, Deserialize)]
struct IdTokenRequest {
    email: String,
    #[serde(default)]
    app_id: Option<String>,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    ttl_seconds: Option<i64>,
}

/// `POST /_emulator/fake-provider/id-token {"email", "app_id"?, "sub"?, "ttl_seconds"?}` -> `{"id_token"}`.
async fn id_token(
    State(ctx): State<Arc<Context>>,
    ApiJson(body): ApiJson<IdTokenRequest>,
) -> ApiResult<Json<Value>> {
    let state = ctx.lock();
    let app_id = match body.app_id {
        Some(id) => id,
        None => state
            .apps
            .keys()
            .next()
            .cloned()
            .ok_or_else(ApiError::app_not_found)?,
    };
    state.app(&app_id)?;
    let token = mint_id_token(
        &ctx,
        &state,
        &app_id,
        &body.email,
        body.sub,
        body.ttl_seconds
            .unwrap_or(600)
            .clamp(-MAX_ADVANCE_SECONDS, MAX_ADVANCE_SECONDS),
    )?;
    Ok(Json(json!({ "id_token": token })))
}

#[derive(Debug, Deserialize)]
struct TransactionRequest {
    identifier: String,
    kind: TransactionKind,
}

/// `POST /_emulator/apps/{app_id}/transactions {"identifier", "kind": "register"|"authenticate"}` -> 201
/// `{"transaction_id", "user_id"}` (what an app backend would create for the transaction ceremonies).
async fn create_transaction(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<TransactionRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let now = ctx.clock.now();
    let out = ctx
        .mutate(|state| {
            let app = state.app_mut(&app_id)?;
            let user_id = match body.kind {
                TransactionKind::Register => {
                    crate::domain::accounts::register_user(app, &body.identifier, now)
                        .or_else(|e| {
                            // An existing active user may add a passkey through a transaction too.
                            app.find_user_by_identifier(&body.identifier)
                                .map(|u| (u.id.clone(), u.email.clone()))
                                .ok_or(e)
                        })?
                        .0
                }
                TransactionKind::Authenticate => app
                    .find_user_by_identifier(&body.identifier)
                    .map(|u| u.id.clone())
                    .ok_or_else(ApiError::user_not_found)?,
            };
            let id = random_id("txn_");
            app.transactions.insert(
                id.clone(),
                TransactionRecord {
                    id: id.clone(),
                    kind: body.kind,
                    user_id: user_id.clone(),
                    created_at: now,
                    completed: false,
                },
            );
            Ok(json!({ "transaction_id": id, "user_id": user_id }))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(out)))
}

#[derive(Deserialize)]
struct NonceRequest {
    nonce: String,
}
redacted_debug!(NonceRequest {});

/// `POST /_emulator/apps/{app_id}/nonces/verify {"nonce"}` -> `{"transaction_id", "user_id"}` once;
/// 404 `invalid_request` for unknown or already verified nonces.
async fn verify_nonce(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<NonceRequest>,
) -> ApiResult<Json<Value>> {
    let out = ctx
        .mutate(|state| {
            let app = state.app_mut(&app_id)?;
            let record = app
                .nonces
                .remove(&digest_hex(body.nonce.trim()))
                .ok_or_else(|| {
                    ApiError::not_found("invalid_request", "unknown or already verified nonce")
                })?;
            Ok(json!({ "transaction_id": record.transaction_id, "user_id": record.user_id }))
        })
        .await?;
    Ok(Json(out))
}
