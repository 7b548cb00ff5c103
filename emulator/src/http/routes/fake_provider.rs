//! The fake identity provider's endpoints under `/_emulator/fake-provider`: its consent page (which
//! browsers reach in a social login) and the admin call that mints ID tokens for native sign-in.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::base::api_error::{ApiError, ApiResult};
use crate::context::Context;
use crate::domain::fake_provider::{consent, mint_id_token};
use crate::http::extract::{ApiQuery, PlainJson};
use crate::http::redirect::redirect;

/// Largest ID-token lifetime, either way (100 years), so emulator time never overflows.
const MAX_TTL_SECONDS: i64 = 100 * 365 * 24 * 3600;

/// Query of the fake provider's consent page.
#[derive(Debug, Deserialize)]
pub struct FakeProviderQuery {
    flow: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    deny: Option<String>,
}

/// `GET /_emulator/fake-provider/authorize?flow=..[&email=..][&deny=1]`: "consents" at once and redirects
/// to the app's `oauth2_callback` (or reports `consent_required` when `deny` is set).
pub async fn authorize(
    State(ctx): State<Arc<Context>>,
    ApiQuery(q): ApiQuery<FakeProviderQuery>,
) -> ApiResult<Response> {
    let (app_id, code) = ctx
        .mutate(|state| consent(state, &q.flow, q.email.as_deref(), q.deny.is_some()))
        .await?;
    let mut url = url::Url::parse(&format!(
        "{}/v1/apps/{app_id}/social/oauth2_callback",
        ctx.urls.root()
    ))
    .map_err(|e| ApiError::internal(e.to_string()))?;
    match code {
        Some(code) => {
            url.query_pairs_mut()
                .append_pair("code", &code)
                .append_pair("state", &q.flow);
        }
        None => {
            url.query_pairs_mut()
                .append_pair("code", "")
                .append_pair("state", &q.flow)
                .append_pair("error", "consent_required")
                .append_pair("error_description", "the user denied consent");
        }
    }
    Ok(redirect(url.as_str()))
}

/// Body of the ID-token minting.
#[derive(Debug, Deserialize)]
pub struct IdTokenRequest {
    email: String,
    #[serde(default)]
    app_id: Option<String>,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    ttl_seconds: Option<i64>,
}

/// `POST /_emulator/fake-provider/id-token {"email", "app_id"?, "sub"?, "ttl_seconds"?}` -> `{"id_token"}`.
pub async fn id_token(
    State(ctx): State<Arc<Context>>,
    PlainJson(body): PlainJson<IdTokenRequest>,
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
        &ctx.urls,
        &state,
        &app_id,
        &body.email,
        body.sub,
        body.ttl_seconds
            .unwrap_or(600)
            .clamp(-MAX_TTL_SECONDS, MAX_TTL_SECONDS),
        ctx.clock.now(),
    )?;
    Ok(Json(json!({ "id_token": token })))
}
