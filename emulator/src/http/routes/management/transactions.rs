//! Flex: opening registration and authentication transactions for the Auth API's transaction
//! ceremonies, and redeeming the nonce a finished ceremony answered.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::base::api_error::ApiResult;
use crate::base::redact::redacted_debug;
use crate::context::Context;
use crate::domain::transactions::{
    open_authenticate_transaction, open_register_transaction, verify_nonce,
};
use crate::http::extract::{ApiJson, ApiPath};

/// Body of `create_register_transaction` (unknown members are ignored).
#[derive(Debug, Deserialize)]
pub struct RegisterTransactionRequest {
    external_id: String,
    passkey_display_name: String,
}

/// `POST /apps/{app_id}/transactions/register` -> `{"transaction_id"}`: a registration for the user
/// with the external id (made when new).
pub async fn create_register_transaction(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<RegisterTransactionRequest>,
) -> ApiResult<Json<Value>> {
    let now = ctx.clock.now();
    let id = ctx
        .mutate(|state| {
            open_register_transaction(
                state.app_mut(&app_id)?,
                &body.external_id,
                &body.passkey_display_name,
                now,
            )
        })
        .await?;
    Ok(Json(json!({ "transaction_id": id })))
}

/// Body of `create_authenticate_transaction` (unknown members are ignored).
#[derive(Debug, Deserialize)]
pub struct AuthenticateTransactionRequest {
    external_id: String,
}

/// `POST /apps/{app_id}/transactions/authenticate` -> `{"transaction_id"}`.
pub async fn create_authenticate_transaction(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<AuthenticateTransactionRequest>,
) -> ApiResult<Json<Value>> {
    let now = ctx.clock.now();
    let id = ctx
        .mutate(|state| {
            open_authenticate_transaction(state.app_mut(&app_id)?, &body.external_id, now)
        })
        .await?;
    Ok(Json(json!({ "transaction_id": id })))
}

/// Body of `authenticate_verify_nonce` (unknown members are ignored).
#[derive(Deserialize)]
pub struct VerifyNonceRequest {
    nonce: String,
}
redacted_debug!(VerifyNonceRequest {});

/// `POST /apps/{app_id}/authenticate/verify` -> `{"external_id"}` once per nonce; 401
/// `invalid_nonce` for an unknown, used or expired one.
pub async fn authenticate_verify_nonce(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<VerifyNonceRequest>,
) -> ApiResult<Json<Value>> {
    let now = ctx.clock.now();
    let external_id = ctx
        .mutate(|state| verify_nonce(state.app_mut(&app_id)?, &body.nonce, now))
        .await?;
    Ok(Json(json!({ "external_id": external_id })))
}
