//! Request contract test of all 43 operations: each generated method is called
//! against a local recording server, and the test checks the method, the
//! percent-encoded path, the query, the headers (credentials only where the
//! spec declares them), the JSON or form body, and that a canned answer
//! decodes into the right values. The set of operations exercised here is
//! compared with `spec/passage-auth.yaml` and with
//! [`passage_auth_client::operations::OPERATIONS`], so an operation added to
//! the spec without a contract case fails this test.

mod recorder;

use passage_auth_client::open_enums::{
    ApiErrorCode, AppleCallbackError, AuthErrorCode, AuthenticatorAttachment, CodeChallengeMethod,
    IdTokenConnectionType, OAuth2ConnectionType, SocialConnectionType, UserStatus, WebAuthnType,
};
use passage_auth_client::operations::{Auth, OPERATIONS};
use passage_auth_client::CredentialsExt;
use passage_auth_client::{
    types, Client, ClientBuilder, Error, RedirectExt, RetryPolicy, SecretValue,
};
use recorder::{Canned, Recorded, Recorder};
use serde_json::{json, Value};

/// An app id that needs percent-encoding in a path segment.
const APP_ID: &str = "app id/ü";
/// `APP_ID` as it must appear in the path.
const APP: &str = "/v1/apps/app%20id%2F%C3%BC";
const TOKEN: &str = "user-auth-token.jwt-part";
const API_KEY: &str = "app-api-key-0001";

/// What one contract case exercised.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Exercised {
    id: &'static str,
    method: &'static str,
    template: &'static str,
    auth: &'static str,
}

fn auth_name(auth: Auth) -> &'static str {
    match auth {
        Auth::None => "none",
        Auth::Bearer => "bearer",
        Auth::ApiKey { .. } => "api_key",
    }
}

/// The expected request body.
enum Body {
    None,
    Json(Value),
    Form(Vec<(&'static str, &'static str)>),
}

/// The request a case expects.
struct Expect {
    id: &'static str,
    method: &'static str,
    template: &'static str,
    auth: Auth,
    /// The full path the server must see (with the `/v1` stem).
    path: String,
    query: Vec<(&'static str, &'static str)>,
    body: Body,
    /// Extra request headers that must be present.
    headers: Vec<(&'static str, &'static str)>,
    /// The `Accept` header: JSON, or anything for the redirecting operations.
    accept: &'static str,
}

impl Expect {
    fn new(id: &'static str, method: &'static str, template: &'static str, auth: Auth) -> Self {
        let path = format!("/v1{}", template.replace("{app_id}", "app%20id%2F%C3%BC"));
        Self {
            id,
            method,
            template,
            auth,
            path,
            query: Vec::new(),
            body: Body::None,
            headers: Vec::new(),
            accept: "application/json",
        }
    }

    fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    fn query(mut self, query: &[(&'static str, &'static str)]) -> Self {
        self.query = query.to_vec();
        self
    }

    fn json(mut self, body: Value) -> Self {
        self.body = Body::Json(body);
        self
    }

    fn form(mut self, pairs: &[(&'static str, &'static str)]) -> Self {
        self.body = Body::Form(pairs.to_vec());
        self
    }

    /// A redirecting operation: it accepts any content.
    fn redirecting(mut self) -> Self {
        self.accept = "*/*";
        self
    }

    fn header(mut self, name: &'static str, value: &'static str) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Checks the one request the recorder saw against this expectation.
    fn check(self, rec: &Recorder) -> Exercised {
        let req = rec.only_request();
        self.check_request(&req);
        Exercised {
            id: self.id,
            method: self.method,
            template: self.template,
            auth: auth_name(self.auth),
        }
    }

    fn check_request(&self, req: &Recorded) {
        let id = self.id;
        assert_eq!(req.method, self.method, "{id}: method");
        assert_eq!(req.path, self.path, "{id}: path");
        let mut query: Vec<(String, String)> = self
            .query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        query.sort();
        assert_eq!(req.query_pairs(), query, "{id}: query {:?}", req.query);

        // Credentials: only where the spec declares them, even though the
        // client holds both.
        let bearer = format!("Bearer {TOKEN}");
        match self.auth {
            Auth::Bearer => {
                assert_eq!(
                    req.header("authorization"),
                    Some(bearer.as_str()),
                    "{id}: bearer"
                );
                assert_eq!(req.header_count("authorization"), 1, "{id}");
                assert_eq!(req.header("x-api-key"), None, "{id}: no api key");
            }
            Auth::ApiKey { .. } => {
                assert_eq!(req.header("x-api-key"), Some(API_KEY), "{id}: api key");
                assert_eq!(req.header_count("x-api-key"), 1, "{id}");
                assert_eq!(req.header("authorization"), None, "{id}: no bearer");
            }
            Auth::None => {
                assert_eq!(req.header("authorization"), None, "{id}: no bearer");
                assert_eq!(req.header("x-api-key"), None, "{id}: no api key");
            }
        }
        assert_eq!(req.header("accept"), Some(self.accept), "{id}: accept");
        // Only what the spec declares: not progenitor's own `api-version` header.
        assert_eq!(req.header("api-version"), None, "{id}: api-version");
        assert!(
            req.header("user-agent")
                .is_some_and(|ua| ua.starts_with("passage-auth-rs/")),
            "{id}: user agent {:?}",
            req.header("user-agent")
        );
        for (name, value) in &self.headers {
            assert_eq!(req.header(name), Some(*value), "{id}: header {name}");
        }

        match &self.body {
            Body::None => {
                assert!(req.body.is_empty(), "{id}: unexpected body {:?}", req.body);
                assert_eq!(req.header("content-type"), None, "{id}: content-type");
            }
            Body::Json(expected) => {
                assert_eq!(
                    req.header("content-type"),
                    Some("application/json"),
                    "{id}: content-type"
                );
                assert_eq!(&req.json(), expected, "{id}: JSON body");
            }
            Body::Form(pairs) => {
                assert_eq!(
                    req.header("content-type"),
                    Some("application/x-www-form-urlencoded"),
                    "{id}: content-type"
                );
                let mut expected: Vec<(String, String)> = pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                expected.sort();
                assert_eq!(req.form(), expected, "{id}: form body");
            }
        }
    }
}

/// A client holding both credentials, pointed at the recorder.
fn client(rec: &Recorder) -> Client {
    ClientBuilder::new()
        .retry_policy(RetryPolicy::none())
        .base_url(rec.base_url.clone())
        .build()
        .expect("client")
        .with_auth_token(TOKEN)
        .with_api_key(API_KEY)
}

// ---------------------------------------------------------------- fixtures

fn user_json() -> Value {
    json!({
        "email": "ada@example.com",
        "email_verified": true,
        "id": "usr_1",
        "phone": "+15555550100",
        "phone_verified": false,
        "status": "active",
        "user_metadata": {"plan": "pro"},
        "webauthn": true,
        "webauthn_types": ["passkey", "security_key"]
    })
}

fn check_user(user: &types::User) {
    assert_eq!(user.id, "usr_1");
    assert_eq!(user.email, "ada@example.com");
    assert!(user.email_verified);
    assert_eq!(user.phone, "+15555550100");
    assert!(!user.phone_verified);
    assert_eq!(user.status, UserStatus::Active);
    assert_eq!(
        user.user_metadata.as_ref().and_then(|m| m.get("plan")),
        Some(&json!("pro"))
    );
    assert!(user.webauthn);
    assert_eq!(
        user.webauthn_types,
        vec![WebAuthnType::Passkey, WebAuthnType::SecurityKey]
    );
}

/// A user the way WebAuthn start answers send it: no `webauthn_types`,
/// `status: ""`, `user_metadata: null`.
fn sparse_user_json() -> Value {
    json!({
        "email": "",
        "email_verified": false,
        "id": "usr_2",
        "phone": "+15555550101",
        "phone_verified": true,
        "status": "",
        "user_metadata": null,
        "webauthn": false
    })
}

fn check_sparse_user(user: &types::User) {
    assert_eq!(user.id, "usr_2");
    assert_eq!(user.status, UserStatus::Empty);
    assert_eq!(user.user_metadata, None);
    assert!(user.webauthn_types.is_empty());
    assert!(user.phone_verified);
}

