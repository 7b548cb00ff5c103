//! Fault matrix: every fault the emulator can inject, against one operation of each retry class
//! (declared by the spec's `x-idempotent`):
//!
//! | class                       | operation                      | retried on                          |
//! |-----------------------------|--------------------------------|-------------------------------------|
//! | idempotent read             | `get_currentuser`              | connect/timeout/reset, 429, 5xx     |
//! | idempotent write            | `update_currentuser_metadata`  | connect/timeout/reset, 429, 5xx     |
//! | non-idempotent sender       | `login_one_time_passcode`      | connect errors only                 |
//! | one-time-secret consumer    | `activate_one_time_passcode`   | connect errors only                 |
//!
//! Each case counts the attempts that reached the emulator (its request log) and checks the
//! outcome: the value returned, the typed error, and the side effects (outbox messages, a passcode
//! consumed or not).

use std::time::{Duration, Instant};

use passage_auth_client::CredentialsExt;
use passage_auth_client::{types, Client, ClientBuilder, Error, RetryPolicy, SecretValue};
use passage_e2e::harness::{counter_app_config, TestEnv};
use passage_emulator::{FaultKind, FaultRule};
use serde_json::json;

const EMAIL: &str = "matrix@example.com";

/// Fast retries so the suite stays quick: 3 attempts, 5–20 ms backoff, `Retry-After` up to 2 s.
fn fast_policy() -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(3)
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(20))
        .budget(Duration::from_secs(10))
        .max_retry_after(Duration::from_secs(2))
}

struct Matrix {
    env: TestEnv,
    /// Retrying client (no credentials) straight to the emulator.
    client: Client,
    /// Retrying client with the user's bearer token.
    user: Client,
}

impl Matrix {
    async fn start() -> Self {
        Self::with_timeout(Duration::from_secs(20)).await
    }

    /// An emulator whose app has an integer `counter` metadata field, a registered user, and
    /// retrying clients with the given whole-request timeout.
    async fn with_timeout(timeout: Duration) -> Self {
        let env = TestEnv::with_config(counter_app_config()).await;
        let auth = env.register_by_otp(EMAIL).await;
        let client = ClientBuilder::new()
            .base_url(env.emulator.base_url())
            .timeout(timeout)
            .retry_policy(fast_policy())
            .build()
            .expect("client builds");
        let user = client.with_auth_token(auth.auth_token.clone());
        Self { env, client, user }
    }

    fn path(&self, suffix: &str) -> String {
        self.env.api_path(suffix)
    }

    /// Arms one use of `kind` on `method path`.
    fn arm(&self, method: &str, suffix: &str, kind: FaultKind) -> FaultRule {
        FaultRule {
            path_prefix: self.path(suffix),
            method: Some(method.into()),
            count: 1,
            kind,
            retry_after: None,
            delay_ms: None,
            status: None,
        }
    }

    fn inject(&self, rule: FaultRule) {
        self.env.emulator.inject_fault(rule);
    }

    /// Requests logged for exactly `method path`.
    fn attempts(&self, method: &str, suffix: &str) -> usize {
        let path = self.path(suffix);
        self.env
            .emulator
            .requests()
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .count()
    }

    /// Number of armed fault rules left (admin API).
    async fn armed(&self) -> usize {
        self.env.admin_get("/faults").await["faults"]
            .as_array()
            .map_or(usize::MAX, Vec::len)
    }

    fn outbox_len(&self) -> usize {
        self.env.emulator.outbox(EMAIL).len()
    }

    // --- the four operation classes; each returns the attempts it took ---

    /// Idempotent read.
    async fn get_me(&self) -> (usize, Result<String, Error>) {
        let before = self.attempts("GET", "/currentuser");
        let result = self
            .user
            .get_currentuser()
            .app_id(&self.env.app_id)
            .send()
            .await
            .map(|r| r.into_inner().user.email.clone());
        (self.attempts("GET", "/currentuser") - before, result)
    }

