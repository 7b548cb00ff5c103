//! The transactions of the `/_emulator` admin API, standing in for an app backend: creating a
//! transaction for the transaction ceremonies, and verifying the nonce a ceremony answered.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::base::api_error::ApiResult;
use crate::base::redact::redacted_debug;
use crate::context::Context;
use crate::domain::transactions::{create_transaction as create, redeem_nonce};
use crate::http::extract::{ApiJson, ApiPath};
use crate::model::records::TransactionKind;

/// Body of `POST /_emulator/apps/{app_id}/transactions`.
#[derive(Debug, Deserialize)]
pub struct TransactionRequest {
    identifier: String,
    kind: TransactionKind,
}

/// `POST /_emulator/apps/{app_id}/transactions {"identifier", "kind": "register"|"authenticate"}` -> 201
/// `{"transaction_id", "user_id"}` (what an app backend would create for the transaction ceremonies).
pub async fn create_transaction(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<TransactionRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let now = ctx.clock.now();
    let out = ctx
        .mutate(|state| {
            let (id, user_id) = create(state.app_mut(&app_id)?, &body.identifier, body.kind, now)?;
            Ok(json!({ "transaction_id": id, "user_id": user_id }))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Body of `POST /_emulator/apps/{app_id}/nonces/verify`.
#[derive(Deserialize)]
pub struct NonceRequest {
    nonce: String,
}
redacted_debug!(NonceRequest {});

/// `POST /_emulator/apps/{app_id}/nonces/verify {"nonce"}` -> `{"transaction_id", "user_id"}` once;
/// 404 `invalid_request` for unknown or already verified nonces.
pub async fn verify_nonce(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<NonceRequest>,
) -> ApiResult<Json<Value>> {
    let out = ctx
        .mutate(|state| {
            let record = redeem_nonce(state.app_mut(&app_id)?, &body.nonce)?;
            Ok(json!({ "transaction_id": record.transaction_id, "user_id": record.user_id }))
        })
        .await?;
    Ok(Json(out))
}
