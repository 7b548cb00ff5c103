//! The Management API on the emulator's listener (`/management/v1`): its access rule, each
//! operation's answers and errors, and the state it shares with the Auth API. (The passkey and
//! Flex ceremonies, which need an authenticator, are in the end-to-end suites of `tests/`.)

mod support;

use passage_conformance::CheckedEmulator;
use passage_emulator::admin_client::FaultRule;
use passage_emulator::base::enums::OutboxKind;
use passage_emulator::{
    AppConfig, EmulatorConfig, EmulatorHandle, FaultKind, MetadataFieldConfig, DEFAULT_API_KEY,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{auth_api, Management};

async fn start(config: EmulatorConfig) -> CheckedEmulator {
    CheckedEmulator::start(config)
        .await
        .expect("emulator starts")
}

/// Two apps, `one` (with a `nickname` metadata field) and `two`, each with its own key.
async fn two_apps() -> CheckedEmulator {
    let app = |id: &str| AppConfig {
        id: id.into(),
        api_keys: vec![format!("{id}-api-key")],
        user_metadata_schema: vec![MetadataFieldConfig {
            field_name: "nickname".into(),
            field_type: "string".into(),
            friendly_name: None,
            profile: true,
            registration: false,
        }],
        ..AppConfig::default()
    };
    start(EmulatorConfig {
        apps: vec![app("one"), app("two")],
        ..EmulatorConfig::default()
    })
    .await
}

fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn every_operation_needs_the_apps_key_and_errors_are_json() {
    let emulator = two_apps().await;
    let one = Management::for_app(&emulator, "one", Some("one-api-key"));
    let user_id = one.create_email_user("key@example.com").await;
    let keyed: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/users".into(), None),
        (
            Method::POST,
            "/users".into(),
            Some(json!({"email": "x@example.com"})),
        ),
        (Method::GET, format!("/users/{user_id}"), None),
        (Method::PATCH, format!("/users/{user_id}"), Some(json!({}))),
        (Method::DELETE, format!("/users/{user_id}"), None),
        (Method::PATCH, format!("/users/{user_id}/activate"), None),
        (Method::PATCH, format!("/users/{user_id}/deactivate"), None),
        (Method::GET, format!("/users/{user_id}/devices"), None),
        (
            Method::DELETE,
            format!("/users/{user_id}/devices/dev_x"),
            None,
        ),
        (Method::DELETE, format!("/users/{user_id}/tokens"), None),
        (
            Method::POST,
            "/magic-links".into(),
            Some(json!({"email": "m@example.com"})),
        ),
        (
            Method::POST,
            "/transactions/register".into(),
            Some(json!({"external_id": "e", "passkey_display_name": "E"})),
        ),
        (
            Method::POST,
            "/transactions/authenticate".into(),
            Some(json!({"external_id": "e"})),
        ),
        (
            Method::POST,
            "/authenticate/verify".into(),
            Some(json!({"nonce": "n"})),
        ),
    ];
    for key in [None, Some("two-api-key"), Some("one-api-kez"), Some("")] {
        for (method, path, body) in &keyed {
            let (status, answer) = one
                .with_key(key)
                .call(method.clone(), path, body.clone())
                .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{key:?} {method} {path}");
            assert_eq!(code(&answer), "invalid_access_token", "{method} {path}");
            assert!(answer["error"].is_string());
        }
    }
    // A malformed body with a wrong key is still a 401: the key is checked first.
    let (status, _) = one
        .with_key(Some("wrong-key-value"))
        .call(Method::POST, "/users", Some(json!("not an object")))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The scheme is case-insensitive; other schemes are refused.
    let url = format!("{}/apps/one/users", emulator.management_base_url());
    let http = reqwest::Client::new();
    for (header, expected) in [
        ("bearer one-api-key", StatusCode::OK),
        ("BEARER one-api-key", StatusCode::OK),
        ("Basic one-api-key", StatusCode::UNAUTHORIZED),
        ("one-api-key", StatusCode::UNAUTHORIZED),
    ] {
        let resp = http
            .get(&url)
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), expected, "{header}");
    }
    // An unknown app is a 404 before the key is looked at.
    let nowhere = Management::for_app(&emulator, "nowhere", None);
    for path in ["", "/users"] {
        let (status, body) = nowhere.call(Method::GET, path, None).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::NOT_FOUND, "app_not_found")
        );
    }
    // Unknown routes and methods under the prefix answer JSON errors too.
    for (method, path) in [
        ("GET", "/management/v1/apps/one/no-such-thing"),
        ("GET", "/management/v1/nothing/here"),
        ("PUT", "/management/v1/apps/one/users"),
    ] {
        emulator.expect_no_operation(method, path);
    }
    let (status, body) = one.call(Method::GET, "/no-such-thing", None).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "invalid_request")
    );
    let (status, body) = one
        .send(
            Method::GET,
            &format!("{}/nothing/here", emulator.management_base_url()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(code(&body), "invalid_request");
    let (status, body) = one.call(Method::PUT, "/users", None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(code(&body), "invalid_request");
}

#[tokio::test]
async fn get_app_is_open_to_anonymous_callers_but_not_to_a_wrong_key() {
    let emulator = start(EmulatorConfig::default()).await;
    let management = Management::new(&emulator);
    let (status, with_key) = management.call(Method::GET, "", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, anonymous) = management.with_key(None).call(Method::GET, "", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(with_key, anonymous);
    let (status, body) = management
        .with_key(Some("not-the-key"))
        .call(Method::GET, "", None)
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "invalid_access_token")
    );
    let app = &with_key["app"];
    assert_eq!(app["id"], emulator.default_app_id());
    assert_eq!(app["type"], "complete");
    assert_eq!(app["auth_methods"]["otp"]["enabled"], true);
    assert_eq!(app["auth_methods"]["magic_link"]["ttl"], 300);
    assert_eq!(app["refresh_enabled"], true);
    for array in [
        "additional_auth_origins",
        "allowed_callback_urls",
        "allowed_logout_urls",
        "technologies",
        "user_metadata_schema",
    ] {
        assert!(app[array].is_array(), "{array}");
    }
    assert!(app["layouts"]["profile"].is_array());
    assert!(app.get("secret").is_none(), "no secret for an API key");
    assert!(!app["rsa_public_key"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn users_are_created_read_changed_and_deleted() {
    let emulator = two_apps().await;
    let one = Management::for_app(&emulator, "one", Some("one-api-key"));
    let two = Management::for_app(&emulator, "two", Some("two-api-key"));
    let (status, body) = one
        .call(
            Method::POST,
            "/users",
            Some(json!({"email": "Ada@Example.COM", "user_metadata": {"nickname": "ada"}, "unknown": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let user = &body["user"];
    assert_eq!(user["email"], "ada@example.com", "stored lower-case");
    assert_eq!(user["phone"], "");
    assert_eq!(user["external_id"], "");
    assert_eq!(user["status"], "pending");
    assert_eq!(user["login_count"], 0);
    assert_eq!(user["last_login_at"], "0001-01-01T00:00:00Z");
    assert_eq!(user["user_metadata"], json!({"nickname": "ada"}));
    assert_eq!(user["webauthn_devices"], json!([]));
    assert_eq!(user["recent_events"], json!([]));
    assert_eq!(user["social_connections"], json!({}));
    let id = user["id"].as_str().unwrap().to_owned();
    assert_eq!(one.user(&id).await, *user);
    let (status, body) = two.call(Method::GET, &format!("/users/{id}"), None).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "user_not_found"),
        "another app's user"
    );

    for bad in [
        json!({}),
        json!({"user_metadata": {"nickname": "x"}}),
        json!({"email": "ada@example.com"}),
        json!({"email": ""}),
        json!({"email": "not-an-address"}),
        json!({"phone": "5551234567"}),
        json!({"email": 7}),
        json!({"email": "new@example.com", "user_metadata": {"shoe_size": 42}}),
        json!({"email": "new@example.com", "user_metadata": {"nickname": 3}}),
    ] {
        let (status, body) = one.call(Method::POST, "/users", Some(bad.clone())).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "{bad}"
        );
    }
    let other = one
        .create_user(json!({"email": "bo@example.com", "phone": "+15551230000"}))
        .await;
    assert_eq!(other["phone"], "+15551230000");

    let path = format!("/users/{id}");
    let (status, same) = one
        .call(
            Method::PATCH,
            &path,
            Some(json!({"email": "ada@example.com"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the user's own address is not taken"
    );
    assert_eq!(same["user"]["email"], "ada@example.com");
    let (status, body) = one
        .call(Method::PATCH, &path, Some(json!({"phone": "+15551230000"})))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_request"),
        "taken"
    );
    let (status, changed) = one
        .call(
            Method::PATCH,
            &path,
            Some(json!({"email": "ADA2@example.com", "phone": "+15557654321", "user_metadata": {"nickname": null}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(changed["user"]["email"], "ada2@example.com");
    assert_eq!(changed["user"]["phone"], "+15557654321");
    assert_eq!(changed["user"]["user_metadata"], Value::Null);
    // The Auth API finds the user by the new identifiers.
    let (status, found) = auth_api_of(&emulator, "one", "/users?identifier=%2B15557654321").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["user"]["id"], json!(id));

    let (status, body) = one.call(Method::DELETE, &path, None).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, Value::Null),
        "200 without a body"
    );
    for method in [Method::DELETE, Method::GET] {
        let (status, body) = one.call(method, &path, None).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::NOT_FOUND, "user_not_found")
        );
    }
    let (status, body) = one
        .call(Method::PATCH, "/users/usr_missing/activate", None)
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "user_not_found")
    );
}

/// `GET /v1/apps/{app_id}{path}` on the Auth API.
async fn auth_api_of(emulator: &EmulatorHandle, app_id: &str, path: &str) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .get(format!("{}/apps/{app_id}{path}", emulator.base_url()))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Registers `email` through the Auth API by passcode; returns the auth result.
async fn register_by_otp(emulator: &EmulatorHandle, email: &str) -> Value {
    let (status, body) = auth_api(
        emulator,
        Method::POST,
        "/register/otp",
        None,
        Some(json!({"identifier": email})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{}", code(&body));
    login_with_last_otp(emulator, email).await
}

async fn login_with_last_otp(emulator: &EmulatorHandle, email: &str) -> Value {
    let message = emulator.outbox(email).pop().expect("a passcode was sent");
    let (status, body) = auth_api(
        emulator,
        Method::POST,
        "/otp/activate",
        None,
        Some(json!({"otp": message.otp, "otp_id": message.otp_id})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", code(&body));
    body["auth_result"].clone()
}

#[tokio::test]
async fn deactivation_refuses_logins_and_revocation_ends_sessions() {
    let emulator = start(EmulatorConfig::default()).await;
    let management = Management::new(&emulator);
    let auth = register_by_otp(&emulator, "dee@example.com").await;
    let listed = management.users().await;
    assert_eq!(
        listed.len(),
        1,
        "a user registered through the Auth API is listed"
    );
    let id = listed[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(listed[0]["status"], "active");
    assert_eq!(listed[0]["login_count"], 1);
    assert_ne!(listed[0]["last_login_at"], "0001-01-01T00:00:00Z");

    let user = management.set_active(&id, false).await;
    assert_eq!(user["status"], "inactive");
    // Deactivation ends the user's sessions: their refresh token is refused.
    let (status, err) = auth_api(
        &emulator,
        Method::POST,
        "/tokens",
        None,
        Some(json!({"refresh_token": auth["refresh_token"]})),
    )
    .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNAUTHORIZED, "invalid_refresh_token")
    );
    let body = json!({"identifier": "dee@example.com"});
    for path in ["/login/otp", "/login/magic-link", "/login/webauthn/start"] {
        let (status, err) = auth_api(&emulator, Method::POST, path, None, Some(body.clone())).await;
        assert_eq!(
            (status, code(&err)),
            (StatusCode::FORBIDDEN, "user_not_active"),
            "{path}"
        );
    }
    let user = management.set_active(&id, true).await;
    assert_eq!(user["status"], "active");
    let second = {
        let (status, _) = auth_api(
            &emulator,
            Method::POST,
            "/login/otp",
            None,
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        login_with_last_otp(&emulator, "dee@example.com").await
    };

    let (status, body) = management
        .call(Method::DELETE, &format!("/users/{id}/tokens"), None)
        .await;
    assert_eq!((status, body), (StatusCode::OK, Value::Null));
    for session in [&auth, &second] {
        let (status, err) = auth_api(
            &emulator,
            Method::POST,
            "/tokens",
            None,
            Some(json!({"refresh_token": session["refresh_token"]})),
        )
        .await;
        assert_eq!(
            (status, code(&err)),
            (StatusCode::UNAUTHORIZED, "invalid_refresh_token")
        );
    }
    // The auth token stays valid until it expires.
    let (status, _) = auth_api(
        &emulator,
        Method::GET,
        "/currentuser",
        second["auth_token"].as_str(),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = management
        .call(Method::DELETE, "/users/usr_missing/tokens", None)
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "user_not_found")
    );

    // An app without refresh tokens refuses the revocation.
    emulator
        .admin()
        .update_app_raw(emulator.default_app_id(), &json!({"refresh_tokens": false}))
        .await
        .unwrap();
    let (status, body) = management
        .call(Method::DELETE, &format!("/users/{id}/tokens"), None)
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "operation_not_allowed")
    );

    // Deleting the user ends what is left.
    management
        .call(Method::DELETE, &format!("/users/{id}"), None)
        .await;
    let (status, err) = auth_api(
        &emulator,
        Method::GET,
        "/currentuser",
        second["auth_token"].as_str(),
        None,
    )
    .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::NOT_FOUND, "user_not_found")
    );
}

#[tokio::test]
async fn devices_of_unknown_users_and_unknown_devices_are_404() {
    let emulator = start(EmulatorConfig::default()).await;
    let management = Management::new(&emulator);
    let id = management.create_email_user("dev@example.com").await;
    let (status, body) = management
        .call(Method::GET, &format!("/users/{id}/devices"), None)
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"devices": []})));
    let (status, body) = management
        .call(Method::GET, "/users/usr_missing/devices", None)
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "user_not_found")
    );
    let (status, body) = management
        .call(
            Method::DELETE,
            &format!("/users/{id}/devices/dev_missing"),
            None,
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "device_not_found")
    );
    let (status, body) = management
        .call(
            Method::DELETE,
            "/users/usr_missing/devices/dev_missing",
            None,
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "user_not_found")
    );
}