    /// Idempotent write: sets `counter` to `value`; returns the value the answer shows.
    async fn set_counter(&self, value: i64) -> (usize, Result<i64, Error>) {
        let before = self.attempts("PATCH", "/currentuser/user-metadata");
        let mut map = serde_json::Map::new();
        map.insert("counter".into(), json!(value));
        let result = self
            .user
            .update_currentuser_metadata()
            .app_id(&self.env.app_id)
            .body(types::UpdateMetadataRequest::builder().user_metadata(map))
            .send()
            .await
            .map(|r| {
                r.into_inner()
                    .user
                    .user_metadata
                    .as_ref()
                    .and_then(|m| m.get("counter"))
                    .and_then(|v| v.as_i64())
                    .unwrap_or(-1)
            });
        (
            self.attempts("PATCH", "/currentuser/user-metadata") - before,
            result,
        )
    }

    /// The stored counter, read without faults.
    async fn counter(&self) -> Option<i64> {
        self.user
            .get_currentuser_metadata()
            .app_id(&self.env.app_id)
            .send()
            .await
            .expect("metadata read")
            .into_inner()
            .user_metadata
            .get("counter")
            .and_then(|v| v.as_i64())
    }

    /// Non-idempotent sender: starts an OTP login (sends a message).
    async fn send_otp(&self) -> (usize, Result<String, Error>) {
        let before = self.attempts("POST", "/login/otp");
        let result = self
            .client
            .login_one_time_passcode()
            .app_id(&self.env.app_id)
            .body(types::LoginOneTimePasscodeRequest::builder().identifier(EMAIL))
            .send()
            .await
            .map(|r| r.into_inner().otp_id);
        (self.attempts("POST", "/login/otp") - before, result)
    }

    /// A fresh passcode (sent without faults): (otp_id, otp).
    async fn fresh_otp(&self) -> (String, String) {
        self.env
            .client
            .login_one_time_passcode()
            .app_id(&self.env.app_id)
            .body(types::LoginOneTimePasscodeRequest::builder().identifier(EMAIL))
            .send()
            .await
            .expect("otp sent");
        self.env.last_otp(EMAIL)
    }

    /// One-time-secret consumer: redeems `otp` with `client`.
    async fn activate_with(
        &self,
        client: &Client,
        otp: &(String, String),
    ) -> (usize, Result<(), Error>) {
        let before = self.attempts("POST", "/otp/activate");
        let result = client
            .activate_one_time_passcode()
            .app_id(&self.env.app_id)
            .body(
                types::ActivateOneTimePasscodeRequest::builder()
                    .otp_id(otp.0.clone())
                    .otp(SecretValue::new(otp.1.clone())),
            )
            .send()
            .await
            .map(|r| {
                assert!(!r
                    .into_inner()
                    .auth_result
                    .auth_token
                    .expose_secret()
                    .is_empty())
            });
        (self.attempts("POST", "/otp/activate") - before, result)
    }

    async fn activate(&self, otp: &(String, String)) -> (usize, Result<(), Error>) {
        self.activate_with(&self.client, otp).await
    }

    /// Arms one `kind` fault on each idempotent class and checks that each call took exactly two
    /// attempts and succeeded: the read returns the user, the write stored `value`.
    async fn assert_idempotent_classes_retried_once(&self, kind: FaultKind, value: i64) {
        self.inject(self.arm("GET", "/currentuser", kind));
        let (n, me) = self.get_me().await;
        assert_eq!(
            (n, me.unwrap()),
            (2, EMAIL.to_owned()),
            "read: retried once after {kind:?}"
        );

        self.inject(self.arm("PATCH", "/currentuser/user-metadata", kind));
        let (n, stored) = self.set_counter(value).await;
        assert_eq!(
            (n, stored.unwrap()),
            (2, value),
            "idempotent write: retried once after {kind:?}"
        );
        assert_eq!(self.counter().await, Some(value));
    }
}

