//! No secret in any captured output, on the retry and fault paths, against the emulator.
//!
//! Everything the process logs at TRACE (client, reqwest, hyper and the emulator) goes to a buffer;
//! every error's `Display` and `Debug`, and the `Debug` of clients and sessions, are collected too.
//! The secrets are read from the emulator's outbox and from the responses: every auth token,
//! refresh token, one-time passcode and magic-link secret issued during the test. None may appear.
//!
//! Paths exercised: `DELETE /tokens?refresh_token=` with dropped connections (retried, then
//! failing), `POST /tokens` answering 503 (refresh failed) and losing its answer (recovered by the
//! grace window), a current-user call retried over 500s with the bearer token, OTP activation with
//! a wrong code, a cut body and a reset, magic-link activation with a wrong secret, a reset and a
//! proxy error page, and the Debug of a client holding the API key.

use std::time::Duration;

use passage_auth_client::CredentialsExt;
use passage_auth_client::{
    types, Client, ClientBuilder, Error, RetryPolicy, SecretValue, Session, SessionError,
    TokenStore,
};
use passage_e2e::capture::capture;
use passage_e2e::harness::{assert_same_secret, TestEnv};
use passage_emulator::{AppConfig, EmulatorConfig, FaultKind, FaultRule, DEFAULT_API_KEY};

/// The secrets seen so far and the texts shown so far.
#[derive(Default)]
struct Ledger {
    secrets: Vec<(String, String)>,
    shown: Vec<String>,
}

impl Ledger {
    fn secret(&mut self, what: &str, value: &str) {
        assert!(!value.is_empty(), "{what} is empty");
        self.secrets.push((what.to_owned(), value.to_owned()));
    }

    fn auth(&mut self, label: &str, auth: &types::AuthResult) {
        self.secret(
            &format!("{label} auth token"),
            auth.auth_token.expose_secret(),
        );
        if let Some(refresh) = &auth.refresh_token {
            self.secret(&format!("{label} refresh token"), refresh.expose_secret());
        }
        self.show(&format!("{label} auth result"), auth);
    }

    fn show(&mut self, label: &str, value: &dyn std::fmt::Debug) {
        self.shown.push(format!("{label}: {value:?}"));
    }

    fn error(&mut self, label: &str, error: &dyn std::error::Error) {
        // Display, Debug and the whole source chain.
        let mut text = format!("{label}: {error} / {error:?}");
        let mut source = error.source();
        while let Some(inner) = source {
            text.push_str(&format!(" / caused by: {inner} / {inner:?}"));
            source = inner.source();
        }
        self.shown.push(text);
    }
}

fn rule(path: String, method: &str, kind: FaultKind, count: u32) -> FaultRule {
    FaultRule {
        path_prefix: path,
        method: Some(method.into()),
        count,
        kind,
        retry_after: None,
        delay_ms: None,
        status: None,
    }
}

struct Fixture {
    env: TestEnv,
    client: Client,
}

impl Fixture {
    fn fault(&self, suffix: &str, method: &str, kind: FaultKind, count: u32) {
        self.env
            .emulator
            .inject_fault(rule(self.env.api_path(suffix), method, kind, count));
    }

    /// Sends a passcode to `identifier` and reads it from the outbox: (otp_id, otp).
    async fn otp(&self, identifier: &str, ledger: &mut Ledger) -> (String, String) {
        self.client
            .login_one_time_passcode()
            .app_id(&self.env.app_id)
            .body(types::LoginOneTimePasscodeRequest::builder().identifier(identifier))
            .send()
            .await
            .expect("otp sent");
        let (otp_id, otp) = self.env.last_otp(identifier);
        ledger.secret("otp", &otp);
        (otp_id, otp)
    }

    async fn activate_otp(&self, otp_id: &str, otp: &str) -> Result<types::AuthResult, Error> {
        self.client
            .activate_one_time_passcode()
            .app_id(&self.env.app_id)
            .body(
                types::ActivateOneTimePasscodeRequest::builder()
                    .otp_id(otp_id.to_owned())
                    .otp(SecretValue::new(otp)),
            )
            .send()
            .await
            .map(|r| r.into_inner().auth_result)
    }

    async fn activate_link(&self, secret: &str) -> Result<types::AuthResult, Error> {
        self.client
            .activate_magic_link()
            .app_id(&self.env.app_id)
            .body(types::ActivateMagicLinkRequest::builder().magic_link(SecretValue::new(secret)))
            .send()
            .await
            .map(|r| r.into_inner().auth_result)
    }

