//! OAuth2 social login with PKCE through a built-in fake identity provider, account linking, and
//! native ID-token exchange.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::base::api_error::{ApiError, ApiResult};
use crate::base::digest::{digest_hex, pkce_challenge, secret_eq};
use crate::base::enums::{ConnectionType, SocialProvider};
use crate::base::identifiers::IdentifierKind;
use crate::base::random::{random_id, random_secret};
use crate::base::redact::redacted_debug;
use crate::bearer::bearer_user;
use crate::context::Context;
use crate::domain::accounts::{ensure_can_login, new_user, record_login};
use crate::domain::sessions::issue_session;
use crate::extract::{ApiForm, ApiJson, ApiPath, ApiQuery};
use crate::model::app::AppRecord;
use crate::model::records::{OAuthCode, SocialFlow, SocialLink};
use crate::model::state::EmulatorState as Model;

/// Seconds a Passage authorization code stays valid.
const CODE_TTL_SECONDS: i64 = 600;

fn redirect(location: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, location.to_owned())]).into_response()
}

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

fn redirect_allowed(app: &AppRecord, redirect_uri: &str) -> bool {
    if app
        .config
        .allowed_redirect_uris
        .iter()
        .any(|u| u == redirect_uri)
    {
        return true;
    }
    match (
        url::Url::parse(redirect_uri),
        url::Url::parse(&app.config.auth_origin),
    ) {
        (Ok(target), Ok(origin)) => target.origin() == origin.origin(),
        _ => false,
    }
}

/// `GET /apps/{app_id}/social/authorize` (302 to the fake provider).
pub async fn authorize(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiQuery(q): ApiQuery<AuthorizeQuery>,
) -> ApiResult<Response> {
    let now = ctx.clock.now();
    let flow_id = ctx
        .mutate(|state| {
            let app = state.app(&app_id)?;
            if q.code_challenge_method != "S256" {
                return Err(ApiError::bad_request("code_challenge_method must be S256"));
            }
            let challenge_ok = (43..=128).contains(&q.code_challenge.len())
                && q.code_challenge
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !challenge_ok {
                return Err(ApiError::bad_request(
                    "code_challenge must be 43 to 128 base64url characters",
                ));
            }
            let connection_type = ConnectionType::parse(&q.connection_type)
                .ok_or_else(|| ApiError::bad_request("unknown connection_type"))?;
            if let Some(provider) = connection_type.provider() {
                if !app.config.social_connections.contains(&provider) {
                    return Err(ApiError::bad_request(
                        "this social connection is not configured for the app",
                    ));
                }
            }
            if !redirect_allowed(app, &q.redirect_uri) {
                return Err(ApiError::bad_request(
                    "redirect_uri is not under the app's auth origin nor in its allowed list",
                ));
            }
            let flow_id = random_id("flow_");
            // Abandoned flows are forgotten after an hour.
            state.social_flows.retain(|_, f| now - f.created_at < 3600);
            state.social_flows.insert(
                flow_id.clone(),
                SocialFlow {
                    app_id: app_id.clone(),
                    redirect_uri: q.redirect_uri.clone(),
                    client_state: q.state.clone(),
                    code_challenge: q.code_challenge.clone(),
                    connection_type,
                    login_hint: q.login_hint.clone(),
                    created_at: now,
                    provider_code: None,
                    provider_email: None,
                },
            );
            Ok(flow_id)
        })
        .await?;
    let mut url = url::Url::parse(&format!(
        "{}/_emulator/fake-provider/authorize",
        ctx.urls.root()
    ))
    .map_err(|e| ApiError::internal(e.to_string()))?;
    url.query_pairs_mut().append_pair("flow", &flow_id);
    Ok(redirect(url.as_str()))
}

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
pub async fn fake_provider_authorize(
    State(ctx): State<Arc<Context>>,
    ApiQuery(q): ApiQuery<FakeProviderQuery>,
) -> ApiResult<Response> {
    let (app_id, code) = ctx
        .mutate(|state| {
            let flow = state
                .social_flows
                .get_mut(&q.flow)
                .ok_or_else(|| ApiError::bad_request("unknown social login flow"))?;
            if q.deny.is_some() {
                return Ok((flow.app_id.clone(), None));
            }
            let email = q
                .email
                .clone()
                .or_else(|| flow.login_hint.clone())
                .unwrap_or_else(|| {
                    format!(
                        "{}@{}.example",
                        random_id("user-").to_lowercase(),
                        flow.connection_type.as_str()
                    )
                });
            let code = random_secret(16);
            flow.provider_code = Some(code.clone());
            flow.provider_email = Some(crate::base::identifiers::normalize_identifier(&email));
            Ok((flow.app_id.clone(), Some(code)))
        })
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
        let flow = state
            .social_flows
            .get(&flow_id)
            .cloned()
            .ok_or_else(|| ApiError::bad_request("unknown or finished social login flow"))?;
        if app_id.is_some_and(|id| id != flow.app_id) {
            return Err(ApiError::bad_request("state belongs to another app"));
        }
        let mut target = url::Url::parse(&flow.redirect_uri)
            .map_err(|_| ApiError::bad_request("stored redirect_uri is invalid"))?;
        if let Some(error) = q.error {
            state.social_flows.remove(&flow_id);
            {
                let mut pairs = target.query_pairs_mut();
                pairs.append_pair("error", &error);
                if let Some(desc) = &q.error_description {
                    pairs.append_pair("error_description", desc);
                }
                if let Some(s) = &flow.client_state {
                    pairs.append_pair("state", s);
                }
            }
            return Ok(target.to_string());
        }
        let code = q.code.unwrap_or_default();
        let expected = flow.provider_code.clone().unwrap_or_default();
        if expected.is_empty() || !secret_eq(&expected, &code) {
            return Err(ApiError::bad_request("invalid provider authorization code"));
        }
        let email = flow.provider_email.clone().unwrap_or_default();
        let passage_code = random_secret(24);
        let app = state.app_mut(&flow.app_id)?;
        app.oauth_codes.insert(
            digest_hex(&passage_code),
            OAuthCode {
                code_challenge: flow.code_challenge.clone(),
                connection_type: flow.connection_type,
                provider_id: provider_id(flow.connection_type.as_str(), &email),
                provider_email: email,
                expires_at: now + CODE_TTL_SECONDS,
                used: false,
            },
        );
        state.social_flows.remove(&flow_id);
        {
            let mut pairs = target.query_pairs_mut();
            pairs.append_pair("code", &passage_code);
            if let Some(s) = &flow.client_state {
                pairs.append_pair("state", s);
            }
        }
        Ok(target.to_string())
    })
    .await
}

