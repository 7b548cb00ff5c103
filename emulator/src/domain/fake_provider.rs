//! The fake identity provider that stands in for Apple, GitHub and Google: its consent step (which
//! issues a provider code for a social login flow) and its HS256 ID tokens (minted through the
//! admin API for native sign-in).

use serde::{Deserialize, Serialize};

use crate::base::api_error::{ApiError, ApiResult};
use crate::base::digest::digest_hex;
use crate::base::identifiers::normalize_identifier;
use crate::base::random::{random_id, random_secret};
use crate::jwt::{sign_hs256, verify_hs256};
use crate::model::state::EmulatorState;
use crate::settings::urls::Urls;

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
pub fn fake_issuer(urls: &Urls) -> String {
    format!("{}/_emulator/fake-provider", urls.root())
}

/// The fake provider's account id for `email` (stable, so a returning user is recognised).
pub fn provider_id(connection_type: &str, email: &str) -> String {
    let digest = digest_hex(&format!("{connection_type}:{email}"));
    format!("fake-{connection_type}-{}", &digest[..16])
}

/// The provider "consents" at once for the flow `flow_id` (or reports `consent_required` when
/// `deny`): returns the flow's app and the provider code (none when denied), for the redirect to
/// the app's `oauth2_callback`. `email` defaults to the flow's login hint, else a random address.
pub fn consent(
    state: &mut EmulatorState,
    flow_id: &str,
    email: Option<&str>,
    deny: bool,
) -> ApiResult<(String, Option<String>)> {
    let flow = state
        .social_flows
        .get_mut(flow_id)
        .ok_or_else(|| ApiError::bad_request("unknown social login flow"))?;
    if deny {
        return Ok((flow.app_id.clone(), None));
    }
    let email = email
        .map(str::to_owned)
        .or_else(|| flow.login_hint.clone())
        .unwrap_or_else(|| {
            format!(
                "{}@{}.example",
                random_id("user-").to_lowercase(),
                flow.connection_type.as_str()
            )
        });
    let code = random_secret(16);
    flow.provider_code = Some(digest_hex(&code));
    flow.provider_email = Some(normalize_identifier(&email));
    Ok((flow.app_id.clone(), Some(code)))
}

/// Mints a fake-provider ID token for app `app_id` at emulator time `now` (HS256 with the
/// emulator's provider secret).
pub fn mint_id_token(
    urls: &Urls,
    state: &EmulatorState,
    app_id: &str,
    email: &str,
    sub: Option<String>,
    ttl: i64,
    now: i64,
) -> ApiResult<String> {
    let email = normalize_identifier(email);
    let claims = FakeIdClaims {
        iss: fake_issuer(urls),
        sub: sub.unwrap_or_else(|| provider_id("idtoken", &email)),
        aud: app_id.to_owned(),
        email,
        iat: now,
        exp: now + ttl,
    };
    sign_hs256(state.fake_provider_secret.as_bytes(), &claims)
        .map_err(|e| ApiError::internal(format!("could not sign the ID token: {e}")))
}

/// Checks an ID token's signature, issuer and audience (not its expiry, which the caller checks
/// against the emulator clock); 400 `invalid_request` when it is not one of ours for `app_id`.
pub fn decode_id_token(
    urls: &Urls,
    state: &EmulatorState,
    app_id: &str,
    id_token: &str,
) -> ApiResult<FakeIdClaims> {
    verify_hs256::<FakeIdClaims>(id_token.trim(), state.fake_provider_secret.as_bytes())
        .filter(|claims| claims.aud == app_id && claims.iss == fake_issuer(urls))
        .ok_or_else(|| ApiError::bad_request("invalid ID token"))
}