fn status(result: &Result<impl std::fmt::Debug, Error>) -> Option<u16> {
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.status().map(|s| s.as_u16()),
    }
}

fn is_transport(result: &Result<impl std::fmt::Debug, Error>) -> bool {
    matches!(result, Err(Error::Transport { .. }))
}

fn is_decode(result: &Result<impl std::fmt::Debug, Error>) -> bool {
    matches!(result, Err(Error::Decode { .. }))
}

#[tokio::test]
async fn status_500() {
    let m = Matrix::start().await;

    m.assert_idempotent_classes_retried_once(FaultKind::Status500, 7)
        .await;

    let sent = m.outbox_len();
    m.inject(m.arm("POST", "/login/otp", FaultKind::Status500));
    let (n, otp) = m.send_otp().await;
    assert_eq!((n, status(&otp)), (1, Some(500)), "sender: not retried");
    assert_eq!(
        m.outbox_len(),
        sent,
        "a 500 before processing sends nothing"
    );

    let otp = m.fresh_otp().await;
    m.inject(m.arm("POST", "/otp/activate", FaultKind::Status500));
    let (n, activated) = m.activate(&otp).await;
    assert_eq!(
        (n, status(&activated)),
        (1, Some(500)),
        "consumer: not retried"
    );
    // The passcode was not consumed: the user (or the app) may redeem it now.
    let (n, again) = m.activate(&otp).await;
    assert_eq!(n, 1);
    again.expect("the passcode is still valid");
}

#[tokio::test]
async fn status_503_is_retried_only_where_idempotent() {
    let m = Matrix::start().await;

    // Two 503s in a row: the third attempt succeeds.
    let mut rule = m.arm("GET", "/currentuser", FaultKind::Status503);
    rule.count = 2;
    m.inject(rule);
    let (n, me) = m.get_me().await;
    assert_eq!((n, me.unwrap()), (3, EMAIL.to_owned()));

    // More 503s than attempts: the caller gets the last 503 after exactly 3 attempts.
    let mut rule = m.arm("PATCH", "/currentuser/user-metadata", FaultKind::Status503);
    rule.count = 5;
    m.inject(rule);
    let (n, value) = m.set_counter(3).await;
    assert_eq!((n, status(&value)), (3, Some(503)));
    assert!(value.unwrap_err().is_transient());
    m.env.emulator.clear_faults();
    assert_eq!(m.counter().await, None, "no attempt was processed");

    let sent = m.outbox_len();
    m.inject(m.arm("POST", "/login/otp", FaultKind::Status503));
    let (n, otp) = m.send_otp().await;
    assert_eq!((n, status(&otp)), (1, Some(503)));
    assert_eq!(m.outbox_len(), sent);

    let otp = m.fresh_otp().await;
    m.inject(m.arm("POST", "/otp/activate", FaultKind::Status503));
    let (n, activated) = m.activate(&otp).await;
    assert_eq!((n, status(&activated)), (1, Some(503)));
    m.activate(&otp)
        .await
        .1
        .expect("the passcode is still valid");
}