fn credential_json(light: Option<&str>, dark: Option<&str>) -> Value {
    json!({
        "created_at": "2024-01-02T03:04:05Z",
        "cred_id": "Y3JlZC0x",
        "friendly_name": "Laptop",
        "icons": {"light": light, "dark": dark},
        "id": "dev_1",
        "last_login_at": "2024-02-03T04:05:06Z",
        "type": "platform",
        "updated_at": "2024-01-02T03:04:05Z",
        "usage_count": 7,
        "user_id": "usr_1"
    })
}

fn check_credential(cred: &types::Credential) {
    assert_eq!(cred.id, "dev_1");
    assert_eq!(cred.cred_id, "Y3JlZC0x");
    assert_eq!(cred.friendly_name, "Laptop");
    assert_eq!(cred.type_, WebAuthnType::Platform);
    assert_eq!(cred.usage_count, 7);
    assert_eq!(cred.user_id, "usr_1");
}

fn current_user_json(metadata: Value, status: &str) -> Value {
    json!({
        "created_at": "2024-01-01T00:00:00Z",
        "email": "ada@example.com",
        "email_verified": true,
        "id": "usr_1",
        "last_login_at": "2024-03-01T00:00:00Z",
        "login_count": 12,
        "phone": "",
        "phone_verified": false,
        "social_connections": {
            "github": {
                "created_at": "2024-01-05T10:00:00Z",
                "last_login_at": "2024-02-05T10:00:00Z",
                "provider_id": "gh-42",
                "provider_identifier": "ada"
            }
        },
        "status": status,
        "updated_at": "2024-03-01T00:00:00Z",
        "user_metadata": metadata,
        "webauthn": true,
        "webauthn_devices": [credential_json(Some("https://icons.example/l.svg"), None)],
        "webauthn_types": ["platform"]
    })
}

fn check_current_user(user: &types::CurrentUser) {
    assert_eq!(user.id, "usr_1");
    assert_eq!(user.login_count, 12);
    assert_eq!(user.webauthn_devices.len(), 1);
    check_credential(&user.webauthn_devices[0]);
    assert_eq!(
        user.webauthn_devices[0].icons.light.as_deref(),
        Some("https://icons.example/l.svg")
    );
    assert_eq!(user.webauthn_devices[0].icons.dark, None);
    assert_eq!(user.webauthn_types, vec![WebAuthnType::Platform]);
    let github = user
        .social_connections
        .github
        .as_ref()
        .expect("github link");
    assert_eq!(github.provider_identifier, "ada");
    assert_eq!(github.provider_id, "gh-42");
    assert_eq!(github.created_at.to_rfc3339(), "2024-01-05T10:00:00+00:00");
    assert!(user.social_connections.google.is_none());
}

fn auth_json(with_refresh: bool) -> Value {
    let mut result = json!({
        "auth_token": "issued.auth.token",
        "redirect_url": "/dashboard"
    });
    if with_refresh {
        result["refresh_token"] = json!("issued-refresh-token");
        result["refresh_token_expiration"] = json!(1_700_000_000);
    }
    json!({ "auth_result": result })
}

fn check_auth(auth: &types::AuthResponse, with_refresh: bool) {
    let result = &auth.auth_result;
    assert_eq!(result.auth_token.expose_secret(), "issued.auth.token");
    assert_eq!(result.redirect_url, "/dashboard");
    if with_refresh {
        assert_eq!(
            result
                .refresh_token
                .as_ref()
                .map(SecretValue::expose_secret),
            Some("issued-refresh-token")
        );
        assert_eq!(result.refresh_token_expiration, Some(1_700_000_000));
    } else {
        assert!(result.refresh_token.is_none());
        assert!(result.refresh_token_expiration.is_none());
    }
}

fn creation_challenge_json() -> Value {
    json!({
        "challenge": {
            "publicKey": {
                "challenge": "Y2hhbGxlbmdl",
                "rp": {"id": "example.com", "name": "Example"},
                "user": {"id": "dXNyXzE", "name": "ada@example.com", "displayName": "Ada"},
                "pubKeyCredParams": [{"alg": -7, "type": "public-key"}],
                "timeout": 60000,
                "authenticatorSelection": {"residentKey": "required", "userVerification": "preferred"}
            }
        },
        "id": "hs_create"
    })
}

fn check_creation_challenge(hs: &types::CredentialCreationChallenge) {
    assert_eq!(hs.id, "hs_create");
    let pk = hs.challenge.public_key.as_ref().expect("publicKey");
    assert_eq!(pk.challenge.as_deref(), Some("Y2hhbGxlbmdl"));
    assert_eq!(
        pk.rp.as_ref().and_then(|rp| rp.id.as_deref()),
        Some("example.com")
    );
    assert_eq!(
        pk.user.as_ref().and_then(|u| u.display_name.as_deref()),
        Some("Ada")
    );
    assert_eq!(pk.pub_key_cred_params[0].alg, Some(-7));
    assert_eq!(pk.timeout, Some(60000));
    assert_eq!(
        pk.authenticator_selection
            .as_ref()
            .and_then(|s| s.resident_key.as_deref()),
        Some("required")
    );
}

fn assertion_challenge_json() -> Value {
    json!({
        "challenge": {
            "publicKey": {
                "challenge": "YXNzZXJ0",
                "allowCredentials": [{"id": "Y3JlZC0x", "type": "public-key", "transports": ["internal"]}],
                "rpId": "example.com",
                "timeout": 30000,
                "userVerification": "required"
            }
        },
        "id": "hs_assert"
    })
}

fn check_assertion_challenge(hs: &types::CredentialAssertionChallenge) {
    assert_eq!(hs.id, "hs_assert");
    let pk = &hs.challenge.public_key;
    assert_eq!(pk.challenge, "YXNzZXJ0");
    assert_eq!(pk.allow_credentials.len(), 1);
    assert_eq!(pk.allow_credentials[0].id, "Y3JlZC0x");
    assert_eq!(pk.allow_credentials[0].type_, "public-key");
    assert_eq!(pk.allow_credentials[0].transports, vec!["internal"]);
    assert_eq!(pk.rp_id.as_deref(), Some("example.com"));
    assert_eq!(pk.user_verification.as_deref(), Some("required"));
}

fn attestation() -> types::CredentialCreationResponse {
    // Generated types are `#[non_exhaustive]`: users (and this test) build them with builders.
    let response: types::AuthenticatorAttestationResponse =
        types::AuthenticatorAttestationResponse::builder()
            .attestation_object(Some("o2NmbXRkbm9uZQ".to_string()))
            .client_data_json(Some("eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIn0".to_string()))
            .transports(vec!["internal".to_string(), "hybrid".to_string()])
            .try_into()
            .unwrap();
    types::CredentialCreationResponse::builder()
        .id(Some("Y3JlZC0y".to_string()))
        .raw_id(Some("Y3JlZC0y".to_string()))
        .type_(Some("public-key".to_string()))
        .authenticator_attachment(Some("platform".to_string()))
        .response(Some(response))
        .try_into()
        .unwrap()
}

fn attestation_json() -> Value {
    json!({
        "id": "Y3JlZC0y",
        "rawId": "Y3JlZC0y",
        "type": "public-key",
        "authenticatorAttachment": "platform",
        "response": {
            "attestationObject": "o2NmbXRkbm9uZQ",
            "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIn0",
            "transports": ["internal", "hybrid"]
        }
    })
}

fn assertion() -> types::CredentialAssertionResponse {
    let response: types::AuthenticatorAssertionResponse =
        types::AuthenticatorAssertionResponse::builder()
            .authenticator_data(Some("YXV0aERhdGE".to_string()))
            .client_data_json(Some("eyJ0eXBlIjoid2ViYXV0aG4uZ2V0In0".to_string()))
            .signature(Some("c2ln".to_string()))
            .user_handle(Some("dXNyXzE".to_string()))
            .try_into()
            .unwrap();
    types::CredentialAssertionResponse::builder()
        .id(Some("Y3JlZC0x".to_string()))
        .raw_id(Some("Y3JlZC0x".to_string()))
        .type_(Some("public-key".to_string()))
        .response(Some(response))
        .try_into()
        .unwrap()
}

