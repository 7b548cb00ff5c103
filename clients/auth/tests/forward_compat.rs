//! Forward compatibility and safe failure: answers a newer (or broken) server
//! may give reach the caller as typed values or typed errors that keep the
//! HTTP status, never as a bare decode failure, and no error text or `Debug`
//! output carries a secret.

mod recorder;

use std::time::Duration;

use passage_auth_client::open_enums::{ApiErrorCode, AuthFallbackMethod, UserStatus, WebAuthnType};
use passage_auth_client::CredentialsExt;
use passage_auth_client::{
    types, Client, ClientBuilder, Error, RedirectExt, RetryPolicy, SecretValue,
};
use recorder::{Canned, Recorder};
use serde_json::json;
use tokio::io::AsyncReadExt;

const APP_ID: &str = "app1";
const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.user-token-payload.signature";
const API_KEY: &str = "live-api-key-2f9c1d7e8a";

fn client(rec: &Recorder) -> Client {
    ClientBuilder::new()
        .retry_policy(RetryPolicy::none())
        .base_url(rec.base_url.clone())
        .build()
        .expect("client")
        .with_auth_token(TOKEN)
        .with_api_key(API_KEY)
}

/// Asserts that neither the `Display` nor the `Debug` text of `value`
/// contains `secret`.
fn assert_hidden(value: &(impl std::fmt::Display + std::fmt::Debug), secret: &str) {
    let display = value.to_string();
    let debug = format!("{value:?}");
    assert!(
        !display.contains(secret),
        "Display leaks {secret:?}: {display}"
    );
    assert!(!debug.contains(secret), "Debug leaks {secret:?}: {debug}");
}

/// The error of `get_currentuser` (a bearer operation, sent with [`TOKEN`]
/// and [`API_KEY`]) when the server answers `answer`.
async fn current_user_error(answer: Canned) -> Error {
    let rec = Recorder::start().await;
    rec.answer(answer);
    client(&rec)
        .get_currentuser()
        .app_id(APP_ID)
        .send()
        .await
        .unwrap_err()
}

fn user_json(status: &str, types: serde_json::Value) -> serde_json::Value {
    json!({
        "email": "ada@example.com",
        "email_verified": true,
        "id": "usr_1",
        "phone": "",
        "phone_verified": false,
        "status": status,
        "user_metadata": {},
        "webauthn": true,
        "webauthn_types": types
    })
}

// ------------------------------------------------------------ unknown values

#[tokio::test]
async fn an_unknown_error_code_keeps_the_status_and_the_code() {
    let rec = Recorder::start().await;
    let c = client(&rec);
    rec.answer(Canned::json(
        404,
        json!({"code": "app_archived", "error": "this app was archived"}),
    ));
    let err: Error = c.get_app().app_id(APP_ID).send().await.unwrap_err();
    match &err {
        Error::Api {
            status,
            code,
            message,
            ..
        } => {
            assert_eq!(status.as_u16(), 404);
            assert_eq!(code, &ApiErrorCode::Unknown("app_archived".into()));
            assert_eq!(code.as_str(), "app_archived");
            assert!(!code.is_known());
            assert_eq!(message, "this app was archived");
        }
        other => panic!("expected Error::Api, got {other:?}"),
    }
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert!(err.to_string().contains("404"), "{err}");
    assert!(!err.is_transient());
}

#[tokio::test]
async fn unknown_enum_values_in_a_response_decode_as_unknown() {
    let rec = Recorder::start().await;
    let c = client(&rec);
    rec.answer(Canned::json(
        200,
        json!({"user": user_json("suspended", json!(["passkey", "hybrid_key"]))}),
    ));
    let user = c
        .check_user_identifier()
        .app_id(APP_ID)
        .identifier("ada@example.com")
        .send()
        .await
        .expect("a new status value must not fail the call")
        .into_inner()
        .user
        .expect("user");
    assert_eq!(user.status, UserStatus::Unknown("suspended".into()));
    assert!(!user.status.is_known());
    assert_eq!(user.status.to_string(), "suspended");
    assert_eq!(
        user.webauthn_types,
        vec![
            WebAuthnType::Passkey,
            WebAuthnType::Unknown("hybrid_key".into())
        ]
    );
    // The value survives a round trip unchanged.
    assert_eq!(
        serde_json::to_value(&user).unwrap()["status"],
        json!("suspended")
    );
}