#[tokio::test]
async fn status_429_honours_retry_after() {
    let m = Matrix::start().await;

    // Retry-After: 1 (within the policy's 2 s cap): one retry, after at least a second.
    let mut rule = m.arm("GET", "/currentuser", FaultKind::Status429);
    rule.retry_after = Some(1);
    m.inject(rule);
    let started = Instant::now();
    let (n, me) = m.get_me().await;
    assert_eq!((n, me.unwrap()), (2, EMAIL.to_owned()));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the retry waited for Retry-After ({:?})",
        started.elapsed()
    );

    // Retry-After: 0 on the idempotent write: retried at once.
    let mut rule = m.arm("PATCH", "/currentuser/user-metadata", FaultKind::Status429);
    rule.retry_after = Some(0);
    m.inject(rule);
    let (n, value) = m.set_counter(11).await;
    assert_eq!((n, value.unwrap()), (2, 11));

    // Retry-After beyond the policy's cap: no retry, the 429 is returned with its header.
    let mut rule = m.arm("GET", "/currentuser", FaultKind::Status429);
    rule.retry_after = Some(3600);
    m.inject(rule);
    let (n, me) = m.get_me().await;
    // One attempt reached the emulator: the client did not wait, since its only wait is the one
    // before a next attempt (`passage_runtime::pipeline`); that the policy refuses a Retry-After
    // beyond its cap is unit-tested in `passage_runtime::retry`.
    assert_eq!((n, status(&me)), (1, Some(429)));

    let sent = m.outbox_len();
    let mut rule = m.arm("POST", "/login/otp", FaultKind::Status429);
    rule.retry_after = Some(0);
    m.inject(rule);
    let (n, otp) = m.send_otp().await;
    assert_eq!(
        (n, status(&otp)),
        (1, Some(429)),
        "sender: never retried on 429"
    );
    assert_eq!(m.outbox_len(), sent);

    let otp = m.fresh_otp().await;
    let mut rule = m.arm("POST", "/otp/activate", FaultKind::Status429);
    rule.retry_after = Some(0);
    m.inject(rule);
    let (n, activated) = m.activate(&otp).await;
    assert_eq!((n, status(&activated)), (1, Some(429)));
    m.activate(&otp)
        .await
        .1
        .expect("the passcode is still valid");
}

#[tokio::test]
async fn timeout() {
    // The client gives up on a request after 300 ms. When the client hangs up, the emulator drops
    // the request it was delaying or holding and does not log it: "attempts" below counts the
    // requests the emulator answered, and `armed()` shows that the first attempt did reach it
    // (the fault was used up).
    let m = Matrix::with_timeout(Duration::from_millis(300)).await;
    let delay = |m: &Matrix, method: &str, suffix: &str| {
        let mut rule = m.arm(method, suffix, FaultKind::Delay);
        rule.delay_ms = Some(1500);
        rule
    };

    // The read's first answer is held (its handler has run) for up to 60 s, or until released.
    let mut rule = m.arm("GET", "/currentuser", FaultKind::HoldAfterProcessing);
    rule.delay_ms = Some(60_000);
    m.inject(rule);
    let started = Instant::now();
    let (n, me) = m.get_me().await;
    assert_eq!(me.unwrap(), EMAIL, "the read is retried after the timeout");
    assert!(started.elapsed() >= Duration::from_millis(300));
    // The answer came from the retry: had the client waited for the held one, that hold would
    // have run out its limit to send it.
    assert_eq!(
        m.env.emulator.held_answers_expired(),
        0,
        "did not wait for the held answer"
    );
    assert_eq!(
        (m.armed().await, n),
        (0, 1),
        "timed out once, answered once"
    );

    m.inject(delay(&m, "PATCH", "/currentuser/user-metadata"));
    let (n, value) = m.set_counter(5).await;
    assert_eq!((m.armed().await, n, value.unwrap()), (0, 1, 5));

    let sent = m.outbox_len();
    m.inject(delay(&m, "POST", "/login/otp"));
    let (n, otp) = m.send_otp().await;
    assert!(
        matches!(otp, Err(Error::Transport { timeout: true, .. })),
        "sender: the timeout is returned: {otp:?}"
    );
    // Not retried: a retry would have been answered (and logged) at once, sending a message.
    assert_eq!((m.armed().await, n), (0, 0));
    assert_eq!(m.outbox_len(), sent);

    let otp = m.fresh_otp().await;
    m.inject(delay(&m, "POST", "/otp/activate"));
    let (n, activated) = m.activate(&otp).await;
    assert!(
        matches!(activated, Err(Error::Transport { timeout: true, .. })),
        "consumer: the timeout is returned: {activated:?}"
    );
    assert_eq!((m.armed().await, n), (0, 0), "not retried");
    m.activate(&otp)
        .await
        .1
        .expect("the passcode is still valid");
}

