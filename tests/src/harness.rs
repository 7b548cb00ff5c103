//! Shared test setup: start an emulator on 127.0.0.1 and the generated clients pointing at it (the
//! Auth API's, and the Management API's with the app's API key), plus small helpers for the admin
//! API (outbox, clock, faults, request log).
//!
//! The emulator is a [`CheckedEmulator`]: it records every API answer on the server side, whoever
//! sent the request, and checks each against its spec when the test calls
//! [`TestEnv::assert_conformant`] and, in any case, when the environment is dropped.

use passage_auth_client::CredentialsExt;
use passage_auth_client::{types, Client, ClientBuilder, RetryPolicy, SecretValue};
use passage_conformance::CheckedEmulator;
use passage_emulator::{
    AppConfig, EmulatorConfig, MetadataFieldConfig, OutboxMessage, DEFAULT_API_KEY,
};
use serde_json::Value;

/// A running emulator and a client for it.
pub struct TestEnv {
    /// The emulator (checked against the specs and stopped when dropped; dereferences to the
    /// `EmulatorHandle`).
    pub emulator: CheckedEmulator,
    /// A client for the emulator's `/v1` API, without retries (each call is one request).
    pub client: Client,
    /// A Management API client with the app's configured API key ([`DEFAULT_API_KEY`] unless the
    /// app names others), without retries.
    pub management: passage_management_client::Client,
    /// The app the tests use.
    pub app_id: String,
    /// A plain HTTP client (no redirects followed) for admin calls and raw requests.
    pub http: reqwest::Client,
}

impl TestEnv {
    /// An emulator with the ready-made default app.
    pub async fn start() -> Self {
        Self::with_config(EmulatorConfig::default()).await
    }

    /// An emulator with `config`; the tests use its first app.
    pub async fn with_config(config: EmulatorConfig) -> Self {
        let config_apps = config.effective_apps();
        let emulator = CheckedEmulator::start(config)
            .await
            .expect("emulator starts");
        let client = ClientBuilder::new()
            .base_url(emulator.base_url())
            .retry_policy(RetryPolicy::none())
            .build()
            .expect("client builds");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client builds");
        let app_id = emulator.default_app_id().to_owned();
        let api_key = config_api_key(&config_apps, &app_id);
        let management = passage_management_client::ClientBuilder::new()
            .base_url(emulator.management_base_url())
            .api_key(api_key)
            .retry_policy(passage_management_client::RetryPolicy::none())
            .build()
            .expect("management client builds");
        Self {
            emulator,
            client,
            management,
            app_id,
            http,
        }
    }

    /// Panics, listing every mismatch, unless every answer the emulator gave so far (to any client:
    /// the generated ones, raw HTTP, browsers) conforms to its spec: the Management API's for
    /// `/management/v1`, the Auth API's for `/v1`; the operation declares the status and the body
    /// matches its schema. The same check runs again when the environment is dropped.
    #[track_caller]
    pub fn assert_conformant(&self) {
        self.emulator.assert_conformant();
        assert!(
            self.emulator.tally().checked > 0,
            "no answer of the emulator was checked"
        );
    }

    /// A client with the default retry policy.
    pub fn retrying_client(&self) -> Client {
        ClientBuilder::new()
            .base_url(self.emulator.base_url())
            .build()
            .expect("client builds")
    }

    /// `GET {admin_url}{path}` and its JSON body.
    pub async fn admin_get(&self, path: &str) -> Value {
        let resp = self
            .http
            .get(format!("{}{path}", self.emulator.admin_url()))
            .send()
            .await
            .expect("admin call");
        assert!(
            resp.status().is_success(),
            "admin GET {path}: {}",
            resp.status()
        );
        resp.json().await.expect("admin JSON")
    }

