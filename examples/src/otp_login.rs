//! Example `otp_login`: sign in with a one-time passcode, verify the auth token, read the
//! signed-in user, sign out.

use passage_auth_client::CredentialsExt;
use passage_auth_client::{TokenVerifier, VerifierConfig};

use crate::{otp, Steps, Target};

/// What the example did.
#[derive(Debug)]
pub struct OtpLogin {
    /// The identifier that signed in.
    pub identifier: String,
    /// True when the identifier had no account and was registered first.
    pub registered: bool,
    /// The user id, as the verified token's `sub`.
    pub token_subject: String,
    /// The user id, as `GET /currentuser` reported it.
    pub user_id: String,
    /// The user's e-mail address, as `GET /currentuser` reported it.
    pub email: String,
    /// True when the refresh token was revoked at the end.
    pub signed_out: bool,
}

/// Runs the example against `target`.
pub async fn run(target: &Target) -> anyhow::Result<OtpLogin> {
    let steps = Steps::new("Passage: sign in with a one-time passcode");
    let client = target.client()?;
    let app_id = target.app_id();
    let identifier = target.identifier("ada@example.com").await?;

    let signed_in = otp::sign_in(target, &client, &identifier, &steps).await?;
    let auth = signed_in.auth;

    steps.step("Verify the auth token locally (RS256 against the app's JWKS, cached)");
    let verifier = TokenVerifier::new(client.clone(), app_id, VerifierConfig::default());
    let claims = verifier.verify(auth.auth_token.expose_secret()).await?;
    steps.detail(format!("sub (user id) = {}", claims.user_id()));
    steps.detail(format!("iss           = {}", claims.iss));
    steps.detail(format!("aud           = {}", claims.aud.join(", ")));
    steps.detail(format!(
        "valid for     = {} s",
        claims.exp - claims.iat.unwrap_or(claims.exp)
    ));

    steps.step("Call the API as the user (GET /currentuser with the bearer token)");
    let me = client
        .with_auth_token(auth.auth_token.clone())
        .get_currentuser()
        .app_id(app_id)
        .send()
        .await?
        .into_inner()
        .user;
    steps.detail(format!("id          = {}", me.id));
    steps.detail(format!(
        "email       = {} (verified: {})",
        me.email, me.email_verified
    ));
    steps.detail(format!("status      = {}", me.status.as_str()));
    steps.detail(format!("login count = {}", me.login_count));

    let signed_out = match &auth.refresh_token {
        Some(refresh_token) => {
            steps.step("Sign out: revoke the refresh token (DELETE /tokens)");
            client
                .revoke_refresh_token()
                .app_id(app_id)
                .refresh_token(refresh_token.clone())
                .send()
                .await?;
            steps.detail("revoked; the auth token stays valid until it expires");
            true
        }
        None => false,
    };

    steps.done(format!("{identifier} signed in as {}", me.id));
    Ok(OtpLogin {
        identifier,
        registered: signed_in.registered,
        token_subject: claims.sub,
        user_id: me.id,
        email: me.email,
        signed_out,
    })
}