#[tokio::test]
async fn an_unknown_enum_value_deep_in_the_app_config_decodes() {
    let rec = Recorder::start().await;
    let c = client(&rec);
    let mut app = json!({
        "allowed_identifier": "email",
        "auth_fallback_method": "passkey_only",
        "auth_fallback_method_ttl": 300,
        "auth_methods": {"otp": {"ttl": 60, "ttl_display_unit": "w"}},
        "auth_origin": "https://app.example",
        "default_language": "en",
        "element_customization": {"passage_header_font_family": "Comic Neue"},
        "element_customization_dark": {},
        "ephemeral": false,
        "id": APP_ID,
        "layouts": {"profile": [], "registration": []},
        "login_url": "/login",
        "name": "Example",
        "passage_branding": false,
        "profile_management": true,
        "public_signup": true,
        "redirect_url": "/",
        "require_email_verification": false,
        "require_identifier_verification": false,
        "required_identifier": "email",
        "rsa_public_key": "MIIB",
        "session_timeout_length": 60,
        "social_connections": {},
        "user_metadata_schema": []
    });
    // A field the spec does not know yet is ignored.
    app["brand_new_setting"] = json!({"nested": [1, 2, 3]});
    rec.answer(Canned::json(200, json!({"app": app})));
    let app = c
        .get_app()
        .app_id(APP_ID)
        .send()
        .await
        .expect("decodes")
        .into_inner()
        .app;
    assert_eq!(
        app.auth_fallback_method,
        AuthFallbackMethod::Unknown("passkey_only".into())
    );
    let otp = app.auth_methods.otp.expect("otp");
    assert_eq!(otp.ttl, 60);
    let unit = otp.ttl_display_unit.expect("unit");
    assert!(!unit.is_known());
    assert_eq!(unit.as_str(), "w");
    let font = app
        .element_customization
        .passage_header_font_family
        .expect("font");
    assert!(!font.is_known());
    assert_eq!(font.as_str(), "Comic Neue");
}

// ------------------------------------------------------------ undeclared statuses

#[tokio::test]
async fn an_undeclared_status_keeps_the_status_and_retry_after() {
    let rec = Recorder::start().await;
    let c = client(&rec);
    rec.answer(
        Canned::json(418, json!({"code": "teapot", "error": "short and stout"}))
            .with_header("retry-after", "7"),
    );
    let err: Error = c.get_app().app_id(APP_ID).send().await.unwrap_err();
    match &err {
        Error::UnexpectedStatus {
            status,
            retry_after,
            ..
        } => {
            assert_eq!(status.as_u16(), 418);
            assert_eq!(*retry_after, Some(std::time::Duration::from_secs(7)));
        }
        other => panic!("expected Error::UnexpectedStatus, got {other:?}"),
    }
    assert_eq!(err.status().map(|s| s.as_u16()), Some(418));
    assert!(err.to_string().contains("418"), "{err}");
    assert!(!err.is_transient());
}

const HTML_WITH_SECRET: &str = "<html><body><h1>502 Bad Gateway</h1>\
    <p>upstream refused eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2lnbmF0dXJl</p></body></html>";
const HTML_SECRET: &str = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2lnbmF0dXJl";

#[tokio::test]
async fn an_undeclared_5xx_with_html_is_a_transient_typed_error_without_secrets() {
    let err = current_user_error(Canned::text(502, "text/html", HTML_WITH_SECRET)).await;
    match &err {
        Error::UnexpectedStatus { status, body, .. } => {
            assert_eq!(status.as_u16(), 502);
            assert!(!body.as_str().contains(HTML_SECRET), "{body}");
            // The view says what kind of body it was.
            assert!(body.to_string().contains("text/html"), "{body}");
        }
        other => panic!("expected Error::UnexpectedStatus, got {other:?}"),
    }
    assert!(err.is_transient());
    assert_hidden(&err, HTML_SECRET);
    assert_hidden(&err, TOKEN);
}