fn provider_id(connection_type: &str, email: &str) -> String {
    let digest = digest_hex(&format!("{connection_type}:{email}"));
    format!("fake-{connection_type}-{}", &digest[..16])
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

/// Checks and consumes a Passage authorization code with its PKCE verifier.
fn redeem_code(app: &mut AppRecord, code: &str, verifier: &str, now: i64) -> ApiResult<OAuthCode> {
    let invalid = || ApiError::bad_request("invalid, used or expired authorization code");
    let record = app
        .oauth_codes
        .get_mut(&digest_hex(code))
        .ok_or_else(invalid)?;
    if record.used || now >= record.expires_at {
        return Err(invalid());
    }
    if !secret_eq(&pkce_challenge(verifier), &record.code_challenge) {
        return Err(ApiError::bad_request(
            "PKCE verifier does not match the code challenge",
        ));
    }
    record.used = true;
    Ok(record.clone())
}

/// Finds the user for a provider account (linked account, then same e-mail, then a new user) and logs
/// them in. Returns the user id.
fn login_with_provider(
    app: &mut AppRecord,
    connection_type: ConnectionType,
    provider_id: &str,
    email: &str,
    now: i64,
) -> ApiResult<String> {
    let provider = connection_type.provider();
    let by_link = provider.and_then(|provider| {
        app.users
            .values()
            .find(|u| {
                u.social
                    .get(&provider)
                    .is_some_and(|l| l.provider_id == provider_id)
            })
            .map(|u| u.id.clone())
    });
    let by_email = || {
        app.users
            .values()
            .find(|u| !email.is_empty() && u.email == email)
            .map(|u| u.id.clone())
    };
    let user_id = match by_link.or_else(by_email) {
        Some(id) => id,
        None => {
            crate::domain::accounts::ensure_public_signup(&app.config)?;
            if !crate::base::identifiers::is_email(email) {
                return Err(ApiError::bad_request(
                    "the provider reported no usable e-mail address",
                ));
            }
            let mut user = new_user(
                IdentifierKind::Email,
                email,
                crate::base::enums::UserStatus::Active,
                now,
            );
            user.email_verified = true;
            let id = user.id.clone();
            app.users.insert(id.clone(), user);
            id
        }
    };
    let user = app
        .users
        .get_mut(&user_id)
        .ok_or_else(ApiError::user_not_found)?;
    ensure_can_login(user)?;
    if let Some(provider) = provider {
        let created_at = user
            .social
            .get(&provider)
            .filter(|l| l.provider_id == provider_id)
            .map_or(now, |l| l.created_at);
        user.social.insert(
            provider,
            SocialLink {
                provider_id: provider_id.to_owned(),
                provider_identifier: email.to_owned(),
                created_at,
                last_login_at: now,
            },
        );
    }
    if user.email == email {
        user.email_verified = true;
    }
    record_login(user, now);
    Ok(user_id)
}

/// `GET /apps/{app_id}/social/token?code=&verifier=` (201 AuthResponse).
pub async fn exchange_token(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ExchangeQuery>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let now = ctx.clock.now();
    let body = ctx
        .mutate(|state| {
            let app = state.app_mut(&app_id)?;
            let code = redeem_code(app, &q.code, &q.verifier, now)?;
            let user_id = login_with_provider(
                app,
                code.connection_type,
                &code.provider_id,
                &code.provider_email,
                now,
            )?;
            issue_session(&ctx, app, &user_id, now)
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
        let user_id = bearer_user(&ctx, state, &app_id, &headers)?;
        let app = state.app_mut(&app_id)?;
        // Validate before consuming the code.
        let code = app
            .oauth_codes
            .get(&digest_hex(&q.code))
            .cloned()
            .ok_or_else(|| ApiError::bad_request("invalid, used or expired authorization code"))?;
        let Some(provider) = code.connection_type.provider() else {
            return Err(ApiError::bad_request("passage logins cannot be linked"));
        };
        let taken = app.users.values().any(|u| {
            u.id != user_id
                && u.social
                    .get(&provider)
                    .is_some_and(|l| l.provider_id == code.provider_id)
        });
        if taken {
            return Err(ApiError::forbidden(
                "operation_not_allowed",
                "this provider account is linked to another user",
            ));
        }
        let code = redeem_code(app, &q.code, &q.verifier, now)?;
        let user = app
            .users
            .get_mut(&user_id)
            .ok_or_else(ApiError::user_not_found)?;
        user.social.insert(
            provider,
            SocialLink {
                provider_id: code.provider_id,
                provider_identifier: code.provider_email,
                created_at: now,
                last_login_at: now,
            },
        );
        user.updated_at = now;
        Ok(())
    })
    .await?;
    Ok(StatusCode::CREATED)
}

/// Claims of the fake provider's ID tokens.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FakeIdClaims {
    /// `<root>/_emulator/fake-provider`.
    pub iss: String,
    /// Account id at the provider.
    pub sub: String,
    /// The app id.
    pub aud: String,
    /// E-mail.
    pub email: String,
    /// Issued at.
    pub iat: i64,
    /// Expiry.
    pub exp: i64,
}

