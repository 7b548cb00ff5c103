//! What Schemathesis found and the server now enforces: the bearer token of a current-user
//! operation is checked before its body, a request body is a JSON object, and an optional member
//! the specs do not declare nullable may be absent but not `null` (members the API does not know
//! are ignored, `null` or not).

use passage_conformance::CheckedEmulator;
use passage_emulator::{EmulatorConfig, DEFAULT_API_KEY};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn send(
    emulator: &CheckedEmulator,
    method: Method,
    path: &str,
    bearer: Option<&str>,
    body: &str,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", emulator.root_url()))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let resp = request.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_token_is_checked_before_the_body_and_bodies_have_the_specs_shape() {
    let emulator = CheckedEmulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let app = emulator.default_app_id().to_owned();
    // Without a token, a current-user operation is 401 whatever its body.
    for (method, path, body) in [
        (Method::PATCH, "currentuser/email", r#"{"new_email": ""}"#),
        (Method::PATCH, "currentuser/phone", "[1]"),
        (
            Method::PATCH,
            "currentuser/devices/dev_1",
            r#"{"friendly_name": ""}"#,
        ),
        (Method::PATCH, "currentuser/user-metadata", "{"),
        (
            Method::POST,
            "currentuser/devices/start",
            r#"{"authenticator_attachment": 1}"#,
        ),
        (Method::POST, "currentuser/devices/finish", "{}"),
    ] {
        let (status, body) = send(
            &emulator,
            method,
            &format!("/v1/apps/{app}/{path}"),
            None,
            body,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}: {body}");
    }
    // A body that is not an object, and a `null` where the spec allows none: 400.
    let (status, body) = send(
        &emulator,
        Method::POST,
        &format!("/v1/apps/{app}/authenticate/transactions/webauthn/start"),
        None,
        "[1, 2]",
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request")),
        "{body}"
    );
    let (status, body) = send(
        &emulator,
        Method::POST,
        &format!("/v1/apps/{app}/login/webauthn/start"),
        None,
        r#"{"identifier": null}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // An absent member, and a `null` member the API does not know, are fine.
    let (status, _) = send(
        &emulator,
        Method::POST,
        &format!("/v1/apps/{app}/login/webauthn/start"),
        None,
        r#"{"not_a_member": null}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // `transaction_id` is nullable in the spec.
    let (status, body) = send(
        &emulator,
        Method::POST,
        &format!("/v1/apps/{app}/authenticate/transactions/webauthn/start"),
        None,
        r#"{"transaction_id": null}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The Management API the same.
    let users = format!("/management/v1/apps/{app}/users");
    let (status, body) = send(
        &emulator,
        Method::POST,
        &users,
        Some(DEFAULT_API_KEY),
        r#"{"email": "n@example.com", "phone": null}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = send(
        &emulator,
        Method::POST,
        &users,
        Some(DEFAULT_API_KEY),
        &json!({"email": "n@example.com"}).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let user = format!("{users}/{}", body["user"]["id"].as_str().unwrap());
    let (status, body) = send(
        &emulator,
        Method::PATCH,
        &user,
        Some(DEFAULT_API_KEY),
        "[null, null]",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    emulator.assert_conformant();
}