fn assertion_json() -> Value {
    json!({
        "id": "Y3JlZC0x",
        "rawId": "Y3JlZC0x",
        "type": "public-key",
        "response": {
            "authenticatorData": "YXV0aERhdGE",
            "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0In0",
            "signature": "c2ln",
            "userHandle": "dXNyXzE"
        }
    })
}

fn app_json() -> Value {
    json!({
        "app": {
            "allowed_identifier": "both",
            "auth_fallback_method": "otp",
            "auth_fallback_method_ttl": 300,
            "auth_methods": {
                "magic_link": {"ttl": 600, "ttl_display_unit": "m"},
                "otp": {"ttl": 120, "ttl_display_unit": "s"},
                "passkeys": {}
            },
            "auth_origin": "https://app.example",
            "default_language": "en",
            "element_customization": {"passage_body_font_family": "Roboto", "passage_container_max_width": 300},
            "element_customization_dark": {},
            "ephemeral": false,
            "id": "app id/ü",
            "layouts": {
                "profile": [{"h": 1, "id": "email", "w": 12, "x": 0, "y": 0}],
                "registration": []
            },
            "login_url": "/login",
            "name": "Example",
            "passage_branding": true,
            "profile_management": true,
            "public_signup": true,
            "redirect_url": "/dashboard",
            "require_email_verification": false,
            "require_identifier_verification": false,
            "required_identifier": "email",
            "rsa_public_key": "MIIBIjANBgkqh",
            "session_timeout_length": 3600,
            "social_connections": {"github": {"client_id": "gh-client"}},
            "user_metadata_schema": [{
                "field_name": "plan",
                "friendly_name": "Plan",
                "id": "meta_1",
                "profile": true,
                "registration": false,
                "type": "string"
            }]
        }
    })
}

// ---------------------------------------------------------------- cases

async fn case_get_app(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(200, app_json()));
    let app = c.get_app().app_id(APP_ID).send().await.unwrap();
    assert_eq!(app.status().as_u16(), 200);
    let app = app.into_inner().app;
    assert_eq!(app.id, APP_ID);
    assert_eq!(app.auth_fallback_method.as_str(), "otp");
    assert!(app.auth_fallback_method.is_known());
    assert_eq!(
        app.auth_methods.magic_link.as_ref().map(|m| m.ttl),
        Some(600)
    );
    assert_eq!(
        app.auth_methods
            .otp
            .as_ref()
            .and_then(|m| m.ttl_display_unit.as_ref())
            .map(|u| u.as_str()),
        Some("s")
    );
    assert_eq!(
        app.element_customization
            .passage_body_font_family
            .as_ref()
            .map(|f| f.as_str()),
        Some("Roboto")
    );
    assert_eq!(app.layouts.profile[0].w, 12);
    assert_eq!(app.session_timeout_length, 3600);
    assert_eq!(app.user_metadata_schema[0].field_name, "plan");
    assert_eq!(app.user_metadata_schema[0].type_, "string");
    assert_eq!(app.social_connections.github["client_id"], "gh-client");
    Expect::new("get_app", "GET", "/apps/{app_id}", Auth::None).check(rec)
}

async fn case_get_jwks(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(
        200,
        json!({"keys": [{"alg": "RS256", "e": "AQAB", "kid": "kid-1", "kty": "RSA", "n": "sXch", "use": "sig"}]}),
    ));
    let jwks = c
        .get_jwks()
        .app_id(APP_ID)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(jwks.keys.len(), 1);
    assert_eq!(jwks.keys[0].kid, "kid-1");
    assert_eq!(jwks.keys[0].use_, "sig");
    assert_eq!(jwks.keys[0].n, "sXch");
    Expect::new(
        "get_jwks",
        "GET",
        "/apps/{app_id}/.well-known/jwks.json",
        Auth::None,
    )
    .check(rec)
}

async fn case_get_open_id_configuration(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(
        200,
        json!({
            "authorization_endpoint": "https://auth.example/authorize",
            "issuer": "https://auth.passage.id/v1/apps/app1",
            "jwks_uri": "https://auth.example/jwks.json"
        }),
    ));
    let conf = c
        .get_open_id_configuration()
        .app_id(APP_ID)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(conf.issuer, "https://auth.passage.id/v1/apps/app1");
    assert_eq!(
        conf.authorization_endpoint,
        "https://auth.example/authorize"
    );
    assert_eq!(conf.jwks_uri, "https://auth.example/jwks.json");
    Expect::new(
        "get_open_id_configuration",
        "GET",
        "/apps/{app_id}/.well-known/openid-configuration",
        Auth::None,
    )
    .check(rec)
}

async fn case_get_currentuser(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(
        200,
        json!({"user": current_user_json(Value::Null, "")}),
    ));
    let user = c
        .get_currentuser()
        .app_id(APP_ID)
        .send()
        .await
        .unwrap()
        .into_inner()
        .user;
    check_current_user(&user);
    // Official edge cases: `user_metadata: null`, `status: ""`.
    assert_eq!(user.user_metadata, None);
    assert_eq!(user.status, UserStatus::Empty);
    Expect::new(
        "get_currentuser",
        "GET",
        "/apps/{app_id}/currentuser",
        Auth::Bearer,
    )
    .check(rec)
}

async fn case_get_currentuser_devices(rec: &Recorder, c: &Client) -> Exercised {
    // Official edge case: both icons null.
    rec.answer(Canned::json(
        200,
        json!({"devices": [credential_json(None, None)]}),
    ));
    let devices = c
        .get_currentuser_devices()
        .app_id(APP_ID)
        .send()
        .await
        .unwrap()
        .into_inner()
        .devices;
    assert_eq!(devices.len(), 1);
    check_credential(&devices[0]);
    assert_eq!(devices[0].icons.light, None);
    assert_eq!(devices[0].icons.dark, None);
    Expect::new(
        "get_currentuser_devices",
        "GET",
        "/apps/{app_id}/currentuser/devices",
        Auth::Bearer,
    )
    .check(rec)
}

async fn case_post_currentuser_add_device_finish(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(
        201,
        json!({"device": credential_json(Some("l.svg"), Some("d.svg"))}),
    ));
    let answer = c
        .post_currentuser_add_device_finish()
        .app_id(APP_ID)
        .body(
            types::AddDeviceFinishRequest::builder()
                .handshake_id("hs_create")
                .handshake_response(attestation())
                .user_id("usr_1"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 201);
    let device = answer.into_inner().device;
    check_credential(&device);
    assert_eq!(device.icons.light.as_deref(), Some("l.svg"));
    assert_eq!(device.icons.dark.as_deref(), Some("d.svg"));
    Expect::new(
        "post_currentuser_add_device_finish",
        "POST",
        "/apps/{app_id}/currentuser/devices/finish",
        Auth::Bearer,
    )
    .json(json!({
        "handshake_id": "hs_create",
        "handshake_response": attestation_json(),
        "user_id": "usr_1"
    }))
    .check(rec)
}

async fn case_post_currentuser_add_device_start(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(
        200,
        json!({"handshake": creation_challenge_json(), "user": sparse_user_json()}),
    ));
    let answer = c
        .post_currentuser_add_device_start()
        .app_id(APP_ID)
        .body(
            types::CurrentUserDevicesStartRequest::builder()
                .authenticator_attachment(Some(AuthenticatorAttachment::CrossPlatform)),
        )
        .send()
        .await
        .unwrap()
        .into_inner();
    check_creation_challenge(&answer.handshake);
    check_sparse_user(answer.user.as_ref().expect("user"));
    Expect::new(
        "post_currentuser_add_device_start",
        "POST",
        "/apps/{app_id}/currentuser/devices/start",
        Auth::Bearer,
    )
    .json(json!({"authenticator_attachment": "cross-platform"}))
    .check(rec)
}

async fn case_delete_currentuser_device(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::empty(200));
    let answer = c
        .delete_currentuser_device()
        .app_id(APP_ID)
        .device_id("dev/1 x?")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    Expect::new(
        "delete_currentuser_device",
        "DELETE",
        "/apps/{app_id}/currentuser/devices/{device_id}",
        Auth::Bearer,
    )
    .path(format!("{APP}/currentuser/devices/dev%2F1%20x%3F"))
    .check(rec)
}