#[tokio::test]
async fn connection_reset() {
    let m = Matrix::start().await;

    m.assert_idempotent_classes_retried_once(FaultKind::DropConnection, 9)
        .await;

    // The request was sent, so the client cannot know it was not processed: no retry.
    let sent = m.outbox_len();
    m.inject(m.arm("POST", "/login/otp", FaultKind::DropConnection));
    let (n, otp) = m.send_otp().await;
    assert_eq!(n, 1);
    assert!(is_transport(&otp), "{otp:?}");
    assert_eq!(
        m.outbox_len(),
        sent,
        "dropped before processing: nothing sent"
    );

    let otp = m.fresh_otp().await;
    m.inject(m.arm("POST", "/otp/activate", FaultKind::DropConnection));
    let (n, activated) = m.activate(&otp).await;
    assert_eq!(n, 1);
    assert!(is_transport(&activated), "{activated:?}");
    m.activate(&otp)
        .await
        .1
        .expect("the passcode is still valid");
}

#[tokio::test]
async fn truncated_body() {
    let m = Matrix::start().await;

    // A 200 with a cut body is an answer: a typed decode error, no retry.
    m.inject(m.arm("GET", "/currentuser", FaultKind::TruncatedBody));
    let (n, me) = m.get_me().await;
    assert_eq!(n, 1);
    assert!(is_decode(&me), "{me:?}");

    // A cut 503 body is still a 503: the idempotent write retries it.
    let mut rule = m.arm(
        "PATCH",
        "/currentuser/user-metadata",
        FaultKind::TruncatedBody,
    );
    rule.status = Some(503);
    m.inject(rule);
    let (n, value) = m.set_counter(4).await;
    assert_eq!((n, value.unwrap()), (2, 4));

    let sent = m.outbox_len();
    // (`login/otp` answers 201.)
    let mut rule = m.arm("POST", "/login/otp", FaultKind::TruncatedBody);
    rule.status = Some(201);
    m.inject(rule);
    let (n, otp) = m.send_otp().await;
    assert_eq!(n, 1);
    assert!(is_decode(&otp), "{otp:?}");
    assert_eq!(m.outbox_len(), sent);

    let otp = m.fresh_otp().await;
    m.inject(m.arm("POST", "/otp/activate", FaultKind::TruncatedBody));
    let (n, activated) = m.activate(&otp).await;
    assert_eq!(n, 1);
    let err = activated.unwrap_err();
    match &err {
        Error::Decode { reason, .. } => assert!(reason.starts_with("Eof"), "{reason}"),
        other => panic!("expected a decode error: {other:?}"),
    }
    m.activate(&otp)
        .await
        .1
        .expect("the passcode is still valid");
}

#[tokio::test]
async fn non_json_body() {
    let m = Matrix::start().await;
    // A gateway's HTML page with 502, which no operation declares: the test's own doing.
    m.env.emulator.allow_undeclared_fault_status(502);

    // A proxy's HTML error page with 502: retried where idempotent.
    let mut rule = m.arm("GET", "/currentuser", FaultKind::NonJsonBody);
    rule.status = Some(502);
    m.inject(rule);
    let (n, me) = m.get_me().await;
    assert_eq!((n, me.unwrap()), (2, EMAIL.to_owned()));

    // HTML with 200: a decode error, not retried.
    m.inject(m.arm(
        "PATCH",
        "/currentuser/user-metadata",
        FaultKind::NonJsonBody,
    ));
    let (n, value) = m.set_counter(8).await;
    assert_eq!(n, 1);
    assert!(is_decode(&value), "{value:?}");

    let sent = m.outbox_len();
    let mut rule = m.arm("POST", "/login/otp", FaultKind::NonJsonBody);
    rule.status = Some(502);
    m.inject(rule);
    let (n, otp) = m.send_otp().await;
    assert_eq!(n, 1);
    match otp {
        Err(Error::UnexpectedStatus { status, body, .. }) => {
            assert_eq!(status.as_u16(), 502);
            assert!(body.as_str().contains("Bad Gateway"), "{body}");
        }
        other => panic!("expected a 502 with the page's redacted text: {other:?}"),
    }
    assert_eq!(m.outbox_len(), sent);

    let otp = m.fresh_otp().await;
    let mut rule = m.arm("POST", "/otp/activate", FaultKind::NonJsonBody);
    rule.status = Some(502);
    m.inject(rule);
    let (n, activated) = m.activate(&otp).await;
    assert_eq!((n, status(&activated)), (1, Some(502)));
    m.activate(&otp)
        .await
        .1
        .expect("the passcode is still valid");
}