/// Issuer of fake-provider ID tokens.
pub fn fake_issuer(ctx: &Context) -> String {
    format!("{}/_emulator/fake-provider", ctx.urls.root())
}

/// Mints a fake-provider ID token (HS256 with the emulator's provider secret).
pub fn mint_id_token(
    ctx: &Context,
    state: &Model,
    app_id: &str,
    email: &str,
    sub: Option<String>,
    ttl: i64,
) -> ApiResult<String> {
    let now = ctx.clock.now();
    let email = crate::base::identifiers::normalize_identifier(email);
    let claims = FakeIdClaims {
        iss: fake_issuer(ctx),
        sub: sub.unwrap_or_else(|| provider_id("idtoken", &email)),
        aud: app_id.to_owned(),
        email,
        iat: now,
        exp: now + ttl,
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(state.fake_provider_secret.as_bytes()),
    )
    .map_err(|e| ApiError::internal(format!("could not sign the ID token: {e}")))
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
            state.app(&app_id)?;
            let mut validation = Validation::new(Algorithm::HS256);
            validation.validate_exp = false;
            validation.set_audience(&[&app_id]);
            validation.set_issuer(&[fake_issuer(&ctx)]);
            let claims = jsonwebtoken::decode::<FakeIdClaims>(
                body.id_token.trim(),
                &DecodingKey::from_secret(state.fake_provider_secret.as_bytes()),
                &validation,
            )
            .map_err(|_| ApiError::bad_request("invalid ID token"))?
            .claims;
            if claims.exp <= now {
                return Err(ApiError::bad_request("ID token expired"));
            }
            let app = state.app_mut(&app_id)?;
            let user_id =
                login_with_provider(app, provider.into(), &claims.sub, &claims.email, now)?;
            issue_session(&ctx, app, &user_id, now)
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