    /// `POST {admin_url}{path}` with a JSON body; returns the status and the body (`null` when empty).
    pub async fn admin_post(&self, path: &str, body: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.emulator.admin_url()))
            .json(&body)
            .send()
            .await
            .expect("admin call");
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.expect("admin body");
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("admin JSON")
        };
        (status, value)
    }

    /// The newest outbox message for `identifier` (panics when there is none).
    pub fn last_message(&self, identifier: &str) -> OutboxMessage {
        self.emulator
            .outbox(identifier)
            .pop()
            .unwrap_or_else(|| panic!("no message was sent to {identifier}"))
    }

    /// The newest one-time passcode sent to `identifier`: (otp_id, otp).
    pub fn last_otp(&self, identifier: &str) -> (String, String) {
        let m = self.last_message(identifier);
        assert_eq!(m.kind, passage_emulator::base::enums::OutboxKind::Otp);
        (m.otp_id.expect("otp_id"), m.otp.expect("otp"))
    }

    /// Number of logged API requests with this method whose path starts with `path_prefix`.
    pub fn request_count(&self, method: &str, path_prefix: &str) -> usize {
        self.emulator
            .requests()
            .iter()
            .filter(|r| r.method == method && r.path.starts_with(path_prefix))
            .count()
    }

    /// `/v1/apps/{app_id}{suffix}`, for fault rules and request-log filters.
    pub fn api_path(&self, suffix: &str) -> String {
        format!("/v1/apps/{}{suffix}", self.app_id)
    }

    /// Redeems the newest passcode sent to `identifier`.
    pub async fn activate_last_otp(&self, identifier: &str) -> types::AuthResult {
        let (otp_id, otp) = self.last_otp(identifier);
        self.client
            .activate_one_time_passcode()
            .app_id(&self.app_id)
            .body(
                types::ActivateOneTimePasscodeRequest::builder()
                    .otp_id(otp_id)
                    .otp(SecretValue::new(otp)),
            )
            .send()
            .await
            .expect("otp activation succeeds")
            .into_inner()
            .auth_result
    }

    /// Registers `identifier` by passcode and logs in; returns the session.
    pub async fn register_by_otp(&self, identifier: &str) -> types::AuthResult {
        self.register_by_otp_with(&self.client, identifier).await
    }

    /// Logs an existing user in by passcode; returns the session.
    pub async fn login_by_otp(&self, identifier: &str) -> types::AuthResult {
        self.login_by_otp_with(&self.client, identifier).await
    }

    /// [`Self::register_by_otp`] through `client` (e.g. a retrying client). Panics unless the passcode in the outbox is the one this registration sent.
    pub async fn register_by_otp_with(
        &self,
        client: &Client,
        identifier: &str,
    ) -> types::AuthResult {
        let otp_id = client
            .register_one_time_passcode()
            .app_id(&self.app_id)
            .body(types::RegisterOneTimePasscodeRequest::builder().identifier(identifier))
            .send()
            .await
            .expect("otp registration succeeds")
            .into_inner()
            .otp_id;
        self.activate_otp_with(client, identifier, otp_id).await
    }

    /// [`Self::login_by_otp`] through `client`. Panics unless the passcode in the outbox is the
    /// one this login sent.
    pub async fn login_by_otp_with(&self, client: &Client, identifier: &str) -> types::AuthResult {
        let otp_id = client
            .login_one_time_passcode()
            .app_id(&self.app_id)
            .body(types::LoginOneTimePasscodeRequest::builder().identifier(identifier))
            .send()
            .await
            .expect("otp login succeeds")
            .into_inner()
            .otp_id;
        self.activate_otp_with(client, identifier, otp_id).await
    }

    /// Redeems, through `client`, the passcode `otp_id` that was just sent to `identifier`
    /// (it must be the newest outbox message).
    async fn activate_otp_with(
        &self,
        client: &Client,
        identifier: &str,
        otp_id: String,
    ) -> types::AuthResult {
        let (sent_otp_id, otp) = self.last_otp(identifier);
        assert_eq!(
            sent_otp_id, otp_id,
            "the newest passcode is the one just sent"
        );
        client
            .activate_one_time_passcode()
            .app_id(&self.app_id)
            .body(
                types::ActivateOneTimePasscodeRequest::builder()
                    .otp_id(otp_id)
                    .otp(SecretValue::new(otp)),
            )
            .send()
            .await
            .expect("otp activation succeeds")
            .into_inner()
            .auth_result
    }

    /// Signs a new user up with a passkey of `authenticator` through the Auth API
    /// (`register/webauthn/start` and `finish`); returns the user's id.
    pub async fn register_passkey(
        &self,
        authenticator: &mut crate::authenticator::SoftAuthenticator,
        identifier: &str,
    ) -> String {
        let start = self
            .client
            .register_webauthn_start()
            .app_id(&self.app_id)
            .body(types::RegisterWebAuthnStartRequest::builder().identifier(identifier))
            .send()
            .await
            .expect("register start")
            .into_inner();
        let user_id = start.user.expect("the new user").id;
        let options = serde_json::to_value(&start.handshake.challenge).expect("options as JSON");
        let credential = authenticator.register(&options).await.expect("registers");
        self.client
            .register_webauthn_finish()
            .app_id(&self.app_id)
            .body(
                types::RegisterWebAuthnFinishRequest::builder()
                    .handshake_id(start.handshake.id)
                    .handshake_response(
                        serde_json::from_value::<types::CredentialCreationResponse>(credential)
                            .expect("the credential fits the generated type"),
                    )
                    .user_id(user_id.clone()),
            )
            .send()
            .await
            .expect("register finish");
        user_id
    }

    /// A client acting as the holder of `auth`.
    pub fn user_client(&self, auth: &types::AuthResult) -> Client {
        self.client.with_auth_token(auth.auth_token.clone())
    }
}