    /// Registers `identifier` by passcode.
    async fn signed_in(&self, identifier: &str, ledger: &mut Ledger) -> types::AuthResult {
        let auth = self.env.register_by_otp(identifier).await;
        ledger.secret("registration otp", &self.env.last_otp(identifier).1);
        ledger.auth(identifier, &auth);
        auth
    }
}

#[tokio::test]
async fn no_secret_in_logs_errors_or_debug_on_retry_and_fault_paths() {
    let captured = capture();
    let env = TestEnv::with_config(EmulatorConfig {
        apps: vec![AppConfig {
            refresh_reuse_grace_seconds: 30,
            ..AppConfig::default()
        }],
        ..EmulatorConfig::default()
    })
    .await;
    let client = ClientBuilder::new()
        .base_url(env.emulator.base_url())
        .retry_policy(
            RetryPolicy::default()
                .initial_backoff(Duration::from_millis(2))
                .max_backoff(Duration::from_millis(5)),
        )
        .build()
        .unwrap();
    let f = Fixture { env, client };
    let mut ledger = Ledger::default();
    let email = "leaks@example.com";
    let first = f.env.register_by_otp(email).await;
    ledger.auth("registration", &first);
    let (_, first_otp) = f.env.last_otp(email);
    ledger.secret("registration otp", &first_otp);
    ledger.secret("api key", DEFAULT_API_KEY);

    // A current-user call retried over two 500s carries the bearer token each time; then one that
    // runs out of attempts.
    let me = f.client.with_auth_token(first.auth_token.clone());
    ledger.show("bearer client", &me);
    f.fault("/currentuser", "GET", FaultKind::Status500, 2);
    me.get_currentuser()
        .app_id(&f.env.app_id)
        .send()
        .await
        .expect("retried into success");
    f.fault("/currentuser", "GET", FaultKind::Status500, 3);
    let err = me
        .get_currentuser()
        .app_id(&f.env.app_id)
        .send()
        .await
        .unwrap_err();
    ledger.error("current user after 3 x 500", &err);

    // OTP activation: wrong code, a cut body, a reset (not retried), then the right code.
    let (otp_id, otp) = f.otp(email, &mut ledger).await;
    let wrong = if otp == "000000" { "111111" } else { "000000" };
    let err = f.activate_otp(&otp_id, wrong).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    ledger.error("otp wrong code", &err);
    f.fault("/otp/activate", "POST", FaultKind::TruncatedBody, 1);
    let err = f.activate_otp(&otp_id, &otp).await.unwrap_err();
    ledger.error("otp cut body", &err);
    f.fault("/otp/activate", "POST", FaultKind::DropConnection, 1);
    let err = f.activate_otp(&otp_id, &otp).await.unwrap_err();
    ledger.error("otp reset", &err);
    let auth = f.activate_otp(&otp_id, &otp).await.expect("right code");
    ledger.auth("otp login", &auth);

    // Magic link: wrong secret, a reset, a proxy page, then the real secret.
    f.client
        .login_magic_link()
        .app_id(&f.env.app_id)
        .body(types::LoginMagicLinkRequest::builder().identifier(email))
        .send()
        .await
        .expect("link sent");
    let message = f.env.last_message(email);
    let link_secret = message.magic_link_secret.clone().expect("link secret");
    ledger.secret("magic link secret", &link_secret);
    ledger.secret("magic link url", &message.magic_link_url.clone().unwrap());
    let err = f
        .activate_link(&format!("{link_secret}x"))
        .await
        .unwrap_err();
    ledger.error("magic link wrong secret", &err);
    f.fault(
        "/magic-link/activate",
        "PATCH",
        FaultKind::DropConnection,
        1,
    );
    let err = f.activate_link(&link_secret).await.unwrap_err();
    ledger.error("magic link reset", &err);
    let mut page = rule(
        f.env.api_path("/magic-link/activate"),
        "PATCH",
        FaultKind::NonJsonBody,
        1,
    );
    page.status = Some(502);
    // A gateway's page, which no operation declares: the test's own doing.
    f.env.emulator.allow_undeclared_fault_status(502);
    f.env.emulator.inject_fault(page);
    let err = f.activate_link(&link_secret).await.unwrap_err();
    ledger.error("magic link proxy page", &err);
    let auth = f.activate_link(&link_secret).await.expect("link activates");
    ledger.auth("magic link", &auth);

    // Sessions: a refresh answering 503, a refresh whose answer is lost (grace window), a revoke
    // whose connection drops once (retried: `DELETE /tokens` is idempotent), and one that fails.
    let session = Session::builder(f.client.clone(), f.env.app_id.clone())
        .refresh_skew(Duration::from_secs(3600))
        .refresh_backoff(Duration::ZERO, Duration::ZERO)
        .build();
    session.sign_in(&auth).await.unwrap();
    // One 503 per attempt of the session's refresh retry policy (3 by default).
    f.fault("/tokens", "POST", FaultKind::Status503, 3);
    // The token is unexpired, so a failed proactive refresh hands out the old one.
    let kept = session.auth_token().await.expect("old token kept");
    assert_same_secret(
        kept.expose_secret(),
        auth.auth_token.expose_secret(),
        "the old token is kept after a 503",
    );
    f.fault("/tokens", "POST", FaultKind::DropAfterProcessing, 1);
    let refreshed = session.auth_token().await.expect("recovered");
    ledger.secret("refreshed auth token", refreshed.expose_secret());
    let stored = session.store().load().await.unwrap().expect("stored pair");
    ledger.secret(
        "refreshed refresh token",
        stored.refresh_token.as_ref().unwrap().expose_secret(),
    );
    ledger.show("session", &session);
    ledger.show("stored", &stored);
    f.fault("/tokens", "DELETE", FaultKind::DropConnection, 1);
    session.revoke().await.expect("revoke retried once");

    let other = f.signed_in("leaks2@example.com", &mut ledger).await;
    let session = Session::new(f.client.clone(), f.env.app_id.clone());
    session.sign_in(&other).await.unwrap();
    f.fault("/tokens", "DELETE", FaultKind::DropConnection, 3);
    let err = session.revoke().await.unwrap_err();
    ledger.error("revoke after 3 resets", &err);

    let third = f.signed_in("leaks3@example.com", &mut ledger).await;
    // No grace window assumed: the session stops after its three attempts (with a window it
    // would present the token again until the window closes, and get a pair).
    let session = Session::builder(f.client.clone(), f.env.app_id.clone())
        .refresh_skew(Duration::from_secs(3600))
        .server_reuse_grace(Duration::ZERO)
        .build();
    session.sign_in(&third).await.unwrap();
    // HTML with the refresh's own success status (201): only the body is wrong.
    let mut html = rule(f.env.api_path("/tokens"), "POST", FaultKind::NonJsonBody, 3);
    html.status = Some(201);
    f.env.emulator.inject_fault(html);
    let kept = session.auth_token().await.expect("old token kept");
    assert_same_secret(
        kept.expose_secret(),
        third.auth_token.expose_secret(),
        "the old token is kept after a non-JSON answer",
    );
    // A refresh error the caller sees: force it with a revoked family.
    let revoked = f
        .client
        .revoke_refresh_token()
        .app_id(&f.env.app_id)
        .refresh_token(third.refresh_token.clone().unwrap())
        .send()
        .await;
    revoked.expect("the refresh token is revoked");
    let session = Session::builder(f.client.clone(), f.env.app_id.clone())
        .refresh_skew(Duration::from_secs(3600))
        .build();
    session.sign_in(&third).await.unwrap();
    let err: SessionError = session
        .call(|c| {
            let app_id = f.env.app_id.clone();
            async move { c.get_currentuser().app_id(app_id).send().await }
        })
        .await
        .unwrap_err();
    ledger.error("session after revocation", &err);

    // A client holding the API key.
    let keyed = f.client.with_api_key(DEFAULT_API_KEY);
    ledger.show("api key client", &keyed);

    // Nothing may show any secret.
    let logs = captured.text();
    assert!(
        logs.contains("passage.call"),
        "the capture works (spans are logged)"
    );
    assert!(logs.contains("retrying"), "retry events were logged");
    // Each call's span ends with the outcome recorded on it.
    assert!(
        logs.lines().any(|l| l.contains("passage.call")
            && l.contains("status=200")
            && l.contains("attempts=1")
            && l.contains("elapsed_ms=")),
        "a call's span records its status, attempts and time"
    );
    for operation in [
        "revoke_refresh_token",
        "refresh_auth_token",
        "activate_one_time_passcode",
        "activate_magic_link",
    ] {
        assert!(
            logs.contains(&format!("operation=\"{operation}\"")),
            "{operation} was traced"
        );
    }
    let shown = ledger.shown.join("\n");
    for (what, secret) in &ledger.secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "the {what} appears in the logs"
        );
        assert!(
            !shown.contains(secret.as_str()),
            "the {what} appears in an error or Debug output:\n{shown}"
        );
    }
    assert!(
        ledger.secrets.len() >= 12,
        "{} secrets",
        ledger.secrets.len()
    );
}