#[tokio::test]
async fn an_undeclared_status_shows_a_redacted_view_of_its_body() {
    let rec = Recorder::start().await;
    let c = client(&rec);
    rec.answer(Canned::text(502, "text/html", HTML_WITH_SECRET));
    let err: Error = c.get_app().app_id(APP_ID).send().await.unwrap_err();
    let Error::UnexpectedStatus { status, body, .. } = &err else {
        panic!("expected Error::UnexpectedStatus, got {err:?}");
    };
    assert_eq!(status.as_u16(), 502);
    assert!(body.as_str().contains("502 Bad Gateway"), "{body}");
    assert!(body.as_str().contains("[redacted]"), "{body}");
    assert_hidden(&err, HTML_SECRET);
}

#[tokio::test]
async fn a_4xx_with_an_html_body_is_a_typed_error_that_keeps_the_status() {
    // 403 is declared for get_currentuser, but a CDN answered it with HTML.
    let err = current_user_error(Canned::text(
        403,
        "text/html",
        "<html><h1>403 Forbidden</h1><p>request blocked</p></html>",
    ))
    .await;
    assert_eq!(
        err.status().map(|s| s.as_u16()),
        Some(403),
        "status lost: {err:?}"
    );
    assert!(!err.is_transient());
    assert_hidden(&err, TOKEN);
}

#[tokio::test]
async fn a_4xx_with_an_html_body_never_leaks_the_body_secrets() {
    // Whatever the variant, the error text is safe.
    let err = current_user_error(Canned::text(401, "text/html", HTML_WITH_SECRET)).await;
    assert!(
        matches!(
            err,
            Error::Decode { .. } | Error::UnexpectedStatus { .. } | Error::Api { .. }
        ),
        "{err:?}"
    );
    assert_hidden(&err, HTML_SECRET);
}

// ------------------------------------------------------------ decode failures

#[tokio::test]
async fn a_missing_required_field_is_a_decode_error_without_the_secrets_of_the_body() {
    let rec = Recorder::start().await;
    let c = client(&rec);
    const AUTH: &str = "eyJhbGciOiJSUzI1NiJ9.issued-auth-token.sig";
    const REFRESH: &str = "refresh-token-7f3a9b2c1d";
    // `redirect_url` is required and missing.
    rec.answer(Canned::json(
        200,
        json!({"auth_result": {"auth_token": AUTH, "refresh_token": REFRESH}}),
    ));
    let err: Error = c
        .activate_magic_link()
        .app_id(APP_ID)
        .body(types::ActivateMagicLinkRequest::builder().magic_link(SecretValue::new("ml-secret")))
        .send()
        .await
        .unwrap_err();
    match &err {
        Error::Decode { reason, body, .. } => {
            assert!(reason.contains("Data"), "{reason}");
            assert!(
                !reason.contains(AUTH) && !reason.contains(REFRESH),
                "{reason}"
            );
            // The shape stays visible, the values do not.
            assert!(body.as_str().contains("auth_result"), "{body}");
            assert!(body.as_str().contains("[redacted]"), "{body}");
        }
        other => panic!("expected Error::Decode, got {other:?}"),
    }
    assert_hidden(&err, AUTH);
    assert_hidden(&err, REFRESH);
    assert_hidden(&err, "ml-secret");
}

#[tokio::test]
async fn a_success_body_that_is_not_json_is_a_decode_error_without_secrets() {
    let rec = Recorder::start().await;
    let c = client(&rec);
    rec.answer(Canned::text(200, "text/html", HTML_WITH_SECRET));
    let err: Error = c.get_jwks().app_id(APP_ID).send().await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_hidden(&err, HTML_SECRET);
}

// ------------------------------------------------------------ redirects

#[tokio::test]
async fn a_302_from_get_authorize_gives_the_location_and_is_not_followed() {
    let rec = Recorder::start().await;
    let c = client(&rec);
    // An absolute Location on the recorder itself: a client that followed it
    // would show a second request.
    let location = format!("{}/followed?code=c0de&state=s", rec.base_url);
    rec.answer(Canned::redirect(302, &location));
    let redirect = c
        .get_authorize()
        .app_id(APP_ID)
        .code_challenge("challenge")
        .code_challenge_method("S256")
        .connection_type("google")
        .redirect_uri("https://app.example/cb")
        .send()
        .await
        .into_redirect()
        .expect("a redirect");
    assert_eq!(redirect.status.as_u16(), 302);
    assert_eq!(redirect.location, location);
    let url = redirect
        .url(&url::Url::parse("https://unused.example/").unwrap())
        .unwrap();
    assert_eq!(url.path(), "/v1/followed");
    let req = rec.only_request();
    assert_eq!(req.path, "/v1/apps/app1/social/authorize");
}