async fn case_update_currentuser_device(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(
        200,
        json!({"device": credential_json(None, Some("d.svg"))}),
    ));
    let device = c
        .update_currentuser_device()
        .app_id(APP_ID)
        .device_id("dev_1")
        .body(types::UpdateDeviceRequest::builder().friendly_name("Work laptop"))
        .send()
        .await
        .unwrap()
        .into_inner()
        .device;
    check_credential(&device);
    assert_eq!(device.icons.light, None);
    assert_eq!(device.icons.dark.as_deref(), Some("d.svg"));
    Expect::new(
        "update_currentuser_device",
        "PATCH",
        "/apps/{app_id}/currentuser/devices/{device_id}",
        Auth::Bearer,
    )
    .path(format!("{APP}/currentuser/devices/dev_1"))
    .json(json!({"friendly_name": "Work laptop"}))
    .check(rec)
}

async fn case_update_email_currentuser(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(200, json!({"magic_link": {"id": "ml_email"}})));
    let answer = c
        .update_email_currentuser()
        .app_id(APP_ID)
        .body(
            types::UpdateUserEmailRequest::builder()
                .new_email("new@example.com")
                .language(Some("de".to_string()))
                .magic_link_path(Some("/verify".to_string()))
                .redirect_url(Some("/done".to_string())),
        )
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.magic_link.id, "ml_email");
    Expect::new(
        "update_email_currentuser",
        "PATCH",
        "/apps/{app_id}/currentuser/email",
        Auth::Bearer,
    )
    .json(json!({
        "new_email": "new@example.com",
        "language": "de",
        "magic_link_path": "/verify",
        "redirect_url": "/done"
    }))
    .check(rec)
}

async fn case_update_phone_currentuser(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(200, json!({"magic_link": {"id": "ml_phone"}})));
    let answer = c
        .update_phone_currentuser()
        .app_id(APP_ID)
        .body(types::UpdateUserPhoneRequest::builder().new_phone(Some("+15555550199".to_string())))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.magic_link.id, "ml_phone");
    Expect::new(
        "update_phone_currentuser",
        "PATCH",
        "/apps/{app_id}/currentuser/phone",
        Auth::Bearer,
    )
    .json(json!({"new_phone": "+15555550199"}))
    .check(rec)
}

async fn case_get_currentuser_metadata(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(
        200,
        json!({"user_metadata": {"plan": "pro", "seats": 3, "beta": true}}),
    ));
    let meta = c
        .get_currentuser_metadata()
        .app_id(APP_ID)
        .send()
        .await
        .unwrap()
        .into_inner()
        .user_metadata;
    assert_eq!(meta.get("plan"), Some(&json!("pro")));
    assert_eq!(meta.get("seats"), Some(&json!(3)));
    assert_eq!(meta.get("beta"), Some(&json!(true)));
    Expect::new(
        "get_currentuser_metadata",
        "GET",
        "/apps/{app_id}/currentuser/user-metadata",
        Auth::Bearer,
    )
    .check(rec)
}

async fn case_update_currentuser_metadata(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(
        200,
        json!({"user": current_user_json(json!({"plan": "team"}), "active")}),
    ));
    let mut metadata = serde_json::Map::new();
    metadata.insert("plan".into(), json!("team"));
    let user = c
        .update_currentuser_metadata()
        .app_id(APP_ID)
        .body(types::UpdateMetadataRequest::builder().user_metadata(metadata))
        .send()
        .await
        .unwrap()
        .into_inner()
        .user;
    check_current_user(&user);
    assert_eq!(user.status, UserStatus::Active);
    assert_eq!(
        user.user_metadata.as_ref().and_then(|m| m.get("plan")),
        Some(&json!("team"))
    );
    Expect::new(
        "update_currentuser_metadata",
        "PATCH",
        "/apps/{app_id}/currentuser/user-metadata",
        Auth::Bearer,
    )
    .json(json!({"user_metadata": {"plan": "team"}}))
    .check(rec)
}

async fn case_get_currentuser_social_connections(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(
        200,
        json!({"social_connections": {
            "apple": {
                "created_at": "2024-04-01T08:00:00Z",
                "last_login_at": "2024-04-02T08:00:00Z",
                "provider_id": "apple-sub",
                "provider_identifier": "ada@privaterelay.appleid.com"
            }
        }}),
    ));
    let links = c
        .get_currentuser_social_connections()
        .app_id(APP_ID)
        .send()
        .await
        .unwrap()
        .into_inner()
        .social_connections;
    let apple = links.apple.expect("apple link");
    assert_eq!(apple.provider_id, "apple-sub");
    assert_eq!(
        apple.last_login_at.to_rfc3339(),
        "2024-04-02T08:00:00+00:00"
    );
    assert!(links.github.is_none() && links.google.is_none());
    Expect::new(
        "get_currentuser_social_connections",
        "GET",
        "/apps/{app_id}/currentuser/social-connections",
        Auth::Bearer,
    )
    .check(rec)
}

async fn case_delete_currentuser_social_connection(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::empty(200));
    let answer = c
        .delete_currentuser_social_connection()
        .app_id(APP_ID)
        .social_connection_type(SocialConnectionType::Github)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    Expect::new(
        "delete_currentuser_social_connection",
        "DELETE",
        "/apps/{app_id}/currentuser/social-connections/{social_connection_type}",
        Auth::Bearer,
    )
    .path(format!("{APP}/currentuser/social-connections/github"))
    .check(rec)
}

async fn case_login_magic_link(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(200, json!({"magic_link": {"id": "ml_login"}})));
    let answer = c
        .login_magic_link()
        .app_id(APP_ID)
        .body(
            types::LoginMagicLinkRequest::builder()
                .identifier("ada@example.com")
                .language(Some("en".to_string()))
                .magic_link_path(Some("/magic".to_string())),
        )
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.magic_link.id, "ml_login");
    Expect::new(
        "login_magic_link",
        "POST",
        "/apps/{app_id}/login/magic-link",
        Auth::None,
    )
    .json(json!({"identifier": "ada@example.com", "language": "en", "magic_link_path": "/magic"}))
    .check(rec)
}

async fn case_login_one_time_passcode(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(201, json!({"otp_id": "otp_login"})));
    let answer = c
        .login_one_time_passcode()
        .app_id(APP_ID)
        .body(
            types::LoginOneTimePasscodeRequest::builder()
                .identifier("+15555550100")
                .language(Some("fr".to_string())),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 201);
    assert_eq!(answer.into_inner().otp_id, "otp_login");
    Expect::new(
        "login_one_time_passcode",
        "POST",
        "/apps/{app_id}/login/otp",
        Auth::None,
    )
    .json(json!({"identifier": "+15555550100", "language": "fr"}))
    .check(rec)
}

async fn case_login_webauthn_start(rec: &Recorder, c: &Client) -> Exercised {
    // Official edge case: the user of a start answer has no `webauthn_types`.
    rec.answer(Canned::json(
        200,
        json!({"handshake": assertion_challenge_json(), "user": sparse_user_json()}),
    ));
    let answer = c
        .login_webauthn_start()
        .app_id(APP_ID)
        .body(
            types::LoginWebAuthnStartRequest::builder()
                .identifier(Some("ada@example.com".to_string())),
        )
        .send()
        .await
        .unwrap()
        .into_inner();
    check_assertion_challenge(&answer.handshake);
    check_sparse_user(answer.user.as_ref().expect("user"));
    Expect::new(
        "login_webauthn_start",
        "POST",
        "/apps/{app_id}/login/webauthn/start",
        Auth::None,
    )
    .json(json!({"identifier": "ada@example.com"}))
    .check(rec)
}

async fn case_login_webauthn_finish(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(200, auth_json(true)));
    let answer = c
        .login_webauthn_finish()
        .app_id(APP_ID)
        .body(
            types::LoginWebAuthnFinishRequest::builder()
                .handshake_id("hs_assert")
                .handshake_response(assertion())
                .user_id(Some("usr_1".to_string())),
        )
        .send()
        .await
        .unwrap()
        .into_inner();
    check_auth(&answer, true);
    Expect::new(
        "login_webauthn_finish",
        "POST",
        "/apps/{app_id}/login/webauthn/finish",
        Auth::None,
    )
    .json(json!({
        "handshake_id": "hs_assert",
        "handshake_response": assertion_json(),
        "user_id": "usr_1"
    }))
    .check(rec)
}

