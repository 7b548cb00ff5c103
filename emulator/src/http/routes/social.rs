//! Social login: `social/authorize` (to the fake identity provider), the `oauth2_callback`s, the
//! code and ID-token exchanges, and account linking.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

use crate::base::api_error::{ApiError, ApiResult};
use crate::base::enums::SocialProvider;
use crate::base::redact::redacted_debug;
use crate::context::Context;
use crate::domain::sessions::bearer_user;
use crate::domain::social_login::{
    exchange_code, exchange_id_token as exchange_native_id_token, finish_provider_leg,
    link_account as link_provider_account, start_flow, FlowRequest,
};
use crate::http::extract::{authorization, ApiForm, ApiJson, ApiPath, ApiQuery};
use crate::http::redirect::redirect;

/// Query of `social/authorize`.
#[derive(Deserialize)]
pub struct AuthorizeQuery {
    redirect_uri: String,
    #[serde(default)]
    state: Option<String>,
    code_challenge: String,
    code_challenge_method: String,
    connection_type: String,
    #[serde(default)]
    login_hint: Option<String>,
}
redacted_debug!(AuthorizeQuery {
    redirect_uri,
    code_challenge_method,
    connection_type
});

/// `GET /apps/{app_id}/social/authorize` (302 to the fake provider).
pub async fn authorize(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiQuery(q): ApiQuery<AuthorizeQuery>,
) -> ApiResult<Response> {
    let now = ctx.clock.now();
    let request = FlowRequest {
        redirect_uri: q.redirect_uri,
        client_state: q.state,
        code_challenge: q.code_challenge,
        code_challenge_method: q.code_challenge_method,
        connection_type: q.connection_type,
        login_hint: q.login_hint,
    };
    let flow_id = ctx
        .mutate(|state| start_flow(state, &app_id, &request, now))
        .await?;
    let mut url = url::Url::parse(&format!(
        "{}/_emulator/fake-provider/authorize",
        ctx.urls.root()
    ))
    .map_err(|e| ApiError::internal(e.to_string()))?;
    url.query_pairs_mut().append_pair("flow", &flow_id);
    Ok(redirect(url.as_str()))
}

/// Query of the GET callbacks.
#[derive(Deserialize)]
pub struct CallbackQuery {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}
redacted_debug!(CallbackQuery {
    error,
    error_description
});

/// Form of the Apple callbacks.
#[derive(Deserialize)]
pub struct AppleForm {
    state: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    id_token: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    user: Option<String>,
    #[serde(default)]
    error: Option<String>,
}
redacted_debug!(AppleForm { error });

/// Finishes the provider leg of a flow; returns where to send the browser.
async fn finish_callback(
    ctx: &Context,
    app_id: Option<&str>,
    q: CallbackQuery,
) -> ApiResult<String> {
    let now = ctx.clock.now();
    let flow_id = q
        .state
        .ok_or_else(|| ApiError::bad_request("state is required"))?;
    ctx.mutate(|state| {
        finish_provider_leg(
            state,
            app_id,
            &flow_id,
            q.code,
            q.error,
            q.error_description.as_deref(),
            now,
        )
    })
    .await
}

/// `GET /apps/{app_id}/social/oauth2_callback` (302 to the app's redirect URI).
pub async fn callback(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiQuery(q): ApiQuery<CallbackQuery>,
) -> ApiResult<Response> {
    ctx.lock().app(&app_id)?;
    Ok(redirect(&finish_callback(&ctx, Some(&app_id), q).await?))
}

/// `GET /social/oauth2_callback` (default development callback; the app comes from the flow).
pub async fn callback_default_dev(
    State(ctx): State<Arc<Context>>,
    ApiQuery(q): ApiQuery<CallbackQuery>,
) -> ApiResult<Response> {
    Ok(redirect(&finish_callback(&ctx, None, q).await?))
}

fn apple_to_query(form: AppleForm) -> CallbackQuery {
    CallbackQuery {
        code: form.code,
        state: Some(form.state),
        error: form.error,
        error_description: None,
    }
}

/// `POST /apps/{app_id}/social/oauth2_callback` (Sign in with Apple form post; 302).
pub async fn apple_callback(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiForm(form): ApiForm<AppleForm>,
) -> ApiResult<Response> {
    ctx.lock().app(&app_id)?;
    Ok(redirect(
        &finish_callback(&ctx, Some(&app_id), apple_to_query(form)).await?,
    ))
}

/// `POST /social/oauth2_callback` (default development Apple callback; 302).
pub async fn apple_callback_default_dev(
    State(ctx): State<Arc<Context>>,
    ApiForm(form): ApiForm<AppleForm>,
) -> ApiResult<Response> {
    Ok(redirect(
        &finish_callback(&ctx, None, apple_to_query(form)).await?,
    ))
}

/// Query of `social/token` and `link_account`.
#[derive(Deserialize)]
pub struct ExchangeQuery {
    code: String,
    verifier: String,
}
redacted_debug!(ExchangeQuery {});

/// `GET /apps/{app_id}/social/token?code=&verifier=` (201 AuthResponse).
pub async fn exchange_token(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ExchangeQuery>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let now = ctx.clock.now();
    let body = ctx
        .mutate(|state| {
            exchange_code(
                &ctx.urls,
                state.app_mut(&app_id)?,
                &q.code,
                &q.verifier,
                now,
            )
        })
        .await?;
    Ok((StatusCode::CREATED, Json(body.finish()?)))
}

/// `GET /apps/{app_id}/currentuser/social/link_account?code=&verifier=` (201, no body).
pub async fn link_account(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ExchangeQuery>,
) -> ApiResult<StatusCode> {
    let now = ctx.clock.now();
    ctx.mutate(|state| {
        let user_id = bearer_user(
            &ctx.urls,
            state,
            &app_id,
            authorization(&headers),
            ctx.clock.now(),
        )?;
        link_provider_account(state.app_mut(&app_id)?, &user_id, &q.code, &q.verifier, now)
    })
    .await?;
    Ok(StatusCode::CREATED)
}

/// Body of `social/id_token`.
#[derive(Deserialize)]
pub struct IdTokenRequest {
    #[allow(dead_code)]
    code: String,
    id_token: String,
    connection_type: String,
}
redacted_debug!(IdTokenRequest { connection_type });

/// `POST /apps/{app_id}/social/id_token` (201): accepts ID tokens minted by the fake provider
/// (`POST /_emulator/fake-provider/id-token`).
pub async fn exchange_id_token(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<IdTokenRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let provider = match SocialProvider::parse(&body.connection_type) {
        Some(p @ (SocialProvider::Apple | SocialProvider::Google)) => p,
        _ => {
            return Err(ApiError::bad_request(
                "connection_type must be apple or google",
            ))
        }
    };
    let now = ctx.clock.now();
    let result = ctx
        .mutate(|state| {
            exchange_native_id_token(&ctx.urls, state, &app_id, provider, &body.id_token, now)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(result.finish()?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn request_debug_hides_secrets() {
        let q: ExchangeQuery =
            serde_json::from_value(json!({"code": "code-secret", "verifier": "verifier-secret"}))
                .expect("exchange");
        let id: IdTokenRequest = serde_json::from_value(json!({
            "code": "code-secret", "id_token": "token-secret", "connection_type": "google"
        }))
        .expect("id token");
        let cb = CallbackQuery {
            code: Some("code-secret".into()),
            state: Some("flow_1".into()),
            error: None,
            error_description: None,
        };
        let text = format!("{q:?} {id:?} {cb:?}");
        assert!(text.contains("google"), "{text}");
        assert!(!text.contains("secret"), "{text}");
    }
}
