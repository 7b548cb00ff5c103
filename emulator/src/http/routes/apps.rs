//! App-level reads (configuration, JWKS, OpenID discovery) and the passkey readiness report.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::base::api_error::{ApiError, ApiResult};
use crate::base::enums::LoginMethod;
use crate::context::Context;
use crate::domain::apps::api_key_known;
use crate::http::extract::ApiPath;
use crate::model::app::AppRecord;
use crate::settings::app::AllowedIdentifier;

/// The spec's `App` view.
pub fn app_json(app: &AppRecord) -> Value {
    let c = &app.config;
    let schema: Vec<Value> = c
        .user_metadata_schema
        .iter()
        .map(|f| {
            json!({
                "id": format!("fld_{}", f.field_name),
                "field_name": f.field_name,
                "friendly_name": f.friendly_name.clone().unwrap_or_else(|| f.field_name.clone()),
                "type": f.field_type,
                "profile": f.profile,
                "registration": f.registration,
            })
        })
        .collect();
    let mut social = serde_json::Map::new();
    for conn in &c.social_connections {
        social.insert(
            conn.as_str().to_owned(),
            json!({"client_id": format!("emulator-{conn}-client")}),
        );
    }
    let mut auth_methods = serde_json::Map::new();
    for method in &c.login_methods {
        let settings = match method {
            LoginMethod::Passkeys => json!({}),
            LoginMethod::Otp => json!({"ttl": c.otp_ttl_seconds, "ttl_display_unit": "s"}),
            LoginMethod::MagicLink => {
                json!({"ttl": c.magic_link_ttl_seconds, "ttl_display_unit": "s"})
            }
        };
        auth_methods.insert(method.as_str().to_owned(), settings);
    }
    // The legacy fallback setting: the magic link when offered, else the passcode, else none.
    let (fallback, fallback_ttl) = if c.offers(LoginMethod::MagicLink) {
        ("magic_link", c.magic_link_ttl_seconds)
    } else if c.offers(LoginMethod::Otp) {
        ("otp", c.otp_ttl_seconds)
    } else {
        ("none", 0)
    };
    let required = match c.allowed_identifier {
        AllowedIdentifier::Phone => "phone",
        _ => "email",
    };
    json!({
        "id": c.id,
        "name": c.name,
        "allowed_identifier": c.allowed_identifier.as_str(),
        "required_identifier": required,
        "auth_origin": c.auth_origin,
        "default_language": "en",
        "login_url": c.login_url,
        "redirect_url": c.redirect_url,
        "rsa_public_key": app.active_key().map(|k| k.public_pem_b64()).unwrap_or_default(),
        "auth_fallback_method": fallback,
        "auth_fallback_method_ttl": fallback_ttl,
        "auth_methods": auth_methods,
        "element_customization": {},
        "element_customization_dark": {},
        "ephemeral": true,
        "passage_branding": false,
        "public_signup": c.public_signup,
        "profile_management": true,
        "require_email_verification": false,
        "require_identifier_verification": false,
        "session_timeout_length": c.auth_token_ttl_seconds,
        "layouts": {"profile": [], "registration": []},
        "social_connections": social,
        "user_metadata_schema": schema,
    })
}

/// `GET /apps/{app_id}`.
pub async fn get_app(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let state = ctx.lock();
    let app = state.app(&app_id)?;
    Ok(Json(json!({ "app": app_json(app) })))
}

/// `GET /apps/{app_id}/.well-known/jwks.json`.
pub async fn get_jwks(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let now = ctx.clock.now();
    let state = ctx.lock();
    let app = state.app(&app_id)?;
    let keys: Vec<Value> = app
        .keys
        .iter()
        .rev()
        .filter(|k| k.is_published(now, app.config.key_grace_seconds))
        .map(|k| k.jwk())
        .collect();
    Ok(Json(json!({ "keys": keys })))
}

/// `GET /apps/{app_id}/.well-known/openid-configuration`: OpenID Connect Discovery 1.0 metadata.
///
/// Every member Discovery requires, and the optional ones that are true of the emulator: the
/// issuer is the tokens' `iss`; the endpoints are the emulator's own (`authorization_endpoint` is
/// the social login's `social/authorize`, the code flow with PKCE S256 and a `query` response; its
/// code is exchanged at `token_endpoint`, Passage's `GET social/token` with the code and the PKCE
/// verifier, not an RFC 6749 form post); tokens are RS256 with public subjects (the user id);
/// `request_uri`, `request` and `claims` parameters are not supported. No `userinfo_endpoint`:
/// `currentuser` answers Passage's user object, not OpenID claims.
pub async fn get_openid_configuration(
    State(ctx): State<Arc<Context>>,
    ApiPath(app_id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let state = ctx.lock();
    state.app(&app_id)?;
    let app_url = format!("{}/apps/{app_id}", ctx.urls.base_url());
    Ok(Json(json!({
        "issuer": ctx.urls.issuer(&app_id),
        "authorization_endpoint": format!("{app_url}/social/authorize"),
        "token_endpoint": format!("{app_url}/social/token"),
        "jwks_uri": format!("{app_url}/.well-known/jwks.json"),
        "scopes_supported": ["openid"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nbf", "jti"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    })))
}

/// Body of the passkey readiness report.
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
pub struct ReadinessReport {
    device_id: String,
    security_key: bool,
    platform: bool,
    synced_credential: bool,
    cross_device_credential: bool,
    conditional_ui: bool,
}

/// `POST /analytics/passkey-readiness` (needs `X-API-KEY` of any configured app).
pub async fn passkey_readiness(
    State(ctx): State<Arc<Context>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<StatusCode> {
    let key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::invalid_access_token("missing X-API-KEY"))?;
    let known = api_key_known(&ctx.lock(), key);
    if !known {
        return Err(ApiError::invalid_access_token("unknown API key"));
    }
    let _: ReadinessReport = serde_json::from_slice(&body)
        .map_err(|_| ApiError::bad_request("invalid passkey readiness report"))?;
    Ok(StatusCode::CREATED)
}