/// The first configured API key of `app_id` among `apps`.
fn config_api_key(apps: &[AppConfig], app_id: &str) -> String {
    apps.iter()
        .find(|a| a.id == app_id)
        .and_then(|a| a.api_keys.first().cloned())
        .unwrap_or_else(|| DEFAULT_API_KEY.to_owned())
}

/// An emulator whose only app has one integer profile metadata field, `counter` (for
/// read-modify-write and idempotent-write checks).
pub fn counter_app_config() -> EmulatorConfig {
    EmulatorConfig {
        apps: vec![AppConfig {
            user_metadata_schema: vec![MetadataFieldConfig {
                field_name: "counter".into(),
                field_type: "integer".into(),
                friendly_name: None,
                profile: true,
                registration: false,
            }],
            ..AppConfig::default()
        }],
        ..EmulatorConfig::default()
    }
}

/// Panics unless two secrets (tokens, passcodes) are equal. Unlike `assert_eq!`, the failure
/// message names `what` and never prints the values.
#[track_caller]
pub fn assert_same_secret(left: &str, right: &str, what: &str) {
    assert!(
        left == right,
        "{what}: the two secrets differ (values not shown)"
    );
}

/// Panics if two secrets are equal. Unlike `assert_ne!`, the failure message names `what` and
/// never prints the values.
#[track_caller]
pub fn assert_different_secrets(left: &str, right: &str, what: &str) {
    assert!(
        left != right,
        "{what}: the two secrets are equal (value not shown)"
    );
}

/// Decodes the claims of a JWT without checking it (tests check the signature separately).
pub fn jwt_parts(token: &str) -> (Value, Value) {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let mut parts = token.split('.');
    let mut decode = |what: &str| -> Value {
        let part = parts.next().unwrap_or_else(|| panic!("JWT has no {what}"));
        let bytes = URL_SAFE_NO_PAD.decode(part).expect("base64url JWT part");
        serde_json::from_slice(&bytes).expect("JSON JWT part")
    };
    let header = decode("header");
    let claims = decode("claims");
    (header, claims)
}

/// A PKCE verifier and its S256 challenge.
pub fn pkce_pair() -> (String, String) {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let seed = format!("verifier-{nanos}-{:p}", &nanos);
    let verifier = URL_SAFE_NO_PAD.encode(Sha256::digest(seed.as_bytes()));
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}