async fn case_activate_magic_link(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(200, auth_json(false)));
    let answer = c
        .activate_magic_link()
        .app_id(APP_ID)
        .body(
            types::ActivateMagicLinkRequest::builder().magic_link(SecretValue::new("ml-secret-1")),
        )
        .send()
        .await
        .unwrap()
        .into_inner();
    check_auth(&answer, false);
    Expect::new(
        "activate_magic_link",
        "PATCH",
        "/apps/{app_id}/magic-link/activate",
        Auth::None,
    )
    .json(json!({"magic_link": "ml-secret-1"}))
    .check(rec)
}

async fn case_magic_link_status(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(200, auth_json(true)));
    let answer = c
        .magic_link_status()
        .app_id(APP_ID)
        .body(types::GetMagicLinkStatusRequest::builder().id("ml_login"))
        .send()
        .await
        .unwrap()
        .into_inner();
    check_auth(&answer, true);
    Expect::new(
        "magic_link_status",
        "POST",
        "/apps/{app_id}/magic-link/status",
        Auth::None,
    )
    .json(json!({"id": "ml_login"}))
    .check(rec)
}

async fn case_activate_one_time_passcode(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(200, auth_json(true)));
    let answer = c
        .activate_one_time_passcode()
        .app_id(APP_ID)
        .body(
            types::ActivateOneTimePasscodeRequest::builder()
                .otp(SecretValue::new("123456"))
                .otp_id("otp_login"),
        )
        .send()
        .await
        .unwrap()
        .into_inner();
    check_auth(&answer, true);
    Expect::new(
        "activate_one_time_passcode",
        "POST",
        "/apps/{app_id}/otp/activate",
        Auth::None,
    )
    .json(json!({"otp": "123456", "otp_id": "otp_login"}))
    .check(rec)
}

async fn case_register_magic_link(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(201, json!({"magic_link": {"id": "ml_reg"}})));
    let answer = c
        .register_magic_link()
        .app_id(APP_ID)
        .body(
            types::RegisterMagicLinkRequest::builder()
                .identifier("new@example.com")
                .magic_link_path(Some("/welcome".to_string())),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 201);
    assert_eq!(answer.into_inner().magic_link.id, "ml_reg");
    Expect::new(
        "register_magic_link",
        "POST",
        "/apps/{app_id}/register/magic-link",
        Auth::None,
    )
    .json(json!({"identifier": "new@example.com", "magic_link_path": "/welcome"}))
    .check(rec)
}

async fn case_register_one_time_passcode(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(201, json!({"otp_id": "otp_reg"})));
    let answer = c
        .register_one_time_passcode()
        .app_id(APP_ID)
        .body(types::RegisterOneTimePasscodeRequest::builder().identifier("new@example.com"))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.otp_id, "otp_reg");
    Expect::new(
        "register_one_time_passcode",
        "POST",
        "/apps/{app_id}/register/otp",
        Auth::None,
    )
    .json(json!({"identifier": "new@example.com"}))
    .check(rec)
}

async fn case_register_webauthn_start(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(
        200,
        json!({"handshake": creation_challenge_json(), "user": user_json()}),
    ));
    let answer = c
        .register_webauthn_start()
        .app_id(APP_ID)
        .body(
            types::RegisterWebAuthnStartRequest::builder()
                .identifier("new@example.com")
                .authenticator_attachment(Some(AuthenticatorAttachment::Platform)),
        )
        .send()
        .await
        .unwrap()
        .into_inner();
    check_creation_challenge(&answer.handshake);
    check_user(answer.user.as_ref().expect("user"));
    Expect::new(
        "register_webauthn_start",
        "POST",
        "/apps/{app_id}/register/webauthn/start",
        Auth::None,
    )
    .json(json!({"identifier": "new@example.com", "authenticator_attachment": "platform"}))
    .check(rec)
}

async fn case_register_webauthn_finish(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(201, auth_json(true)));
    let answer = c
        .register_webauthn_finish()
        .app_id(APP_ID)
        .body(
            types::RegisterWebAuthnFinishRequest::builder()
                .handshake_id("hs_create")
                .handshake_response(attestation())
                .user_id("usr_1"),
        )
        .send()
        .await
        .unwrap()
        .into_inner();
    check_auth(&answer, true);
    Expect::new(
        "register_webauthn_finish",
        "POST",
        "/apps/{app_id}/register/webauthn/finish",
        Auth::None,
    )
    .json(json!({
        "handshake_id": "hs_create",
        "handshake_response": attestation_json(),
        "user_id": "usr_1"
    }))
    .check(rec)
}

async fn case_refresh_auth_token(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(201, auth_json(true)));
    let answer = c
        .refresh_auth_token()
        .app_id(APP_ID)
        .body(
            types::RefreshAuthTokenRequest::builder()
                .refresh_token(SecretValue::new("old-refresh")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 201);
    check_auth(&answer.into_inner(), true);
    Expect::new(
        "refresh_auth_token",
        "POST",
        "/apps/{app_id}/tokens",
        Auth::None,
    )
    .json(json!({"refresh_token": "old-refresh"}))
    .check(rec)
}

async fn case_revoke_refresh_token(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::empty(200));
    let answer = c
        .revoke_refresh_token()
        .app_id(APP_ID)
        .refresh_token(SecretValue::new("rt/+= &secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    Expect::new(
        "revoke_refresh_token",
        "DELETE",
        "/apps/{app_id}/tokens",
        Auth::None,
    )
    .query(&[("refresh_token", "rt/+= &secret")])
    .check(rec)
}

async fn case_check_user_identifier(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(200, json!({"user": user_json()})));
    let answer = c
        .check_user_identifier()
        .app_id(APP_ID)
        .identifier("ada+tag@example.com")
        .send()
        .await
        .unwrap()
        .into_inner();
    check_user(answer.user.as_ref().expect("user"));
    let ex = Expect::new(
        "check_user_identifier",
        "GET",
        "/apps/{app_id}/users",
        Auth::None,
    )
    .query(&[("identifier", "ada+tag@example.com")])
    .check(rec);

    // Official edge case: no such account is `{"user": null}`.
    rec.answer(Canned::json(200, json!({"user": null})));
    let answer = c
        .check_user_identifier()
        .app_id(APP_ID)
        .identifier("nobody@example.com")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.user, None);
    rec.take();
    ex
}

async fn case_create_user(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(201, json!({"user": user_json()})));
    let mut metadata = serde_json::Map::new();
    metadata.insert("plan".into(), json!("pro"));
    let answer = c
        .create_user()
        .app_id(APP_ID)
        .body(
            types::CreateUserParams::builder()
                .identifier("ada@example.com")
                .user_metadata(metadata),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 201);
    check_user(&answer.into_inner().user);
    Expect::new("create_user", "POST", "/apps/{app_id}/users", Auth::None)
        .json(json!({"identifier": "ada@example.com", "user_metadata": {"plan": "pro"}}))
        .check(rec)
}

/// A redirect target on the recorder itself: following it would show up as
/// a second request.
const FOLLOW_ME: &str = "/v1/followed?code=provider-code&state=st";

async fn case_get_authorize(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::redirect(302, FOLLOW_ME));
    let redirect = c
        .get_authorize()
        .app_id(APP_ID)
        .code_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        .code_challenge_method(CodeChallengeMethod::S256)
        .connection_type(OAuth2ConnectionType::Github)
        .login_hint("ada+hint@example.com")
        .redirect_uri("https://app.example/cb?x=1&y=2")
        .state("st&ate=1")
        .send()
        .await
        .into_redirect()
        .unwrap();
    assert_eq!(redirect.status.as_u16(), 302);
    assert_eq!(redirect.location, FOLLOW_ME);
    Expect::new(
        "get_authorize",
        "GET",
        "/apps/{app_id}/social/authorize",
        Auth::None,
    )
    .redirecting()
    .query(&[
        (
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        ),
        ("code_challenge_method", "S256"),
        ("connection_type", "github"),
        ("login_hint", "ada+hint@example.com"),
        ("redirect_uri", "https://app.example/cb?x=1&y=2"),
        ("state", "st&ate=1"),
    ])
    .check(rec)
}

