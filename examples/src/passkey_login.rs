//! Example `passkey_login`: register a passkey and sign in with it, using a software
//! authenticator ([`SoftAuthenticator`]) in place of the browser and the user's device.

use anyhow::Context as _;
use passage_auth_client::types;
use passage_auth_client::CredentialsExt;
use passage_e2e::authenticator::SoftAuthenticator;
use serde_json::Value;

use crate::{Steps, Target};

/// What the example did.
#[derive(Debug)]
pub struct PasskeyLogin {
    /// The identifier registered.
    pub identifier: String,
    /// The user id returned by registration.
    pub user_id: String,
    /// The user id the login with the passkey signed in as (`GET /currentuser`).
    pub login_user_id: String,
    /// The user id of the usernameless (discoverable) login.
    pub discoverable_user_id: String,
    /// Passkeys the user has after the run (`GET /currentuser/devices`).
    pub devices: usize,
}

/// Runs the example against `target`.
pub async fn run(target: &Target) -> anyhow::Result<PasskeyLogin> {
    let steps = Steps::new("Passage: register a passkey and sign in with it");
    let client = target.client()?;
    let app_id = target.app_id();
    let identifier = target.identifier("lin@example.com").await?;

    steps.step("Read the app's settings (GET /apps/{app_id})");
    let app = client
        .get_app()
        .app_id(app_id)
        .send()
        .await?
        .into_inner()
        .app;
    steps.detail(format!(
        "app {:?}, auth origin {} (the passkey's relying party)",
        app.name, app.auth_origin
    ));
    let mut authenticator = SoftAuthenticator::new(&app.auth_origin);

    steps.step(format!(
        "Start registering {identifier} (POST /register/webauthn/start)"
    ));
    let start = client
        .register_webauthn_start()
        .app_id(app_id)
        .body(types::RegisterWebAuthnStartRequest::builder().identifier(identifier.as_str()))
        .send()
        .await?
        .into_inner();
    let user_id = start
        .user
        .context("registration start returned no user")?
        .id;
    steps.detail(format!(
        "handshake {} for new user {user_id}",
        start.handshake.id
    ));

    steps.step("The authenticator creates a passkey (navigator.credentials.create())");
    let credential = authenticator
        .register(&serde_json::to_value(&start.handshake.challenge)?)
        .await?;
    steps.detail(format!(
        "credential id {}",
        credential["id"].as_str().unwrap_or("?")
    ));

    steps.step("Finish registering (POST /register/webauthn/finish)");
    let registered = client
        .register_webauthn_finish()
        .app_id(app_id)
        .body(
            types::RegisterWebAuthnFinishRequest::builder()
                .handshake_id(start.handshake.id)
                .handshake_response(typed::<types::CredentialCreationResponse>(credential)?)
                .user_id(user_id.clone()),
        )
        .send()
        .await?;
    steps.detail(format!(
        "{}: passkey stored, user signed in (auth token {:?})",
        registered.status().as_u16(),
        registered.auth_result.auth_token
    ));

    steps.step(format!(
        "Sign in with the passkey as {identifier} (POST /login/webauthn/start, then finish)"
    ));
    let start = client
        .login_webauthn_start()
        .app_id(app_id)
        .body(types::LoginWebAuthnStartRequest::builder().identifier(identifier.clone()))
        .send()
        .await?
        .into_inner();
    let assertion = authenticator
        .login(&serde_json::to_value(&start.handshake.challenge)?)
        .await?;
    steps.detail("the authenticator signed the challenge (navigator.credentials.get())");
    let login = client
        .login_webauthn_finish()
        .app_id(app_id)
        .body(
            types::LoginWebAuthnFinishRequest::builder()
                .handshake_id(start.handshake.id)
                .handshake_response(typed::<types::CredentialAssertionResponse>(assertion)?)
                .user_id(user_id.clone()),
        )
        .send()
        .await?
        .into_inner()
        .auth_result;
    let user_client = client.with_auth_token(login.auth_token.clone());
    let me = user_client
        .get_currentuser()
        .app_id(app_id)
        .send()
        .await?
        .into_inner()
        .user;
    steps.detail(format!(
        "signed in as {} (passkeys in use: {}, login count {})",
        me.id, me.webauthn, me.login_count
    ));

    steps.step("Sign in without typing an identifier (discoverable passkey)");
    let start = client
        .login_webauthn_start()
        .app_id(app_id)
        .body(types::LoginWebAuthnStartRequest::builder())
        .send()
        .await?
        .into_inner();
    let assertion = authenticator
        .login(&serde_json::to_value(&start.handshake.challenge)?)
        .await?;
    let discoverable = client
        .login_webauthn_finish()
        .app_id(app_id)
        .body(
            types::LoginWebAuthnFinishRequest::builder()
                .handshake_id(start.handshake.id)
                .handshake_response(typed::<types::CredentialAssertionResponse>(assertion)?),
        )
        .send()
        .await?
        .into_inner()
        .auth_result;
    let discoverable_me = client
        .with_auth_token(discoverable.auth_token.clone())
        .get_currentuser()
        .app_id(app_id)
        .send()
        .await?
        .into_inner()
        .user;
    steps.detail(format!(
        "the authenticator picked the passkey; signed in as {}",
        discoverable_me.id
    ));

    steps.step("List the user's passkeys (GET /currentuser/devices)");
    let devices = user_client
        .get_currentuser_devices()
        .app_id(app_id)
        .send()
        .await?
        .into_inner()
        .devices;
    for device in &devices {
        steps.detail(format!(
            "{} {:?}, used {} time(s)",
            device.id, device.friendly_name, device.usage_count
        ));
    }

    steps.done(format!(
        "{identifier} registered a passkey and signed in with it as {}",
        me.id
    ));
    Ok(PasskeyLogin {
        identifier,
        user_id,
        login_user_id: me.id,
        discoverable_user_id: discoverable_me.id,
        devices: devices.len(),
    })
}

/// The authenticator's credential JSON as the generated request type.
fn typed<T: serde::de::DeserializeOwned>(value: Value) -> anyhow::Result<T> {
    serde_json::from_value(value).context("the credential JSON does not fit the request type")
}
