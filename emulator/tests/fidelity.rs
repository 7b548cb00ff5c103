//! Fidelity switches: login methods per app, token issuer, the hosted service's quirks, passcode errors,
//! repeated magic-link status polls.

mod support;

use passage_conformance::CheckedEmulator;
use passage_emulator::base::enums::{LoginMethod, TokenIssuer};
use passage_emulator::{AppConfig, EmulatorConfig, EmulatorHandle, DEFAULT_APP_ID};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn call(
    emulator: &EmulatorHandle,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let url = format!("{}/apps/{DEFAULT_APP_ID}{path}", emulator.base_url());
    let mut req = reqwest::Client::new().request(method, url);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn start(config: EmulatorConfig) -> CheckedEmulator {
    CheckedEmulator::start(config)
        .await
        .expect("emulator starts")
}

fn magic_link_only() -> EmulatorConfig {
    EmulatorConfig {
        apps: vec![AppConfig {
            login_methods: vec![LoginMethod::MagicLink],
            magic_link_ttl_seconds: 900,
            ..AppConfig::default()
        }],
        ..EmulatorConfig::default()
    }
}

#[tokio::test]
async fn get_app_lists_only_the_configured_login_methods() {
    let emulator = start(magic_link_only()).await;
    let (status, body) = call(&emulator, reqwest::Method::GET, "", None).await;
    assert_eq!(status, StatusCode::OK);
    let methods = body["app"]["auth_methods"].as_object().unwrap();
    assert_eq!(methods.keys().collect::<Vec<_>>(), vec!["magic_link"]);
    assert_eq!(methods["magic_link"]["ttl"], 900);
    assert_eq!(body["app"]["auth_fallback_method"], "magic_link");
    let identifier = json!({"identifier": "ml@example.com"});
    for path in ["/register/otp", "/register/webauthn/start"] {
        let (status, err) = call(
            &emulator,
            reqwest::Method::POST,
            path,
            Some(identifier.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(err["code"], "operation_not_allowed");
    }
    let (status, _) = call(
        &emulator,
        reqwest::Method::POST,
        "/register/magic-link",
        Some(identifier),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let bad = EmulatorConfig {
        apps: vec![AppConfig {
            login_methods: vec![],
            ..AppConfig::default()
        }],
        ..EmulatorConfig::default()
    };
    assert!(CheckedEmulator::start(bad).await.is_err());
    let toml: EmulatorConfig = EmulatorConfig::from_toml_str(
        "[[apps]]\nid = \"x\"\nlogin_methods = [\"otp\", \"passkeys\"]",
    )
    .unwrap();
    assert_eq!(
        toml.apps[0].login_methods,
        vec![LoginMethod::Otp, LoginMethod::Passkeys]
    );
}

#[tokio::test]
async fn wrong_unknown_used_and_expired_passcodes_are_invalid_request() {
    let emulator = start(EmulatorConfig::default()).await;
    let identifier = "otp@example.com";
    let (_, sent) = call(
        &emulator,
        reqwest::Method::POST,
        "/register/otp",
        Some(json!({"identifier": identifier})),
    )
    .await;
    let otp_id = sent["otp_id"].as_str().unwrap().to_owned();
    let code = emulator.outbox(identifier)[0].otp.clone().unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for (case, body) in [
        ("wrong", json!({"otp": wrong, "otp_id": otp_id})),
        ("unknown", json!({"otp": code, "otp_id": "otp_unknown"})),
    ] {
        let (status, err) = call(
            &emulator,
            reqwest::Method::POST,
            "/otp/activate",
            Some(body),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}");
        assert_eq!(err["code"], "invalid_request", "{case}");
    }
    let good = json!({"otp": code, "otp_id": otp_id});
    let (status, _) = call(
        &emulator,
        reqwest::Method::POST,
        "/otp/activate",
        Some(good.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, err) = call(
        &emulator,
        reqwest::Method::POST,
        "/otp/activate",
        Some(good),
    )
    .await;
    assert_eq!(
        (status, err["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_request")),
        "used"
    );
    let (_, sent) = call(
        &emulator,
        reqwest::Method::POST,
        "/login/otp",
        Some(json!({"identifier": identifier})),
    )
    .await;
    let code = emulator.outbox(identifier)[1].otp.clone().unwrap();
    emulator.advance_clock(301);
    let (status, err) = call(
        &emulator,
        reqwest::Method::POST,
        "/otp/activate",
        Some(json!({"otp": code, "otp_id": sent["otp_id"]})),
    )
    .await;
    assert_eq!(
        (status, err["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_request")),
        "expired"
    );
}

#[tokio::test]
async fn magic_link_status_answers_every_poll_until_expiry() {
    let emulator = start(magic_link_only()).await;
    let identifier = "poll@example.com";
    let (_, sent) = call(
        &emulator,
        reqwest::Method::POST,
        "/register/magic-link",
        Some(json!({"identifier": identifier})),
    )
    .await;
    let id = json!({"id": sent["magic_link"]["id"]});
    let (status, _) = call(
        &emulator,
        reqwest::Method::POST,
        "/magic-link/status",
        Some(id.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "before activation");
    let secret = emulator.outbox(identifier)[0]
        .magic_link_secret
        .clone()
        .unwrap();
    let (status, _) = call(
        &emulator,
        reqwest::Method::PATCH,
        "/magic-link/activate",
        Some(json!({"magic_link": secret})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for poll in 0..3 {
        let (status, body) = call(
            &emulator,
            reqwest::Method::POST,
            "/magic-link/status",
            Some(id.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "poll {poll}");
        assert!(body["auth_result"]["auth_token"].is_string());
    }
    emulator.advance_clock(901);
    let (status, body) = call(
        &emulator,
        reqwest::Method::POST,
        "/magic-link/status",
        Some(id),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "after expiry");
    assert_eq!(body["code"], "magic_link_not_found");
}

fn jwt_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn token_issuer_is_the_emulator_url_or_the_hosted_one() {
    for (issuer, expected) in [
        (TokenIssuer::Emulator, None),
        (
            TokenIssuer::Hosted,
            Some(format!("https://auth.passage.id/v1/apps/{DEFAULT_APP_ID}")),
        ),
    ] {
        let emulator = start(EmulatorConfig {
            token_issuer: issuer,
            ..EmulatorConfig::default()
        })
        .await;
        let expected =
            expected.unwrap_or_else(|| format!("{}/apps/{DEFAULT_APP_ID}", emulator.base_url()));
        let user_id = support::Management::new(&emulator)
            .create_email_user("iss@example.com")
            .await;
        let session = emulator
            .admin()
            .create_session(DEFAULT_APP_ID, &user_id)
            .await
            .unwrap();
        assert_eq!(jwt_claims(&session.auth_token)["iss"], json!(expected));
        let (_, discovery) = call(
            &emulator,
            reqwest::Method::GET,
            "/.well-known/openid-configuration",
            None,
        )
        .await;
        assert_eq!(discovery["issuer"], json!(expected));
        // The emulator accepts its own tokens either way.
        let resp = reqwest::Client::new()
            .get(format!(
                "{}/apps/{DEFAULT_APP_ID}/currentuser",
                emulator.base_url()
            ))
            .bearer_auth(&session.auth_token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let body: Value = resp.json().await.unwrap();
        assert!(body["user"]["webauthn_types"].is_array(), "always present");
    }
}

#[tokio::test]
async fn quirks_reproduce_the_hosted_service_shapes() {
    for quirks in [false, true] {
        let emulator = start(EmulatorConfig {
            quirks,
            ..EmulatorConfig::default()
        })
        .await;
        let (status, start) = call(
            &emulator,
            reqwest::Method::POST,
            "/register/webauthn/start",
            Some(json!({"identifier": "q@example.com"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let user = start["user"].as_object().unwrap();
        assert_eq!(
            user.contains_key("webauthn_types"),
            !quirks,
            "quirks={quirks}"
        );
        assert_eq!(user["status"], json!(if quirks { "" } else { "pending" }));
        let (status, created) = call(
            &emulator,
            reqwest::Method::POST,
            "/users",
            Some(json!({"identifier": "q2@example.com"})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(
            created["user"]["status"],
            json!(if quirks { "" } else { "pending" })
        );
    }
}