async fn case_oauth2_callback(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::redirect(
        302,
        "https://app.example/cb?error=login_required",
    ));
    let redirect = c
        .oauth2_callback()
        .app_id(APP_ID)
        .code(SecretValue::new("provider-code"))
        .error(AuthErrorCode::LoginRequired)
        .error_description("the user must sign in")
        .state("st")
        .send()
        .await
        .into_redirect()
        .unwrap();
    assert_eq!(
        redirect.location,
        "https://app.example/cb?error=login_required"
    );
    Expect::new(
        "oauth2_callback",
        "GET",
        "/apps/{app_id}/social/oauth2_callback",
        Auth::None,
    )
    .redirecting()
    .query(&[
        ("code", "provider-code"),
        ("error", "login_required"),
        ("error_description", "the user must sign in"),
        ("state", "st"),
    ])
    .check(rec)
}

async fn case_apple_oauth2_callback(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::redirect(302, "https://app.example/done"));
    let redirect = c
        .apple_oauth2_callback()
        .app_id(APP_ID)
        .body(
            types::AppleOAuth2CallbackForm::builder()
                .state("st=1&x")
                .code(Some(SecretValue::new("apple-code")))
                .id_token(Some(SecretValue::new("apple.id.token")))
                .user(Some(r#"{"name":{"firstName":"Ada"}}"#.to_string())),
        )
        .send()
        .await
        .into_redirect()
        .unwrap();
    assert_eq!(redirect.location, "https://app.example/done");
    Expect::new(
        "apple_oauth2_callback",
        "POST",
        "/apps/{app_id}/social/oauth2_callback",
        Auth::None,
    )
    .redirecting()
    .form(&[
        ("state", "st=1&x"),
        ("code", "apple-code"),
        ("id_token", "apple.id.token"),
        ("user", r#"{"name":{"firstName":"Ada"}}"#),
    ])
    .check(rec)
}

async fn case_exchange_social_token(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(201, auth_json(false)));
    let answer = c
        .exchange_social_token()
        .app_id(APP_ID)
        .code(SecretValue::new("auth-code"))
        .verifier(SecretValue::new("pkce-verifier~._-"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 201);
    check_auth(&answer.into_inner(), false);
    Expect::new(
        "exchange_social_token",
        "GET",
        "/apps/{app_id}/social/token",
        Auth::None,
    )
    .query(&[("code", "auth-code"), ("verifier", "pkce-verifier~._-")])
    .check(rec)
}

async fn case_currentuser_social_link_account(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::empty(201));
    let answer = c
        .currentuser_social_link_account()
        .app_id(APP_ID)
        .code(SecretValue::new("link-code"))
        .verifier(SecretValue::new("link-verifier"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 201);
    Expect::new(
        "currentuser_social_link_account",
        "GET",
        "/apps/{app_id}/currentuser/social/link_account",
        Auth::Bearer,
    )
    .query(&[("code", "link-code"), ("verifier", "link-verifier")])
    .check(rec)
}

async fn case_authenticate_webauthn_start_with_transaction(
    rec: &Recorder,
    c: &Client,
) -> Exercised {
    rec.answer(Canned::json(
        200,
        json!({"handshake": assertion_challenge_json(), "transaction_id": "tx_1"}),
    ));
    let answer = c
        .authenticate_webauthn_start_with_transaction()
        .app_id(APP_ID)
        .body(
            types::AuthenticateWebAuthnStartWithTransactionRequest::builder()
                .transaction_id(Some("tx_1".to_string())),
        )
        .send()
        .await
        .unwrap()
        .into_inner();
    check_assertion_challenge(&answer.handshake);
    assert_eq!(answer.transaction_id.as_deref(), Some("tx_1"));
    Expect::new(
        "authenticate_webauthn_start_with_transaction",
        "POST",
        "/apps/{app_id}/authenticate/transactions/webauthn/start",
        Auth::None,
    )
    .json(json!({"transaction_id": "tx_1"}))
    .check(rec)
}

async fn case_authenticate_webauthn_finish_with_transaction(
    rec: &Recorder,
    c: &Client,
) -> Exercised {
    rec.answer(Canned::json(200, json!({"nonce": "nonce-auth-1"})));
    let answer = c
        .authenticate_webauthn_finish_with_transaction()
        .app_id(APP_ID)
        .body(
            types::AuthenticateWebAuthnFinishWithTransactionRequest::builder()
                .handshake_id("hs_assert")
                .handshake_response(assertion())
                .transaction_id(Some("tx_1".to_string())),
        )
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.nonce.expose_secret(), "nonce-auth-1");
    Expect::new(
        "authenticate_webauthn_finish_with_transaction",
        "POST",
        "/apps/{app_id}/authenticate/transactions/webauthn/finish",
        Auth::None,
    )
    .json(json!({
        "handshake_id": "hs_assert",
        "handshake_response": assertion_json(),
        "transaction_id": "tx_1"
    }))
    .check(rec)
}

async fn case_register_webauthn_start_with_transaction(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(
        200,
        json!({"handshake": creation_challenge_json(), "transaction_id": "tx_2"}),
    ));
    let answer = c
        .register_webauthn_start_with_transaction()
        .app_id(APP_ID)
        .body(
            types::RegisterWebAuthnStartWithTransactionRequest::builder()
                .transaction_id("tx_2")
                .authenticator_attachment(Some(AuthenticatorAttachment::Any)),
        )
        .send()
        .await
        .unwrap()
        .into_inner();
    check_creation_challenge(&answer.handshake);
    assert_eq!(answer.transaction_id.as_deref(), Some("tx_2"));
    Expect::new(
        "register_webauthn_start_with_transaction",
        "POST",
        "/apps/{app_id}/register/transactions/webauthn/start",
        Auth::None,
    )
    .json(json!({"transaction_id": "tx_2", "authenticator_attachment": "any"}))
    .check(rec)
}

async fn case_register_webauthn_finish_with_transaction(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(201, json!({"nonce": "nonce-reg-2"})));
    let answer = c
        .register_webauthn_finish_with_transaction()
        .app_id(APP_ID)
        .body(
            types::RegisterWebAuthnFinishWithTransactionRequest::builder()
                .handshake_id("hs_create")
                .handshake_response(attestation())
                .transaction_id("tx_2"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 201);
    assert_eq!(answer.into_inner().nonce.expose_secret(), "nonce-reg-2");
    Expect::new(
        "register_webauthn_finish_with_transaction",
        "POST",
        "/apps/{app_id}/register/transactions/webauthn/finish",
        Auth::None,
    )
    .json(json!({
        "handshake_id": "hs_create",
        "handshake_response": attestation_json(),
        "transaction_id": "tx_2"
    }))
    .check(rec)
}

async fn case_exchange_social_id_token(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::json(201, auth_json(true)));
    let answer = c
        .exchange_social_id_token()
        .app_id(APP_ID)
        .body(
            types::IdTokenRequest::builder()
                .code(SecretValue::new("native-code"))
                .connection_type(IdTokenConnectionType::Apple)
                .id_token(SecretValue::new("native.id.token")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 201);
    check_auth(&answer.into_inner(), true);
    Expect::new(
        "exchange_social_id_token",
        "POST",
        "/apps/{app_id}/social/id_token",
        Auth::None,
    )
    .json(json!({"code": "native-code", "connection_type": "apple", "id_token": "native.id.token"}))
    .check(rec)
}

async fn case_oauth2_callback_default_dev(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::redirect(302, FOLLOW_ME));
    let redirect = c
        .oauth2_callback_default_dev()
        .code(SecretValue::new("dev-code"))
        .send()
        .await
        .into_redirect()
        .unwrap();
    assert_eq!(redirect.location, FOLLOW_ME);
    // Optional parameters left unset are not sent at all.
    Expect::new(
        "oauth2_callback_default_dev",
        "GET",
        "/social/oauth2_callback",
        Auth::None,
    )
    .redirecting()
    .query(&[("code", "dev-code")])
    .check(rec)
}

