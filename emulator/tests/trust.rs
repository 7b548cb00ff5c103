//! The emulator's trust boundary (issue "trust"): other web pages cannot drive the admin API or
//! read the UI, DNS-rebinding `Host`s are refused, secrets are not kept in clear in the state file,
//! inputs are bounded and clean, path encodings and fault statuses stay within what the spec and a
//! client can take, and a deactivated user does not stay signed in.
//!
//! Requests are written by hand on a TCP socket, so that every header (a forged `Host`, an `Origin`,
//! no `Content-Type` at all) is exactly what a browser or an attacker would send.

mod support;

use std::net::SocketAddr;

use passage_conformance::CheckedEmulator;
use passage_emulator::admin_client::ApiKeySource;
use passage_emulator::settings::NewUser;
use passage_emulator::{EmulatorConfig, EmulatorHandle};
use serde_json::{json, Value};
use support::Management;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const APP: &str = "emulator-app";

async fn start(config: EmulatorConfig) -> CheckedEmulator {
    CheckedEmulator::start(config)
        .await
        .expect("emulator starts")
}

/// One HTTP/1.1 request (`method_and_target`: `GET /path`) with exactly these headers (and a `Host`
/// naming `addr` unless one is given) and `body`; returns the status and the body.
async fn raw(
    addr: SocketAddr,
    method_and_target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let (status, _, body) = exchange(addr, method_and_target, headers, body).await;
    (status, body)
}

/// Like [`raw`], with the `Location` header of the answer.
async fn exchange(
    addr: SocketAddr,
    method_and_target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Option<String>, String) {
    let mut request = format!("{method_and_target} HTTP/1.1\r\nconnection: close\r\n");
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"))
    {
        request.push_str(&format!("host: {addr}\r\n"));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        request.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(body);
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    stream.write_all(request.as_bytes()).await.expect("writes");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("reads");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"));
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let location = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("location")
            .then(|| value.trim().to_owned())
    });
    (status, location, body.to_owned())
}