#[tokio::test]
async fn a_302_from_oauth2_callback_gives_the_location_and_is_not_followed() {
    let rec = Recorder::start().await;
    let c = client(&rec);
    rec.answer(Canned::redirect(302, "/v1/followed?next=1"));
    let redirect = c
        .oauth2_callback()
        .app_id(APP_ID)
        .code(SecretValue::new("provider-code"))
        .state("s")
        .send()
        .await
        .into_redirect()
        .expect("a redirect");
    assert_eq!(redirect.location, "/v1/followed?next=1");
    let base = url::Url::parse(&rec.base_url).unwrap();
    assert_eq!(
        redirect.url(&base).unwrap().as_str(),
        format!("{}/followed?next=1", rec.base_url)
    );
    let req = rec.only_request();
    assert_eq!(req.path, "/v1/apps/app1/social/oauth2_callback");
}

#[tokio::test]
async fn a_redirect_without_location_and_an_error_instead_of_a_redirect_are_typed_errors() {
    let rec = Recorder::start().await;
    let c = client(&rec);
    rec.answer(Canned::empty(302));
    let err = c
        .oauth2_callback_default_dev()
        .code(SecretValue::new("code"))
        .send()
        .await
        .into_redirect()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");

    rec.answer(Canned::json(
        400,
        json!({"code": "invalid_request", "error": "bad state"}),
    ));
    let err = c
        .oauth2_callback_default_dev()
        .code(SecretValue::new("code"))
        .send()
        .await
        .into_redirect()
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(err.code(), Some(&ApiErrorCode::InvalidRequest));
}

// ------------------------------------------------------------ secrets in URLs

/// A server that reads one request head, remembers it, and closes the
/// connection without answering.
async fn dropping_server() -> (String, tokio::task::JoinHandle<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        drop(stream);
        String::from_utf8_lossy(&head).into_owned()
    });
    (format!("http://{addr}/v1"), task)
}

const REFRESH_SECRET: &str = "rt-SECRET-4b1d2c3e5f";

#[tokio::test]
async fn a_dropped_revoke_request_does_not_leak_the_refresh_token() {
    let (base_url, server) = dropping_server().await;
    let c = ClientBuilder::new()
        .retry_policy(RetryPolicy::none())
        .base_url(base_url)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
        .with_auth_token(TOKEN);
    let generated = c
        .revoke_refresh_token()
        .app_id(APP_ID)
        .refresh_token(SecretValue::new(REFRESH_SECRET))
        .send()
        .await
        .unwrap_err();
    // The secret really was on the wire, in the query.
    let head = server.await.unwrap();
    assert!(
        head.starts_with(&format!(
            "DELETE /v1/apps/app1/tokens?refresh_token={REFRESH_SECRET} "
        )),
        "{head}"
    );
    assert_hidden(&generated, REFRESH_SECRET);
    let err = generated;
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    // Closed after the request was sent: neither a connect failure nor a
    // timeout, so not transient (the request may have been processed).
    assert!(!err.is_transient());
    assert_hidden(&err, REFRESH_SECRET);
    if let Error::Transport { source, .. } = &err {
        let source = source.as_ref().expect("source kept");
        assert_eq!(source.url(), None);
        assert_hidden(source, REFRESH_SECRET);
    }
}

