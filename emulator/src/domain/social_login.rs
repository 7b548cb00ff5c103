//! Social login: the OAuth2 flow with PKCE (started by `social/authorize`, through the fake identity
//! provider, back to the app with a Passage authorization code), the code's exchange for a session,
//! native ID-token exchange, and linking and unlinking provider accounts.

use crate::base::api_error::{ApiError, ApiResult};
use crate::base::digest::{digest_hex, pkce_challenge, secret_eq};
use crate::base::enums::{ConnectionType, SocialProvider, UserStatus};
use crate::base::identifiers::{is_email, IdentifierKind};
use crate::base::random::{random_id, random_secret};
use crate::base::redact::redacted_debug;
use crate::domain::accounts::{ensure_can_login, ensure_public_signup, new_user, record_login};
use crate::domain::fake_provider::{decode_id_token, provider_id};
use crate::domain::sessions::{issue_session, AuthResponse};
use crate::model::app::AppRecord;
use crate::model::records::{OAuthCode, SocialFlow, SocialLink};
use crate::model::state::EmulatorState;
use crate::settings::urls::Urls;

/// Seconds a Passage authorization code stays valid.
const CODE_TTL_SECONDS: i64 = 600;

/// What `social/authorize` asks for.
pub struct FlowRequest {
    /// Where to send the browser at the end.
    pub redirect_uri: String,
    /// The client's `state`.
    pub client_state: Option<String>,
    /// PKCE challenge.
    pub code_challenge: String,
    /// PKCE method (only `S256`).
    pub code_challenge_method: String,
    /// `passage`, `apple`, `github` or `google`.
    pub connection_type: String,
    /// Login hint (e-mail).
    pub login_hint: Option<String>,
}
redacted_debug!(FlowRequest {
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

/// Starts a social login (`social/authorize`); returns the flow id, which the fake provider's
/// consent page takes.
pub fn start_flow(
    state: &mut EmulatorState,
    app_id: &str,
    request: &FlowRequest,
    now: i64,
) -> ApiResult<String> {
    let app = state.app(app_id)?;
    if request.code_challenge_method != "S256" {
        return Err(ApiError::bad_request("code_challenge_method must be S256"));
    }
    let challenge_ok = (43..=128).contains(&request.code_challenge.len())
        && request
            .code_challenge
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !challenge_ok {
        return Err(ApiError::bad_request(
            "code_challenge must be 43 to 128 base64url characters",
        ));
    }
    let connection_type = ConnectionType::parse(&request.connection_type)
        .ok_or_else(|| ApiError::bad_request("unknown connection_type"))?;
    if let Some(provider) = connection_type.provider() {
        if !app.config.social_connections.contains(&provider) {
            return Err(ApiError::bad_request(
                "this social connection is not configured for the app",
            ));
        }
    }
    if !redirect_allowed(app, &request.redirect_uri) {
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
            app_id: app_id.to_owned(),
            redirect_uri: request.redirect_uri.clone(),
            client_state: request.client_state.clone(),
            code_challenge: request.code_challenge.clone(),
            connection_type,
            login_hint: request.login_hint.clone(),
            created_at: now,
            provider_code: None,
            provider_email: None,
        },
    );
    Ok(flow_id)
}

/// The provider's answer at the `oauth2_callback`, for the flow `flow_id` (of app `app_id` when the
/// callback names one): on success a Passage authorization code is issued. Returns where to send the
/// browser: the app's redirect URI with `code` (or `error`) and the client's `state`.
pub fn finish_provider_leg(
    state: &mut EmulatorState,
    app_id: Option<&str>,
    flow_id: &str,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<&str>,
    now: i64,
) -> ApiResult<String> {
    let flow = state
        .social_flows
        .get(flow_id)
        .cloned()
        .ok_or_else(|| ApiError::bad_request("unknown or finished social login flow"))?;
    if app_id.is_some_and(|id| id != flow.app_id) {
        return Err(ApiError::bad_request("state belongs to another app"));
    }
    let mut target = url::Url::parse(&flow.redirect_uri)
        .map_err(|_| ApiError::bad_request("stored redirect_uri is invalid"))?;
    if let Some(error) = error {
        state.social_flows.remove(flow_id);
        {
            let mut pairs = target.query_pairs_mut();
            pairs.append_pair("error", &error);
            if let Some(desc) = error_description {
                pairs.append_pair("error_description", desc);
            }
            if let Some(s) = &flow.client_state {
                pairs.append_pair("state", s);
            }
        }
        return Ok(target.to_string());
    }
    let code = code.unwrap_or_default();
    let expected = flow.provider_code.clone().unwrap_or_default();
    if expected.is_empty() || !secret_eq(&expected, &digest_hex(&code)) {
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
    state.social_flows.remove(flow_id);
    {
        let mut pairs = target.query_pairs_mut();
        pairs.append_pair("code", &passage_code);
        if let Some(s) = &flow.client_state {
            pairs.append_pair("state", s);
        }
    }
    Ok(target.to_string())
}

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
            ensure_public_signup(&app.config)?;
            if !is_email(email) {
                return Err(ApiError::bad_request(
                    "the provider reported no usable e-mail address",
                ));
            }
            let mut user = new_user(IdentifierKind::Email, email, UserStatus::Active, now);
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

/// Exchanges a Passage authorization code (with its PKCE verifier) for a session.
pub fn exchange_code(
    urls: &Urls,
    app: &mut AppRecord,
    code: &str,
    verifier: &str,
    now: i64,
) -> ApiResult<AuthResponse> {
    let code = redeem_code(app, code, verifier, now)?;
    let user_id = login_with_provider(
        app,
        code.connection_type,
        &code.provider_id,
        &code.provider_email,
        now,
    )?;
    issue_session(urls, app, &user_id, now)
}

/// Links the provider account of a Passage authorization code to the signed-in user.
pub fn link_account(
    app: &mut AppRecord,
    user_id: &str,
    code: &str,
    verifier: &str,
    now: i64,
) -> ApiResult<()> {
    // Validate before consuming the code.
    let record = app
        .oauth_codes
        .get(&digest_hex(code))
        .cloned()
        .ok_or_else(|| ApiError::bad_request("invalid, used or expired authorization code"))?;
    let Some(provider) = record.connection_type.provider() else {
        return Err(ApiError::bad_request("passage logins cannot be linked"));
    };
    let taken = app.users.values().any(|u| {
        u.id != user_id
            && u.social
                .get(&provider)
                .is_some_and(|l| l.provider_id == record.provider_id)
    });
    if taken {
        return Err(ApiError::forbidden(
            "operation_not_allowed",
            "this provider account is linked to another user",
        ));
    }
    let code = redeem_code(app, code, verifier, now)?;
    let user = app
        .users
        .get_mut(user_id)
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
}

/// Removes the signed-in user's link to `provider` (404 `social_connection_not_found` when none).
pub fn unlink(app: &mut AppRecord, user_id: &str, provider: SocialProvider) -> ApiResult<()> {
    let user = app
        .users
        .get_mut(user_id)
        .ok_or_else(ApiError::user_not_found)?;
    user.social.remove(&provider).ok_or_else(|| {
        ApiError::not_found("social_connection_not_found", "no such social connection")
    })?;
    Ok(())
}

/// Exchanges an ID token minted by the fake provider (native Apple or Google sign-in) for a session.
pub fn exchange_id_token(
    urls: &Urls,
    state: &mut EmulatorState,
    app_id: &str,
    provider: SocialProvider,
    id_token: &str,
    now: i64,
) -> ApiResult<AuthResponse> {
    state.app(app_id)?;
    let claims = decode_id_token(urls, state, app_id, id_token)?;
    if claims.exp <= now {
        return Err(ApiError::bad_request("ID token expired"));
    }
    let app = state.app_mut(app_id)?;
    let user_id = login_with_provider(app, provider.into(), &claims.sub, &claims.email, now)?;
    issue_session(urls, app, &user_id, now)
}