#[tokio::test]
async fn magic_links_are_handed_back_or_sent_and_activate_through_the_auth_api() {
    let emulator = start(EmulatorConfig::default()).await;
    let management = Management::new(&emulator);
    // An address no user has yet: a pending user is made, nothing is sent.
    let (status, body) = management
        .call(
            Method::POST,
            "/magic-links",
            Some(json!({"email": "New@Example.com", "type": "login", "send": false, "ttl": 12})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{}", code(&body));
    let link = &body["magic_link"];
    assert_eq!(link["identifier"], "new@example.com");
    assert_eq!(link["ttl"], 12);
    assert_eq!(link["activated"], false);
    assert_eq!(link["type"], "login");
    assert_eq!(link["app_id"], emulator.default_app_id());
    assert_eq!(link["redirect_url"], "/dashboard");
    let secret = link["secret"].as_str().unwrap();
    assert!(link["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/login?psg_magic_link={secret}")));
    assert!(emulator.outbox("new@example.com").is_empty(), "not sent");
    let user_id = link["user_id"].as_str().unwrap().to_owned();
    assert_eq!(management.user(&user_id).await["status"], "pending");
    let (status, activated) = auth_api(
        &emulator,
        Method::PATCH,
        "/magic-link/activate",
        None,
        Some(json!({"magic_link": secret})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", code(&activated));
    assert!(activated["auth_result"]["auth_token"].is_string());
    let user = management.user(&user_id).await;
    assert_eq!(user["status"], "active");
    assert_eq!(user["email_verified"], true);
    assert_eq!(user["login_count"], 1);

    // The link expires after its ttl (minutes).
    let (_, body) = management
        .call(
            Method::POST,
            "/magic-links",
            Some(json!({"email": "new@example.com", "ttl": 1})),
        )
        .await;
    emulator.advance_clock(61);
    let (status, err) = auth_api(
        &emulator,
        Method::PATCH,
        "/magic-link/activate",
        None,
        Some(json!({"magic_link": body["magic_link"]["secret"]})),
    )
    .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNAUTHORIZED, "invalid_magic_link")
    );

    // Sent when asked, to the user's identifier on the channel; a verification link works too.
    let phone_user = management
        .create_user(json!({"phone": "+15550001111"}))
        .await;
    let (status, body) = management
        .call(
            Method::POST,
            "/magic-links",
            Some(json!({
                "user_id": phone_user["id"], "channel": "phone", "send": true,
                "type": "verify_identifier", "magic_link_path": "/welcome",
                "redirect_url": "/after", "language": "de"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{}", code(&body));
    let link = &body["magic_link"];
    assert_eq!(link["type"], "verify_identifier");
    assert_eq!(link["ttl"], 5, "the app's 300 s, in minutes");
    let sent = emulator.outbox("+15550001111");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind, OutboxKind::MagicLink);
    assert_eq!(sent[0].magic_link_url.as_deref(), link["url"].as_str());
    assert!(link["url"]
        .as_str()
        .unwrap()
        .contains("/welcome?psg_magic_link="));
    let (status, activated) = auth_api(
        &emulator,
        Method::PATCH,
        "/magic-link/activate",
        None,
        Some(json!({"magic_link": link["secret"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(activated["auth_result"]["redirect_url"], "/after");
    assert_eq!(
        management.user(phone_user["id"].as_str().unwrap()).await["phone_verified"],
        true
    );

    for bad in [
        json!({}),
        json!({"email": "a@example.com", "phone": "+15550001111"}),
        json!({"email": "a@example.com", "channel": "phone"}),
        json!({"phone": "+15550001111", "channel": "email"}),
        json!({"phone": "555"}),
        json!({"user_id": phone_user["id"]}),
        json!({"user_id": phone_user["id"], "channel": "email"}),
        json!({"user_id": "", "channel": "email"}),
        json!({"email": "a@example.com", "ttl": 0}),
        json!({"email": "a@example.com", "type": "shout"}),
        json!({"email": "a@example.com", "language": "xx"}),
        json!({"email": "a@example.com", "send": "yes"}),
        json!({"email": "a@example.com", "magic_link_path": "https://evil.example/x"}),
        json!({"email": "a@example.com", "magic_link_path": "//evil.example/x"}),
    ] {
        let (status, body) = management
            .call(Method::POST, "/magic-links", Some(bad.clone()))
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "{bad}"
        );
    }
    let (status, body) = management
        .call(
            Method::POST,
            "/magic-links",
            Some(json!({"user_id": "usr_missing", "channel": "email"})),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "user_not_found")
    );
    // A huge ttl is not an overflow.
    let (status, _) = management
        .call(
            Method::POST,
            "/magic-links",
            Some(json!({"email": "a@example.com", "ttl": i64::MAX})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn transactions_make_flex_users_and_bad_nonces_are_refused() {
    let emulator = start(EmulatorConfig::default()).await;
    let management = Management::new(&emulator);
    let (status, body) = management
        .call(
            Method::POST,
            "/transactions/register",
            Some(json!({"external_id": "customer-42", "passkey_display_name": "ada@corp"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["transaction_id"].as_str().unwrap().starts_with("txn_"));
    // The Flex user is found by external id, as the Flex SDKs look it up.
    let (status, page) = management
        .call(
            Method::GET,
            "/users?page=1&limit=1&identifier=customer-42",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total_users"], 1);
    let user = &page["users"][0];
    assert_eq!(user["external_id"], "customer-42");
    assert_eq!(
        (user["email"].as_str(), user["phone"].as_str()),
        (Some(""), Some(""))
    );
    let (status, again) = management
        .call(
            Method::POST,
            "/transactions/register",
            Some(json!({"external_id": "customer-42", "passkey_display_name": "ada@corp"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(again["transaction_id"], body["transaction_id"]);
    assert_eq!(management.users().await.len(), 1, "the same user again");

    let (status, err) = management
        .call(
            Method::POST,
            "/transactions/authenticate",
            Some(json!({"external_id": "customer-42"})),
        )
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::CONFLICT, "user_has_no_passkeys")
    );
    let (status, err) = management
        .call(
            Method::POST,
            "/transactions/authenticate",
            Some(json!({"external_id": "nobody"})),
        )
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::NOT_FOUND, "user_not_found")
    );
    let id = user["id"].as_str().unwrap();
    management.set_active(id, false).await;
    let (status, err) = management
        .call(
            Method::POST,
            "/transactions/register",
            Some(json!({"external_id": "customer-42", "passkey_display_name": "x"})),
        )
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::FORBIDDEN, "cannot_create_transaction")
    );
    for (path, bad) in [
        ("/transactions/register", json!({"external_id": "x"})),
        (
            "/transactions/register",
            json!({"external_id": "", "passkey_display_name": "x"}),
        ),
        (
            "/transactions/register",
            json!({"external_id": "x", "passkey_display_name": ""}),
        ),
        ("/transactions/authenticate", json!({})),
        ("/transactions/authenticate", json!({"external_id": ""})),
        ("/authenticate/verify", json!({})),
        ("/authenticate/verify", json!({"nonce": 5})),
    ] {
        let (status, body) = management.call(Method::POST, path, Some(bad.clone())).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "{path} {bad}"
        );
    }
    for nonce in ["", "never-issued"] {
        let (status, err) = management
            .call(
                Method::POST,
                "/authenticate/verify",
                Some(json!({"nonce": nonce})),
            )
            .await;
        assert_eq!(
            (status, code(&err)),
            (StatusCode::UNAUTHORIZED, "invalid_nonce"),
            "{nonce:?}"
        );
    }
}

/// Creates `n` users `page{i}@example.com`, a second apart (so that their creation times differ).
async fn users_a_second_apart(
    emulator: &EmulatorHandle,
    management: &Management,
    n: usize,
) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(
            management
                .create_email_user(&format!("page{i}@example.com"))
                .await,
        );
        emulator.advance_clock(1);
    }
    ids
}

#[tokio::test]
async fn list_pages_are_exact_with_links_totals_and_the_anchor() {
    let emulator = start(EmulatorConfig::default()).await;
    let management = Management::new(&emulator);
    let ids = users_a_second_apart(&emulator, &management, 7).await;
    let newest_first: Vec<&String> = ids.iter().rev().collect();
    let (status, first) = management.call(Method::GET, "/users?limit=3", None).await;
    assert_eq!(status, StatusCode::OK);
    let page_ids = |page: &Value| -> Vec<String> {
        page["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        page_ids(&first),
        newest_first[..3]
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
    );
    assert_eq!(first["total_users"], 7);
    assert_eq!(
        (first["page"].as_i64(), first["limit"].as_i64()),
        (Some(1), Some(3))
    );
    let anchor = first["created_before"].as_i64().unwrap();
    assert_eq!(anchor, emulator.now());
    let links = &first["_links"];
    assert_eq!(links["previous"]["href"], "");
    let host = emulator.root_url().trim_start_matches("http://");
    let href = |page: u32| {
        format!(
            "{host}/management/v1/apps/{}/users?created_before={anchor}&limit=3&order_by=created_at%3ADESC&page={page}",
            emulator.default_app_id()
        )
    };
    assert_eq!(links["self"]["href"], href(1));
    assert_eq!(links["first"]["href"], href(1));
    assert_eq!(links["next"]["href"], href(2));
    assert_eq!(links["last"]["href"], href(3));

    // A user created after the anchor does not shift the pages that follow the links.
    emulator.advance_clock(5);
    management.create_email_user("late@example.com").await;
    let follow = |href: &str| {
        let url = format!("http://{href}");
        let management = management.clone();
        async move { management.send(Method::GET, &url, None).await }
    };
    let (_, second) = follow(links["next"]["href"].as_str().unwrap()).await;
    assert_eq!(
        page_ids(&second),
        newest_first[3..6]
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
    );
    let (_, last) = follow(links["last"]["href"].as_str().unwrap()).await;
    assert_eq!(page_ids(&last), vec![ids[0].clone()]);
    assert_eq!(last["_links"]["next"]["href"], "");
    assert_eq!(last["_links"]["previous"]["href"], href(2));
    assert_eq!(last["total_users"], 7);
    let (_, now) = management.call(Method::GET, "/users?limit=3", None).await;
    assert_eq!(
        now["total_users"], 8,
        "without the anchor the new user counts"
    );
    let (_, past_the_end) = management
        .call(
            Method::GET,
            &format!("/users?limit=3&page=9&created_before={anchor}"),
            None,
        )
        .await;
    assert_eq!(past_the_end["users"], json!([]));
    assert_eq!(past_the_end["total_users"], 7);

    // Ascending order and a filter; the filter is carried in the links.
    let (_, ascending) = management
        .call(
            Method::GET,
            &format!("/users?order_by=created_at:asc&limit=2&created_before={anchor}&identifier=like:PAGE"),
            None,
        )
        .await;
    assert_eq!(page_ids(&ascending), ids[..2].to_vec());
    assert!(ascending["_links"]["next"]["href"]
        .as_str()
        .unwrap()
        .ends_with("order_by=created_at%3AASC&page=2&identifier=like%3APAGE"));
    for bad in [
        "page=0",
        "limit=501",
        "limit=abc",
        "order_by=identifier:ASC",
        "order_by=created_at",
        "status=asleep",
        "login_count=like:1",
        "created_at=yesterday",
        "created_before=tomorrow",
    ] {
        let (status, body) = management
            .call(Method::GET, &format!("/users?{bad}"), None)
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "{bad}"
        );
    }
    // The lookup every official SDK makes: limit=1 and the identifier, an unencoded `+` included.
    let phone = management
        .create_user(json!({"phone": "+15559998888"}))
        .await;
    for query in ["identifier=%2B15559998888", "identifier=+15559998888"] {
        let (_, found) = management
            .call(Method::GET, &format!("/users?limit=1&{query}"), None)
            .await;
        assert_eq!(found["users"][0]["id"], phone["id"], "{query}");
        assert_eq!(found["total_users"], 1);
    }
    let (_, none) = management
        .call(
            Method::GET,
            "/users?limit=1&identifier=nobody%40example.com",
            None,
        )
        .await;
    assert_eq!(none["users"], json!([]));
}

#[tokio::test]
async fn faults_and_the_request_log_cover_the_management_api() {
    let emulator = start(EmulatorConfig::default()).await;
    let management = Management::new(&emulator);
    let path = format!("/management/v1/apps/{}/users", emulator.default_app_id());
    emulator.inject_fault(FaultRule {
        path_prefix: path.clone(),
        method: Some("GET".into()),
        count: 1,
        kind: FaultKind::Status503,
        retry_after: Some(7),
        delay_ms: None,
        status: None,
    });
    let (status, body) = management.call(Method::GET, "/users", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(code(&body), "internal_server_error");
    let (status, _) = management.call(Method::GET, "/users", None).await;
    assert_eq!(status, StatusCode::OK, "the fault was used up");
    let logged: Vec<(String, String, Option<u16>)> = emulator
        .requests()
        .into_iter()
        .map(|r| (r.method, r.path, r.status))
        .collect();
    assert_eq!(
        logged,
        [
            ("GET".to_owned(), path.clone(), Some(503)),
            ("GET".to_owned(), path, Some(200)),
        ]
    );
    // An Auth API fault under `/v1` does not touch the Management API's paths.
    emulator.inject_fault(FaultRule {
        path_prefix: format!("/v1/apps/{}/users", emulator.default_app_id()),
        method: None,
        count: 1,
        kind: FaultKind::Status500,
        retry_after: None,
        delay_ms: None,
        status: None,
    });
    let (status, _) = management.call(Method::GET, "/users", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_api_key_never_reaches_the_request_log() {
    let emulator = start(EmulatorConfig::default()).await;
    let management = Management::new(&emulator);
    management.call(Method::GET, "/users", None).await;
    let log = format!("{:?}", emulator.requests());
    assert!(!log.contains(DEFAULT_API_KEY), "{log}");
}