/// The path and query of a URL on the emulator (what a `Location` points at).
fn target(url: &str) -> String {
    let url = url::Url::parse(url).expect("a URL");
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

/// The value of query parameter `name` in `url`.
fn query_param(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .expect("a URL")
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no {name} in the redirect"))
}

fn code(body: &str) -> String {
    // Chunked bodies carry a size line first; the JSON object is what is between the braces.
    let json = body
        .find('{')
        .and_then(|start| body.rfind('}').map(|end| &body[start..=end]))
        .unwrap_or("{}");
    serde_json::from_str::<Value>(json).expect("JSON body")["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn user_count(emulator: &EmulatorHandle) -> usize {
    Management::new(emulator).users().await.len()
}

/// API keys made through the admin API (what the admin write below makes).
async fn made_key_count(emulator: &EmulatorHandle) -> usize {
    emulator
        .admin()
        .api_keys(APP)
        .await
        .expect("api keys")
        .iter()
        .filter(|k| k.source == ApiKeySource::Created)
        .count()
}

/// A user made through the Management API; returns their id.
async fn make_user(emulator: &EmulatorHandle, email: &str) -> String {
    Management::new(emulator).create_email_user(email).await
}

#[tokio::test]
async fn other_web_pages_cannot_drive_the_admin_api() {
    let emulator = start(EmulatorConfig::default()).await;
    let addr = emulator.addr();
    // An admin write: making an API key.
    let users = format!("POST /_emulator/apps/{APP}/api-keys");
    let new_user = r#"{"name":"victim"}"#;
    let before = emulator.now();

    // A "simple" request a page on any origin can send without a preflight: text/plain.
    let (status, _) = raw(
        addr,
        &users,
        &[
            ("origin", "https://evil.example"),
            ("content-type", "text/plain"),
        ],
        new_user,
    )
    .await;
    assert_eq!(status, 403);
    // The same from a loopback page (its origin is allowed, its content type is not).
    let (status, body) = raw(
        addr,
        &users,
        &[
            ("origin", "http://localhost:3000"),
            ("content-type", "text/plain;charset=UTF-8"),
        ],
        new_user,
    )
    .await;
    assert_eq!((status, code(&body).as_str()), (415, "invalid_request"));
    // An HTML form post.
    let (status, _) = raw(
        addr,
        &users,
        &[("content-type", "application/x-www-form-urlencoded")],
        "name=victim",
    )
    .await;
    assert_eq!(status, 415);
    // `Origin: null` (a sandboxed frame, a file: page) and a cross-site fetch, even with JSON.
    for headers in [
        [("origin", "null"), ("content-type", "application/json")],
        [
            ("sec-fetch-site", "cross-site"),
            ("content-type", "application/json"),
        ],
        [
            ("origin", "http://evil.example:1"),
            ("content-type", "application/json"),
        ],
    ] {
        let (status, body) = raw(addr, &users, &headers, new_user).await;
        assert_eq!(
            (status, code(&body).as_str()),
            (403, "origin_not_allowed"),
            "{headers:?}"
        );
        let (status, _) = raw(
            addr,
            "POST /_emulator/clock/advance",
            &headers,
            r#"{"seconds":600}"#,
        )
        .await;
        assert_eq!(status, 403, "{headers:?}");
    }
    // Reads are refused to other pages too (the outbox holds passcodes).
    let (status, _) = raw(
        addr,
        "GET /_emulator/outbox",
        &[("origin", "https://evil.example")],
        "",
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = raw(
        addr,
        "GET /_emulator/ui",
        &[("sec-fetch-site", "cross-site")],
        "",
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(made_key_count(&emulator).await, 0, "nothing was created");
    assert!(emulator.now() - before < 600, "the clock did not move");

    // What stays allowed: tools without Origin, the emulator's own pages and loopback pages, with
    // JSON; bodiless writes without a Content-Type.
    for headers in [
        vec![("content-type", "application/json")],
        vec![
            ("origin", &*format!("http://{addr}")),
            ("content-type", "application/json; charset=utf-8"),
        ],
        vec![
            ("origin", "http://localhost:5173"),
            ("content-type", "application/json"),
        ],
    ] {
        let name = format!("ok{}", made_key_count(&emulator).await);
        let (status, _) = raw(addr, &users, &headers, &json!({ "name": name }).to_string()).await;
        assert_eq!(status, 201, "{headers:?}");
    }
    let (status, _) = raw(
        addr,
        "DELETE /_emulator/outbox",
        &[("origin", &*format!("http://{addr}"))],
        "",
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(made_key_count(&emulator).await, 3);
    make_user(&emulator, "reset@example.com").await;
    let (status, _) = raw(addr, "POST /_emulator/reset", &[], "").await;
    assert_eq!(status, 204);
    assert_eq!(user_count(&emulator).await, 0);
    // The fake provider's page is reached by browsers in a social login: not an admin call.
    let (status, _) = raw(
        addr,
        "GET /_emulator/health",
        &[("sec-fetch-site", "cross-site")],
        "",
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_dns_rebinding_host_gets_nothing() {
    let emulator = start(EmulatorConfig::default()).await;
    let addr = emulator.addr();
    make_user(&emulator, "ada@example.com").await;
    let (status, _) = raw(
        addr,
        &format!("POST /v1/apps/{APP}/login/otp"),
        &[("content-type", "application/json")],
        r#"{"identifier":"ada@example.com"}"#,
    )
    .await;
    assert_eq!(status, 201);
    let port = addr.port();
    let evil = format!("evil.example:{port}");
    for target in [
        "GET /_emulator/outbox",
        "GET /_emulator/ui",
        "GET /_emulator/ui/panels",
        "GET /_emulator/health",
        &*format!("GET /v1/apps/{APP}"),
        &*format!("OPTIONS /v1/apps/{APP}/login/otp"),
    ] {
        let (status, body) = raw(addr, target, &[("host", &evil)], "").await;
        assert_eq!(
            (status, code(&body).as_str()),
            (403, "host_not_allowed"),
            "{target}"
        );
        assert!(
            !body.contains("ada@example.com") && !body.contains("otp"),
            "{target}: {body}"
        );
    }
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
    ] {
        let (status, body) = raw(addr, "GET /_emulator/outbox", &[("host", &host)], "").await;
        assert_eq!(status, 200, "{host}");
        assert!(body.contains("ada@example.com"));
    }

    // A name the developer reaches the emulator by is configured.
    let named = start(EmulatorConfig {
        allowed_hosts: vec!["emulator.internal".into()],
        ..EmulatorConfig::default()
    })
    .await;
    let host = format!("emulator.internal:{}", named.addr().port());
    let (status, _) = raw(
        named.addr(),
        "GET /_emulator/outbox",
        &[("host", &host)],
        "",
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = raw(
        named.addr(),
        "GET /_emulator/outbox",
        &[("host", &evil)],
        "",
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_router_behind_a_host_checking_front_accepts_its_hosts() {
    use passage_emulator::http::host_guard::HostVerified;
    use tower::ServiceExt;
    let state =
        passage_emulator::domain::seeding::new_state(vec![Default::default()]).expect("state");
    let ctx = std::sync::Arc::new(passage_emulator::context::Context::new(
        state,
        "http://127.0.0.1:1".into(),
        None,
    ));
    let router = passage_emulator::http::router(ctx);
    let request = || {
        http::Request::get(format!("/v1/apps/{APP}"))
            .header("host", "auth.passage.id")
            .body(axum::body::Body::empty())
            .expect("request")
    };
    let refused = router.clone().oneshot(request()).await.expect("answer");
    assert_eq!(refused.status(), 403);
    let served = router
        .layer(axum::Extension(HostVerified))
        .oneshot(request())
        .await
        .expect("answer");
    assert_eq!(served.status(), 200);
}

/// `/v1` JSON call on the socket: (status, body as JSON).
async fn v1(
    emulator: &EmulatorHandle,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let auth = bearer.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("content-type", "application/json")];
    if let Some(auth) = &auth {
        headers.push(("authorization", auth));
    }
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let (status, text) = raw(
        emulator.addr(),
        &format!("{method} /v1{path}"),
        &headers,
        &body,
    )
    .await;
    let json = text
        .find(['{', '['])
        .and_then(|start| text.rfind(['}', ']']).map(|end| &text[start..=end]))
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or(Value::Null);
    (status, json)
}

#[tokio::test]
async fn path_parameters_that_are_not_utf8_get_a_declared_status() {
    let emulator = start(EmulatorConfig::default()).await;
    let user_id = make_user(&emulator, "ada@example.com").await;
    let token = emulator
        .admin()
        .create_session(APP, &user_id)
        .await
        .expect("session")
        .auth_token;
    // The seven operations that declare no 400 answer 404 as for any unknown app or device.
    for (path, bearer) in [
        ("/apps/%ff%fe", None),
        ("/apps/%ff%fe/.well-known/jwks.json", None),
        ("/apps/%ff%fe/.well-known/openid-configuration", None),
        ("/apps/%ff%fe/currentuser", Some(token.as_str())),
        ("/apps/%ff%fe/currentuser/devices", Some(&token)),
        ("/apps/%ff%fe/currentuser/social-connections", Some(&token)),
    ] {
        let (status, body) = v1(&emulator, "GET", path, bearer, None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("app_not_found")),
            "{path}"
        );
    }
    let (status, body) = v1(
        &emulator,
        "DELETE",
        "/apps/%ff%fe/currentuser/devices/dev_1",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("app_not_found"))
    );
    let (status, _) = v1(
        &emulator,
        "DELETE",
        &format!("/apps/{APP}/currentuser/devices/%c3%28"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn identifiers_are_bounded_and_clean() {
    let emulator = start(EmulatorConfig::default()).await;
    let user_id = make_user(&emulator, "ada@example.com").await;
    let token = emulator
        .admin()
        .create_session(APP, &user_id)
        .await
        .expect("session")
        .auth_token;
    // A 1 MB address (within the 1 MiB body limit).
    let huge = format!("{}@example.com", "a".repeat(1_000_000));
    let too_long = format!("{}@{}.example", "a".repeat(64), "d".repeat(182));
    assert_eq!(too_long.len(), 255);
    for identifier in [
        huge.as_str(),
        &too_long,
        &format!("{}@example.com", "a".repeat(65)),
        "ada\u{0}@example.com",
        "ada\u{200b}@example.com",
        "\u{feff}ada@example.com",
        "+1555\u{200d}1234567",
        "+1234567890123456",
    ] {
        for path in [
            "register/otp",
            "register/magic-link",
            "register/webauthn/start",
            "login/otp",
            "users",
        ] {
            let (status, body) = v1(
                &emulator,
                "POST",
                &format!("/apps/{APP}/{path}"),
                None,
                Some(json!({"identifier": identifier})),
            )
            .await;
            assert_eq!(
                (status, body["code"].as_str()),
                (400, Some("invalid_request")),
                "{path} {:?}",
                &identifier[..identifier.len().min(40)]
            );
        }
        let (status, _) = v1(
            &emulator,
            "PATCH",
            &format!("/apps/{APP}/currentuser/email"),
            Some(&token),
            Some(json!({"new_email": identifier})),
        )
        .await;
        assert_eq!(status, 400);
        let (status, _) = v1(
            &emulator,
            "PATCH",
            &format!("/apps/{APP}/currentuser/phone"),
            Some(&token),
            Some(json!({"new_phone": identifier})),
        )
        .await;
        assert_eq!(status, 400);
        let member = if identifier.contains('@') {
            "email"
        } else {
            "phone"
        };
        let (status, _) = Management::new(&emulator)
            .call(
                reqwest::Method::POST,
                "/users",
                Some(json!({ member: identifier })),
            )
            .await;
        assert_eq!(status, 400, "the Management API's create_user");
    }
    assert_eq!(
        user_count(&emulator).await,
        1,
        "no user was made of a bad identifier"
    );
    assert!(emulator
        .admin()
        .outbox(None)
        .await
        .expect("outbox")
        .is_empty());
    // The longest addresses RFC 5321 allows are fine.
    let longest = format!("{}@{}.example", "a".repeat(64), "d".repeat(181));
    assert_eq!(longest.len(), 254);
    let (status, _) = v1(
        &emulator,
        "POST",
        &format!("/apps/{APP}/register/otp"),
        None,
        Some(json!({"identifier": longest})),
    )
    .await;
    assert_eq!(status, 201);
    // Seed users follow the same rules.
    let seeded = CheckedEmulator::start(EmulatorConfig {
        seed: passage_emulator::settings::SeedConfig {
            users: vec![passage_emulator::settings::SeedUser {
                app_id: None,
                user: NewUser::new("zero\u{200b}width@example.com"),
            }],
        },
        ..EmulatorConfig::default()
    })
    .await;
    assert!(
        seeded.is_err(),
        "a seed user with an invisible character is refused"
    );
}

#[tokio::test]
async fn the_outbox_is_bounded_per_app() {
    let emulator = start(EmulatorConfig::default()).await;
    let cap = passage_emulator::model::Outbox::PER_APP;
    for n in 0..(cap + 20) {
        let (status, _) = v1(
            &emulator,
            "POST",
            &format!("/apps/{APP}/register/otp"),
            None,
            Some(json!({"identifier": format!("u{n}@example.com")})),
        )
        .await;
        assert_eq!(status, 201);
    }
    let outbox = emulator.admin().outbox(None).await.expect("outbox");
    assert_eq!(outbox.len(), cap);
    assert_eq!(
        outbox[0].identifier, "u20@example.com",
        "the oldest were dropped"
    );
    // A magic link's path cannot make a message large.
    let (status, _) = v1(
        &emulator,
        "POST",
        &format!("/apps/{APP}/register/magic-link"),
        None,
        Some(json!({"identifier": "x@example.com", "magic_link_path": "/".repeat(4096)})),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_deactivated_user_does_not_stay_signed_in() {
    let emulator = start(EmulatorConfig::default()).await;
    let admin = emulator.admin();
    let management = Management::new(&emulator);
    let user_id = make_user(&emulator, "ada@example.com").await;
    let session = admin.create_session(APP, &user_id).await.expect("session");
    let other = admin
        .create_session(APP, &user_id)
        .await
        .expect("second session");
    let (status, _) = v1(
        &emulator,
        "GET",
        &format!("/apps/{APP}/currentuser"),
        Some(&session.auth_token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    management.set_active(&user_id, false).await;
    for path in [
        "currentuser",
        "currentuser/devices",
        "currentuser/user-metadata",
        "currentuser/social-connections",
    ] {
        let (status, body) = v1(
            &emulator,
            "GET",
            &format!("/apps/{APP}/{path}"),
            Some(&session.auth_token),
            None,
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("user_not_active")),
            "{path}"
        );
    }
    for refresh in [&session.refresh_token, &other.refresh_token] {
        let (status, body) = v1(
            &emulator,
            "POST",
            &format!("/apps/{APP}/tokens"),
            None,
            Some(json!({"refresh_token": refresh})),
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("invalid_refresh_token"))
        );
    }
    // Reactivated, the user logs in again, but the revoked sessions stay revoked.
    management.set_active(&user_id, true).await;
    let (status, _) = v1(
        &emulator,
        "POST",
        &format!("/apps/{APP}/tokens"),
        None,
        Some(json!({"refresh_token": session.refresh_token})),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = v1(
        &emulator,
        "GET",
        &format!("/apps/{APP}/currentuser"),
        Some(&session.auth_token),
        None,
    )
    .await;
    assert_eq!(
        status, 200,
        "an unexpired auth token works again once the user is active"
    );
}

#[tokio::test]
async fn faults_only_arm_statuses_a_client_can_receive() {
    let emulator = start(EmulatorConfig::default()).await;
    for status in [100, 101, 199, 204, 205, 304, 600, 0] {
        let (answer, body) = raw(
            emulator.addr(),
            "POST /_emulator/faults",
            &[("content-type", "application/json")],
            &json!({"path_prefix": "/v1", "kind": "non_json_body", "status": status}).to_string(),
        )
        .await;
        assert_eq!(
            (answer, code(&body).as_str()),
            (400, "invalid_request"),
            "{status}"
        );
    }
    assert!(emulator.admin().faults().await.expect("faults").is_empty());
    let (answer, _) = raw(
        emulator.addr(),
        "POST /_emulator/faults",
        &[("content-type", "application/json")],
        &json!({"path_prefix": "/v1", "kind": "non_json_body", "status": 502}).to_string(),
    )
    .await;
    assert_eq!(answer, 201);
}

#[tokio::test]
async fn the_state_file_holds_no_secret_handed_out() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("state.db");
    let emulator = start(EmulatorConfig {
        state_file: Some(path.clone()),
        ..EmulatorConfig::default()
    })
    .await;
    let mut secrets: Vec<String> = Vec::new();
    // Passcodes (registration and login) and their sessions.
    let (_, sent) = v1(
        &emulator,
        "POST",
        &format!("/apps/{APP}/register/otp"),
        None,
        Some(json!({"identifier": "ada@example.com"})),
    )
    .await;
    let otp_id = sent["otp_id"].as_str().expect("otp id").to_owned();
    let code = emulator.outbox("ada@example.com")[0]
        .otp
        .clone()
        .expect("passcode");
    secrets.push(code.clone());
    let (status, auth) = v1(
        &emulator,
        "POST",
        &format!("/apps/{APP}/otp/activate"),
        None,
        Some(json!({"otp": code, "otp_id": otp_id})),
    )
    .await;
    assert_eq!(status, 200);
    secrets.push(
        auth["auth_result"]["refresh_token"]
            .as_str()
            .expect("refresh")
            .to_owned(),
    );
    secrets.push(
        auth["auth_result"]["auth_token"]
            .as_str()
            .expect("token")
            .to_owned(),
    );
    let (_, unredeemed) = v1(
        &emulator,
        "POST",
        &format!("/apps/{APP}/login/otp"),
        None,
        Some(json!({"identifier": "ada@example.com"})),
    )
    .await;
    assert!(unredeemed["otp_id"].is_string());
    secrets.push(
        emulator
            .outbox("ada@example.com")
            .last()
            .expect("sent")
            .otp
            .clone()
            .expect("passcode"),
    );
    // A rotated refresh token.
    let (status, rotated) = v1(
        &emulator,
        "POST",
        &format!("/apps/{APP}/tokens"),
        None,
        Some(json!({"refresh_token": secrets[1]})),
    )
    .await;
    assert_eq!(status, 201);
    secrets.push(
        rotated["auth_result"]["refresh_token"]
            .as_str()
            .expect("refresh")
            .to_owned(),
    );
    // A magic link (unredeemed).
    let (status, _) = v1(
        &emulator,
        "POST",
        &format!("/apps/{APP}/login/magic-link"),
        None,
        Some(json!({"identifier": "ada@example.com"})),
    )
    .await;
    assert_eq!(status, 200);
    let link = emulator
        .outbox("ada@example.com")
        .last()
        .expect("sent")
        .clone();
    secrets.push(link.magic_link_secret.clone().expect("secret"));
    // Social logins: the fake provider's code of a login left at the provider's redirect, and the
    // Passage authorization code of a finished one (not exchanged yet).
    for finish in [false, true] {
        let authorize = format!(
            "GET /v1/apps/{APP}/social/authorize?redirect_uri=https%3A%2F%2Fapp.passage.test%2Fcb\
             &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256\
             &connection_type=github"
        );
        let (status, provider, _) = exchange(emulator.addr(), &authorize, &[], "").await;
        assert_eq!(status, 302);
        let provider = provider.expect("to the fake provider");
        let (status, callback, _) = exchange(
            emulator.addr(),
            &format!("GET {}", target(&provider)),
            &[],
            "",
        )
        .await;
        assert_eq!(status, 302);
        let callback = callback.expect("to the callback");
        secrets.push(query_param(&callback, "code"));
        if finish {
            let (status, app, _) = exchange(
                emulator.addr(),
                &format!("GET {}", target(&callback)),
                &[],
                "",
            )
            .await;
            assert_eq!(status, 302);
            secrets.push(query_param(&app.expect("to the app"), "code"));
        }
    }
    let file = std::fs::read(&path).expect("state file");
    let wal = std::fs::read(dir.path().join("state.db-wal")).unwrap_or_default();
    for secret in &secrets {
        for bytes in [&file, &wal] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "a secret handed out is in the state file"
            );
        }
    }
    // The passcode's digest is keyed: a plain SHA-256 of it is not in the file either.
    use sha2::Digest;
    let plain: String = sha2::Sha256::digest(secrets[0].as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(
        !file.windows(plain.len()).any(|w| w == plain.as_bytes())
            && !wal.windows(plain.len()).any(|w| w == plain.as_bytes())
    );
    // The file does hold the records (the check above looks at the right bytes).
    assert!(
        file.windows(otp_id.len()).any(|w| w == otp_id.as_bytes())
            || wal.windows(otp_id.len()).any(|w| w == otp_id.as_bytes())
    );
}