#[tokio::test]
async fn lost_response_after_processing() {
    let m = Matrix::start().await;

    // Reads and idempotent writes: processed, answer lost, retried; the repeat is harmless.
    m.assert_idempotent_classes_retried_once(FaultKind::DropAfterProcessing, 12)
        .await;

    // The sender is NOT re-sent: exactly one message went out, and the caller learns that the
    // outcome is unknown (a transport error), not a false failure from a second send.
    let sent = m.outbox_len();
    m.inject(m.arm("POST", "/login/otp", FaultKind::DropAfterProcessing));
    let (n, otp) = m.send_otp().await;
    assert_eq!(n, 1, "login_one_time_passcode must not be re-sent");
    assert!(is_transport(&otp), "{otp:?}");
    assert_eq!(m.outbox_len(), sent + 1, "exactly one message was sent");

    // The consumer is not retried: the passcode was consumed by the lost attempt.
    let otp = m.fresh_otp().await;
    m.inject(m.arm("POST", "/otp/activate", FaultKind::DropAfterProcessing));
    let (n, activated) = m.activate(&otp).await;
    assert_eq!(n, 1, "activate_one_time_passcode must not be retried");
    assert!(is_transport(&activated), "{activated:?}");
    let (n, again) = m.activate(&otp).await;
    assert_eq!((n, status(&again)), (1, Some(400)), "the passcode was used");
}

#[tokio::test]
async fn per_call_override_and_no_retry_policy() {
    let m = Matrix::start().await;
    let mut rule = m.arm("GET", "/currentuser", FaultKind::Status500);
    rule.count = 2;
    m.inject(rule);
    // `with_retry_policy(RetryPolicy::none())` for one call: one attempt, the 500 is returned.
    let before = m.attempts("GET", "/currentuser");
    let once = m
        .user
        .with_retry_policy(RetryPolicy::none())
        .get_currentuser()
        .app_id(&m.env.app_id)
        .send()
        .await;
    assert_eq!(m.attempts("GET", "/currentuser") - before, 1);
    assert_eq!(status(&once.map(|_| ())), Some(500));
    // The client's own policy is unchanged: one 500 left, retried.
    let (n, me) = m.get_me().await;
    assert_eq!((n, me.unwrap()), (2, EMAIL.to_owned()));
}

#[tokio::test]
async fn status_503_with_retry_after_waits_as_told_and_only_where_idempotent() {
    let m = Matrix::start().await;

    // Idempotent read: one retry, not before the server's Retry-After.
    let mut rule = m.arm("GET", "/currentuser", FaultKind::Status503);
    rule.retry_after = Some(1);
    m.inject(rule);
    let started = Instant::now();
    let (n, me) = m.get_me().await;
    assert_eq!((n, me.unwrap()), (2, EMAIL.to_owned()));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the retry waited for Retry-After ({:?})",
        started.elapsed()
    );

    // A sender is not retried, whatever the server says: one attempt, nothing sent.
    let before = m.outbox_len();
    let mut rule = m.arm("POST", "/login/otp", FaultKind::Status503);
    rule.retry_after = Some(0);
    m.inject(rule);
    let (n, sent) = m.send_otp().await;
    assert_eq!((n, status(&sent)), (1, Some(503)));
    assert_eq!(m.outbox_len(), before, "no passcode was sent");
}