async fn case_apple_oauth2_callback_default_dev(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::redirect(302, "https://app.example/cancelled"));
    let redirect = c
        .apple_oauth2_callback_default_dev()
        .body(
            types::AppleOAuth2CallbackForm::builder()
                .state("st")
                .error(Some(AppleCallbackError::UserCancelledAuthorize)),
        )
        .send()
        .await
        .into_redirect()
        .unwrap();
    assert_eq!(redirect.location, "https://app.example/cancelled");
    Expect::new(
        "apple_oauth2_callback_default_dev",
        "POST",
        "/social/oauth2_callback",
        Auth::None,
    )
    .redirecting()
    .form(&[("state", "st"), ("error", "user_cancelled_authorize")])
    .check(rec)
}

async fn case_create_passkey_readiness(rec: &Recorder, c: &Client) -> Exercised {
    rec.answer(Canned::empty(201));
    let answer = c
        .create_passkey_readiness()
        .app_identifier("com.example.app")
        .device_os("iOS")
        .device_os_version("17.4")
        .body(
            types::CreatePasskeyReadinessRequest::builder()
                .device_id("device-1")
                .conditional_ui(true)
                .cross_device_credential(false)
                .platform(true)
                .security_key(false)
                .synced_credential(true),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 201);
    Expect::new(
        "create_passkey_readiness",
        "POST",
        "/analytics/passkey-readiness",
        Auth::ApiKey {
            header: "x-api-key",
        },
    )
    .header("app-identifier", "com.example.app")
    .header("device-os", "iOS")
    .header("device-os-version", "17.4")
    .json(json!({
        "device_id": "device-1",
        "conditional_ui": true,
        "cross_device_credential": false,
        "platform": true,
        "security_key": false,
        "synced_credential": true
    }))
    .check(rec)
}

/// Runs every contract case against one recorder and returns what they exercised.
async fn run_all_cases(rec: &Recorder, c: &Client) -> Vec<Exercised> {
    vec![
        case_get_app(rec, c).await,
        case_get_jwks(rec, c).await,
        case_get_open_id_configuration(rec, c).await,
        case_get_currentuser(rec, c).await,
        case_get_currentuser_devices(rec, c).await,
        case_post_currentuser_add_device_finish(rec, c).await,
        case_post_currentuser_add_device_start(rec, c).await,
        case_delete_currentuser_device(rec, c).await,
        case_update_currentuser_device(rec, c).await,
        case_update_email_currentuser(rec, c).await,
        case_update_phone_currentuser(rec, c).await,
        case_get_currentuser_metadata(rec, c).await,
        case_update_currentuser_metadata(rec, c).await,
        case_get_currentuser_social_connections(rec, c).await,
        case_delete_currentuser_social_connection(rec, c).await,
        case_login_magic_link(rec, c).await,
        case_login_one_time_passcode(rec, c).await,
        case_login_webauthn_start(rec, c).await,
        case_login_webauthn_finish(rec, c).await,
        case_activate_magic_link(rec, c).await,
        case_magic_link_status(rec, c).await,
        case_activate_one_time_passcode(rec, c).await,
        case_register_magic_link(rec, c).await,
        case_register_one_time_passcode(rec, c).await,
        case_register_webauthn_start(rec, c).await,
        case_register_webauthn_finish(rec, c).await,
        case_refresh_auth_token(rec, c).await,
        case_revoke_refresh_token(rec, c).await,
        case_check_user_identifier(rec, c).await,
        case_create_user(rec, c).await,
        case_get_authorize(rec, c).await,
        case_oauth2_callback(rec, c).await,
        case_apple_oauth2_callback(rec, c).await,
        case_exchange_social_token(rec, c).await,
        case_currentuser_social_link_account(rec, c).await,
        case_authenticate_webauthn_start_with_transaction(rec, c).await,
        case_authenticate_webauthn_finish_with_transaction(rec, c).await,
        case_register_webauthn_start_with_transaction(rec, c).await,
        case_register_webauthn_finish_with_transaction(rec, c).await,
        case_exchange_social_id_token(rec, c).await,
        case_oauth2_callback_default_dev(rec, c).await,
        case_apple_oauth2_callback_default_dev(rec, c).await,
        case_create_passkey_readiness(rec, c).await,
    ]
}

// ---------------------------------------------------------------- the spec

/// `(operationId, METHOD, path, auth)` of every operation in the spec file.
fn spec_operations() -> Vec<Exercised> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../spec/passage-auth.yaml");
    let text = std::fs::read_to_string(path).expect("read the spec");
    let spec: serde_yaml::Value = serde_yaml::from_str(&text).expect("spec is YAML");
    let global_security = spec.get("security").cloned();
    let mut ops = Vec::new();
    let paths = spec["paths"].as_mapping().expect("paths");
    for (template, item) in paths {
        let template = template.as_str().expect("path key");
        for method in [
            "get", "put", "post", "delete", "options", "head", "patch", "trace",
        ] {
            let Some(op) = item.get(method) else { continue };
            let id = op["operationId"].as_str().expect("operationId").to_string();
            let security = op
                .get("security")
                .cloned()
                .or_else(|| global_security.clone())
                .unwrap_or(serde_yaml::Value::Sequence(Vec::new()));
            let schemes: Vec<String> = security
                .as_sequence()
                .expect("security is a list")
                .iter()
                .flat_map(|req| req.as_mapping().expect("requirement").keys())
                .map(|k| k.as_str().expect("scheme").to_string())
                .collect();
            let auth = match schemes.as_slice() {
                [] => "none",
                [s] if s == "bearerAuth" => "bearer",
                [s] if s == "apiKeyAuth" => "api_key",
                other => panic!("{id}: unexpected security {other:?}"),
            };
            ops.push(Exercised {
                id: leak(id),
                method: leak(method.to_uppercase()),
                template: leak(template.to_string()),
                auth,
            });
        }
    }
    ops.sort();
    ops
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

#[tokio::test]
async fn every_operation_follows_its_request_contract() {
    let rec = Recorder::start().await;
    let c = client(&rec);
    let mut exercised = run_all_cases(&rec, &c).await;
    exercised.sort();

    // Each case names a distinct operation.
    let mut ids: Vec<&str> = exercised.iter().map(|e| e.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), exercised.len(), "a case is listed twice");

    // The cases cover exactly the operations of the spec, with the same
    // method, path and credential.
    let spec = spec_operations();
    assert_eq!(spec.len(), 43, "the spec has 43 operations");
    let missing: Vec<&Exercised> = spec.iter().filter(|op| !exercised.contains(op)).collect();
    let extra: Vec<&Exercised> = exercised.iter().filter(|op| !spec.contains(op)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "contract cases and spec/passage-auth.yaml differ:\n  in the spec, no (matching) case: {missing:#?}\n  a case, not in the spec: {extra:#?}"
    );

    // The generated operation table agrees too.
    let mut table: Vec<Exercised> = OPERATIONS
        .iter()
        .map(|op| Exercised {
            id: op.operation_id,
            method: op.method,
            template: op.path,
            auth: auth_name(op.auth),
        })
        .collect();
    table.sort();
    let missing: Vec<&Exercised> = table.iter().filter(|op| !exercised.contains(op)).collect();
    let extra: Vec<&Exercised> = exercised.iter().filter(|op| !table.contains(op)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "contract cases and OPERATIONS differ:\n  in OPERATIONS, no (matching) case: {missing:#?}\n  a case, not in OPERATIONS: {extra:#?}"
    );

    let bearer = exercised.iter().filter(|e| e.auth == "bearer").count();
    let api_key: Vec<&str> = exercised
        .iter()
        .filter(|e| e.auth == "api_key")
        .map(|e| e.id)
        .collect();
    assert_eq!(bearer, 13, "13 bearer operations");
    assert_eq!(api_key, ["create_passkey_readiness"]);
}

// ---------------------------------------------------------------- more contract details

