//! The client's invariants hold whatever the caller configures: redirects are
//! never followed, an invalid credential is an error (never a request sent
//! without it), and no public value prints a header map.

mod recorder;

use passage_auth_client::CredentialsExt;
use passage_auth_client::{types, ClientBuilder, Error, RedirectExt, RetryPolicy, SecretValue};
use recorder::{Canned, Recorder};
use serde_json::json;

const APP_ID: &str = "app1";

#[tokio::test]
async fn redirects_are_never_followed_even_when_the_http_settings_ask_for_it() {
    let rec = Recorder::start().await;
    let client = ClientBuilder::new()
        .base_url(rec.base_url.clone())
        .retry_policy(RetryPolicy::none())
        // A caller's settings run first; the client's own invariants win.
        .configure_http(|http| http.redirect(reqwest::redirect::Policy::limited(10)))
        .build()
        .unwrap();
    let target = format!("{}/apps/{APP_ID}", rec.base_url);
    rec.answer(Canned::redirect(302, &target));
    let err = client.get_app().app_id(APP_ID).send().await.unwrap_err();
    let Error::Redirect(redirect) = &err else {
        panic!("expected Error::Redirect, got {err:?}");
    };
    assert_eq!(redirect.location, target);
    // One request: the redirect was answered to the caller, not followed.
    assert_eq!(rec.take().len(), 1);

    // For a redirecting operation the same answer is its result.
    rec.answer(Canned::redirect(
        302,
        "https://app.example/cb?code=oauth-code-123456789",
    ));
    let redirect = client
        .oauth2_callback_default_dev()
        .code(SecretValue::new("code-value"))
        .state("state-value")
        .send()
        .await
        .into_redirect()
        .unwrap();
    assert!(redirect.location.contains("oauth-code-123456789"));
    let shown = format!("{redirect:?}");
    assert!(!shown.contains("oauth-code"), "{shown}");
    assert_eq!(rec.take().len(), 1);
}

#[tokio::test]
async fn an_invalid_auth_token_fails_the_calls_that_need_it_without_sending_them() {
    let rec = Recorder::start().await;
    let client = ClientBuilder::new()
        .base_url(rec.base_url.clone())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
        .with_auth_token("not a\nheader value");
    let err = client
        .get_currentuser()
        .app_id(APP_ID)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert!(!err.to_string().contains("header value\n"), "{err}");
    assert!(rec.take().is_empty(), "nothing was sent");

    // Operations without bearer auth are not affected.
    rec.answer(Canned::json(
        200,
        json!({"app": {"id": APP_ID, "name": "x"}}),
    ));
    let _ = client.get_app().app_id(APP_ID).send().await;
    assert_eq!(rec.take().len(), 1);
    assert!(format!("{:?}", client.state()).contains("invalid"));
}

#[tokio::test]
async fn an_invalid_api_key_fails_the_readiness_call() {
    let rec = Recorder::start().await;
    let client = ClientBuilder::new()
        .base_url(rec.base_url.clone())
        .api_key("bad\u{7f}key")
        .build()
        .unwrap();
    let err = client
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
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert!(rec.take().is_empty());
}

#[tokio::test]
async fn set_cookie_never_prints_from_an_answer_or_its_error() {
    let rec = Recorder::start().await;
    let client = ClientBuilder::new()
        .base_url(rec.base_url.clone())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    const COOKIE: &str = "cookie-secret-value-0123456789";
    // A declared error with a cookie.
    rec.answer(
        Canned::json(
            404,
            json!({"code": "app_not_found", "error": "no such app"}),
        )
        .with_header("set-cookie", &format!("psg_auth_token={COOKIE}; HttpOnly")),
    );
    let err = client.get_app().app_id(APP_ID).send().await.unwrap_err();
    for shown in [format!("{err:?}"), err.to_string()] {
        assert!(!shown.contains(COOKIE), "{shown}");
    }
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    // A successful answer with a cookie: its headers are kept, marked sensitive.
    rec.answer(
        Canned::redirect(302, "https://app.example/next")
            .with_header("set-cookie", &format!("psg_auth_token={COOKIE}; HttpOnly")),
    );
    let response = client
        .oauth2_callback_default_dev()
        .code(SecretValue::new("code-value"))
        .state("state-value")
        .send()
        .await;
    let shown = match &response {
        Ok(value) => format!("{:?}", value.headers()),
        Err(e) => format!("{e:?}"),
    };
    assert!(!shown.contains(COOKIE), "{shown}");
    assert!(response.into_redirect().is_ok());
}

/// The defaults are chosen together: a call that took the whole request timeout can still be
/// retried within the retry budget, and a refresh whose answer timed out is presented again
/// inside the server's default reuse grace window (so a slow answer never ends a session).
#[cfg(feature = "session")]
#[test]
fn the_default_timeout_budget_and_grace_window_fit_together() {
    use passage_auth_client::session::DEFAULT_SERVER_REUSE_GRACE;
    use passage_auth_client::DEFAULT_TIMEOUT;
    let policy = RetryPolicy::default();
    let longest_backoff = policy.backoff_value().max();
    assert!(
        DEFAULT_TIMEOUT + longest_backoff < policy.time_budget(),
        "a timed-out idempotent call must be retried once"
    );
    assert!(
        DEFAULT_TIMEOUT + longest_backoff < DEFAULT_SERVER_REUSE_GRACE,
        "a timed-out refresh must be presented again inside the grace window"
    );
}

#[tokio::test]
async fn a_required_parameter_never_set_is_an_invalid_request_naming_it_and_nothing_is_sent() {
    let rec = Recorder::start().await;
    let client = ClientBuilder::new()
        .base_url(rec.base_url.clone())
        .build()
        .unwrap();
    let err = client.get_app().send().await.unwrap_err();
    let Error::InvalidRequest(message) = &err else {
        panic!("expected Error::InvalidRequest, got {err:?}");
    };
    assert_eq!(message, "app_id was not initialized");
    assert!(rec.take().is_empty(), "nothing is sent");
    // Once set, the same call is sent (the recorder answers 599).
    let err = client.get_app().app_id(APP_ID).send().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(599), "{err:?}");
    assert_eq!(rec.only_request().path, format!("/v1/apps/{APP_ID}"));
}
