//! One-time-passcode sign-in shared by the examples: log in, or register when the identifier has
//! no account yet, then exchange the passcode for tokens.

use passage_auth_client::open_enums::ApiErrorCode;
use passage_auth_client::{types, Client};

use crate::{Steps, Target};

/// The result of [`sign_in`].
#[derive(Debug)]
pub struct OtpSignIn {
    /// The tokens.
    pub auth: types::AuthResult,
    /// True when the identifier had no account and was registered.
    pub registered: bool,
}

/// Sends a passcode to `identifier` (registering it when it has no account), reads the passcode
/// through the target and activates it.
pub async fn sign_in(
    target: &Target,
    client: &Client,
    identifier: &str,
    steps: &Steps,
) -> anyhow::Result<OtpSignIn> {
    let app_id = target.app_id();
    steps.step(format!(
        "Send a one-time passcode to {identifier} (POST /login/otp)"
    ));
    let login = client
        .login_one_time_passcode()
        .app_id(app_id)
        .body(types::LoginOneTimePasscodeRequest::builder().identifier(identifier))
        .send()
        .await;
    let (otp_id, registered) = match login {
        Ok(response) => (response.into_inner().otp_id, false),
        Err(e) if e.code() == Some(&ApiErrorCode::UserNotFound) => {
            steps.detail(format!(
                "no account yet ({} {}), so register instead (POST /register/otp)",
                e.status().map_or(0, |s| s.as_u16()),
                ApiErrorCode::UserNotFound.as_str()
            ));
            let otp = client
                .register_one_time_passcode()
                .app_id(app_id)
                .body(types::RegisterOneTimePasscodeRequest::builder().identifier(identifier))
                .send()
                .await?
                .into_inner();
            (otp.otp_id, true)
        }
        Err(e) => return Err(e.into()),
    };
    steps.detail(format!("passcode sent, otp_id = {otp_id}"));

    if target.is_emulated() {
        steps.step("Read the passcode (the emulator keeps sent messages in its outbox)");
    } else {
        steps.step(format!("Type the passcode that was sent to {identifier}"));
    }
    let otp = target.passcode(identifier, &otp_id).await?;
    steps.detail(format!(
        "got a {}-digit passcode",
        otp.expose_secret().len()
    ));

    steps.step("Exchange the passcode for tokens (POST /otp/activate)");
    let auth = client
        .activate_one_time_passcode()
        .app_id(app_id)
        .body(
            types::ActivateOneTimePasscodeRequest::builder()
                .otp_id(otp_id)
                .otp(otp),
        )
        .send()
        .await?
        .into_inner()
        .auth_result;
    steps.detail(format!(
        "auth token: received, a signed JWT (its Debug prints {:?}, so it stays out of logs)",
        auth.auth_token
    ));
    steps.detail(format!(
        "refresh token: {}",
        if auth.refresh_token.is_some() {
            "issued"
        } else {
            "not issued (refresh tokens are off for this app)"
        }
    ));
    Ok(OtpSignIn { auth, registered })
}