#[tokio::test]
async fn a_client_without_credentials_sends_none() {
    let rec = Recorder::start().await;
    let c = ClientBuilder::new()
        .retry_policy(RetryPolicy::none())
        .base_url(rec.base_url.clone())
        .build()
        .unwrap();
    rec.answer(Canned::json(200, json!({"user_metadata": {}})));
    c.get_currentuser_metadata()
        .app_id("a")
        .send()
        .await
        .unwrap();
    let req = rec.only_request();
    assert_eq!(req.header("authorization"), None);
    assert_eq!(req.header("x-api-key"), None);

    rec.answer(Canned::empty(201));
    c.create_passkey_readiness()
        .body(
            types::CreatePasskeyReadinessRequest::builder()
                .device_id("d")
                .conditional_ui(false)
                .cross_device_credential(false)
                .platform(false)
                .security_key(false)
                .synced_credential(false),
        )
        .send()
        .await
        .unwrap();
    let req = rec.only_request();
    assert_eq!(req.header("x-api-key"), None);
    assert_eq!(req.header("authorization"), None);
    // Unset optional header parameters are not sent.
    assert_eq!(req.header("device-os"), None);
    assert_eq!(req.header("app-identifier"), None);
}

#[tokio::test]
async fn credentials_given_to_the_builder_follow_the_same_rules() {
    let rec = Recorder::start().await;
    let c = ClientBuilder::new()
        .retry_policy(RetryPolicy::none())
        .base_url(format!("{}/", rec.base_url))
        .auth_token(SecretValue::new(TOKEN))
        .api_key(SecretValue::new(API_KEY))
        .build()
        .unwrap();
    rec.answer(Canned::json(200, json!({"user_metadata": {}})));
    c.get_currentuser_metadata()
        .app_id("a")
        .send()
        .await
        .unwrap();
    let req = rec.only_request();
    assert_eq!(req.path, "/v1/apps/a/currentuser/user-metadata");
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(req.header("x-api-key"), None);

    rec.answer(Canned::json(200, json!({"user": null})));
    c.check_user_identifier()
        .app_id("a")
        .identifier("x@example.com")
        .send()
        .await
        .unwrap();
    let req = rec.only_request();
    assert_eq!(req.header("authorization"), None);
    assert_eq!(req.header("x-api-key"), None);
}

#[tokio::test]
async fn optional_bodies_default_to_an_empty_object() {
    let rec = Recorder::start().await;
    let c = client(&rec);
    rec.answer(Canned::json(
        200,
        json!({"handshake": assertion_challenge_json()}),
    ));
    let answer = c
        .login_webauthn_start()
        .app_id(APP_ID)
        .send()
        .await
        .unwrap()
        .into_inner();
    // Discoverable login: no identifier, and the answer has no user.
    assert_eq!(answer.user, None);
    check_assertion_challenge(&answer.handshake);
    Expect::new(
        "login_webauthn_start",
        "POST",
        "/apps/{app_id}/login/webauthn/start",
        Auth::None,
    )
    .json(json!({}))
    .check(&rec);
}

#[tokio::test]
async fn a_missing_required_parameter_is_a_typed_error_and_sends_nothing() {
    let rec = Recorder::start().await;
    let c = client(&rec);
    rec.answer(Canned::empty(200));
    let err = c
        .revoke_refresh_token()
        .app_id(APP_ID)
        .send()
        .await
        .unwrap_err();
    let err: Error = err;
    assert!(
        matches!(&err, Error::InvalidRequest(m) if m.contains("refresh_token")),
        "{err:?}"
    );
    assert!(rec.take().is_empty());
}

// ---------------------------------------------------------------- errors

/// Every known error code with the status the API answers it with.
fn known_codes() -> Vec<(&'static str, ApiErrorCode, u16)> {
    use ApiErrorCode as C;
    vec![
        ("invalid_request", C::InvalidRequest, 400),
        ("invalid_client_version", C::InvalidClientVersion, 400),
        ("discoverable_login_failed", C::DiscoverableLoginFailed, 401),
        ("webauthn_login_failed", C::WebauthnLoginFailed, 401),
        ("invalid_magic_link", C::InvalidMagicLink, 401),
        ("invalid_access_token", C::InvalidAccessToken, 401),
        ("invalid_refresh_token", C::InvalidRefreshToken, 401),
        ("exceeded_attempts", C::ExceededAttempts, 401),
        ("identifier_not_verified", C::IdentifierNotVerified, 403),
        ("operation_not_allowed", C::OperationNotAllowed, 403),
        ("user_not_active", C::UserNotActive, 403),
        ("app_not_found", C::AppNotFound, 404),
        ("user_not_found", C::UserNotFound, 404),
        ("magic_link_not_found", C::MagicLinkNotFound, 404),
        (
            "social_connection_not_found",
            C::SocialConnectionNotFound,
            404,
        ),
        ("transaction_not_found", C::TransactionNotFound, 404),
        ("user_has_no_passkeys", C::UserHasNoPasskeys, 409),
        ("rate_limited", C::RateLimited, 429),
        ("internal_server_error", C::InternalServerError, 500),
    ]
}

#[test]
fn the_error_code_table_covers_the_spec_enum() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../spec/passage-auth.yaml");
    let spec: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut in_spec: Vec<&str> = spec["components"]["schemas"]["ApiErrorCode"]["enum"]
        .as_sequence()
        .expect("ApiErrorCode enum")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    in_spec.sort();
    let mut tested: Vec<&str> = known_codes().iter().map(|(wire, _, _)| *wire).collect();
    tested.sort();
    assert_eq!(tested, in_spec);
    let mut generated = ApiErrorCode::KNOWN.to_vec();
    generated.sort();
    assert_eq!(tested, generated);
}

/// `login_webauthn_start` declares 400, 401, 403, 404, 409 and 500.
async fn error_from_login_webauthn_start(rec: &Recorder, c: &Client, canned: Canned) -> Error {
    rec.answer(canned);
    let err = c
        .login_webauthn_start()
        .app_id(APP_ID)
        .send()
        .await
        .expect_err("an error answer");
    rec.take();
    err
}

#[tokio::test]
async fn every_error_code_decodes_into_a_typed_api_error() {
    let rec = Recorder::start().await;
    let c = client(&rec);
    for (wire, code, status) in known_codes() {
        let err = error_from_login_webauthn_start(
            &rec,
            &c,
            Canned::json(
                status,
                json!({"code": wire, "error": format!("message for {wire}")}),
            ),
        )
        .await;
        match &err {
            Error::Api {
                status: got,
                code: got_code,
                message,
                ..
            } => {
                assert_eq!(got.as_u16(), status, "{wire}");
                assert_eq!(got_code, &code, "{wire}");
                assert!(got_code.is_known(), "{wire}");
                assert_eq!(got_code.as_str(), wire);
                assert_eq!(message, &format!("message for {wire}"));
            }
            other => panic!("{wire}: expected Error::Api, got {other:?}"),
        }
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(err.code(), Some(&code));
        assert_eq!(err.is_transient(), matches!(status, 429 | 500), "{wire}");
    }
}

#[tokio::test]
async fn an_unknown_error_code_is_a_typed_api_error() {
    let rec = Recorder::start().await;
    let c = client(&rec);
    let err = error_from_login_webauthn_start(
        &rec,
        &c,
        Canned::json(
            401,
            json!({"code": "passkey_revoked_by_admin", "error": "ask your admin"}),
        ),
    )
    .await;
    match &err {
        Error::Api {
            status,
            code,
            message,
            ..
        } => {
            assert_eq!(status.as_u16(), 401);
            assert_eq!(
                code,
                &ApiErrorCode::Unknown("passkey_revoked_by_admin".into())
            );
            assert!(!code.is_known());
            assert_eq!(message, "ask your admin");
        }
        other => panic!("expected Error::Api, got {other:?}"),
    }
}

/// `operation` finds every operation of the table by its id, and nothing else.
#[test]
fn operation_lookup_finds_each_operation_by_id() {
    use passage_auth_client::operations::operation;
    for spec in &OPERATIONS {
        assert_eq!(
            operation(spec.operation_id),
            Some(spec),
            "{}",
            spec.operation_id
        );
    }
    assert!(OPERATIONS
        .windows(2)
        .all(|w| w[0].operation_id < w[1].operation_id));
    for unknown in ["", "get_ap", "get_app_", "GET_APP", "get_apps"] {
        assert_eq!(operation(unknown), None, "{unknown}");
    }
}