#[tokio::test]
async fn revoke_answers_do_not_carry_the_refresh_token_url() {
    let rec = Recorder::start().await;
    let c = client(&rec);
    // An undeclared status: the error holds the whole response.
    rec.answer(Canned::text(503, "text/plain", "maintenance"));
    let generated = c
        .revoke_refresh_token()
        .app_id(APP_ID)
        .refresh_token(SecretValue::new(REFRESH_SECRET))
        .send()
        .await
        .unwrap_err();
    assert_hidden(&generated, REFRESH_SECRET);
    let err = generated;
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_hidden(&err, REFRESH_SECRET);
    let req = rec.only_request();
    assert_eq!(
        req.query_pairs(),
        [("refresh_token".into(), REFRESH_SECRET.into())]
    );

    // A declared error.
    rec.answer(Canned::json(
        404,
        json!({"code": "user_not_found", "error": "no session"}),
    ));
    let generated = c
        .revoke_refresh_token()
        .app_id(APP_ID)
        .refresh_token(SecretValue::new(REFRESH_SECRET))
        .send()
        .await
        .unwrap_err();
    assert_hidden(&generated, REFRESH_SECRET);
    assert_hidden(&generated, REFRESH_SECRET);

    // Success.
    rec.answer(Canned::empty(200));
    let ok = c
        .revoke_refresh_token()
        .app_id(APP_ID)
        .refresh_token(SecretValue::new(REFRESH_SECRET))
        .send()
        .await
        .unwrap();
    let debug = format!("{ok:?}");
    assert!(!debug.contains(REFRESH_SECRET), "{debug}");
}

/// A `tracing` writer that appends to a shared buffer.
#[derive(Clone, Default)]
struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn a_retried_revoke_logs_no_refresh_token() {
    let logs = LogBuffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let rec = Recorder::start().await;
    let c = ClientBuilder::new()
        .retry_policy(
            RetryPolicy::default()
                .max_attempts(2)
                .initial_backoff(Duration::from_millis(1))
                .max_backoff(Duration::from_millis(2)),
        )
        .base_url(rec.base_url.clone())
        .build()
        .unwrap()
        .with_auth_token(TOKEN);
    rec.answer(Canned::text(503, "text/plain", "busy"));
    let err: Error = c
        .revoke_refresh_token()
        .app_id(APP_ID)
        .refresh_token(SecretValue::new(REFRESH_SECRET))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_hidden(&err, REFRESH_SECRET);
    // Two attempts, both carrying the secret on the wire.
    let requests = rec.take();
    assert_eq!(requests.len(), 2);
    assert!(requests
        .iter()
        .all(|r| r.query.as_deref() == Some("refresh_token=rt-SECRET-4b1d2c3e5f")));

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    // The capture works: the retry was logged. (The span's fields are not
    // asserted: its callsite is shared with concurrently running tests.)
    assert!(text.contains("retrying"), "{text}");
    assert!(text.contains("status=503"), "{text}");
    assert!(!text.contains(REFRESH_SECRET), "{text}");
}

// ------------------------------------------------------------ Debug of credentials

#[test]
fn debug_of_client_state_and_builder_hides_the_credentials() {
    let builder = ClientBuilder::new()
        .retry_policy(RetryPolicy::none())
        .base_url("http://127.0.0.1:9/v1")
        .auth_token(TOKEN)
        .api_key(API_KEY);
    let debug = format!("{builder:?}");
    assert!(!debug.contains(TOKEN), "{debug}");
    assert!(!debug.contains(API_KEY), "{debug}");
    assert!(debug.contains("[redacted]"), "{debug}");

    let client = builder.build().unwrap();
    assert!(client.state().has_bearer());
    let debug = format!("{:?}", client.state());
    assert!(!debug.contains(TOKEN), "{debug}");
    assert!(!debug.contains(API_KEY), "{debug}");

    let client = ClientBuilder::new()
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
        .with_auth_token(TOKEN)
        .with_api_key(API_KEY);
    let debug = format!("{:?}", client.state());
    assert!(!debug.contains(TOKEN), "{debug}");
    assert!(!debug.contains(API_KEY), "{debug}");
    assert_eq!(
        format!("{:?}", SecretValue::new(TOKEN)),
        "SecretValue([redacted])"
    );
}

#[test]
fn debug_of_a_client_with_credentials_hides_them() {
    let client = ClientBuilder::new()
        .retry_policy(RetryPolicy::none())
        .base_url("http://127.0.0.1:9/v1")
        .build()
        .unwrap()
        .with_auth_token(TOKEN)
        .with_api_key(API_KEY);
    let debug = format!("{client:?}");
    assert!(!debug.contains(TOKEN), "{debug}");
    assert!(!debug.contains(API_KEY), "{debug}");
    assert!(debug.contains("127.0.0.1:9"), "{debug}");
    assert!(debug.contains("[redacted]"), "{debug}");
}
