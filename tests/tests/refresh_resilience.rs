//! A refresh whose answer is lost must not end the session (with the server's reuse grace window),
//! a refresh held past the caller's timeout still lands in the store, transient failures are
//! retried (bounded) with the same token, and any number of concurrent callers cause one
//! refresh — against the emulator over real HTTP.
//!
//! Time: the session runs on a [`ManualClock`] and the emulator's clock is advanced by the same
//! amount, so the signed-in auth token is expired for both without any sleep.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use passage_auth_client::{
    types, Client, ClientBuilder, Clock, ManualClock, MemoryStore, RetryPolicy, SecretValue,
    Session, SessionBuilder, SessionError, StoreError, StoreLock, StoredTokens, TokenStore,
};
use passage_e2e::harness::{assert_different_secrets, assert_same_secret, TestEnv};
use passage_emulator::{AppConfig, EmulatorConfig, FaultKind, FaultRule};

const GRACE_SECONDS: i64 = 30;
/// How far both clocks move so that the first auth token (300 s) is expired.
const ADVANCE: u64 = 400;

struct Fixture {
    env: TestEnv,
    clock: Arc<ManualClock>,
    session: Session<Arc<WatchedStore>>,
    store: Arc<WatchedStore>,
    /// Bumped on every save to the store.
    store_saves: tokio::sync::watch::Sender<u64>,
    signed_in: StoredTokens,
}

/// A [`MemoryStore`] that announces every save (so a test waits for one without sleeping).
struct WatchedStore {
    inner: MemoryStore,
    saves: tokio::sync::watch::Sender<u64>,
}

impl TokenStore for WatchedStore {
    async fn load(&self) -> Result<Option<StoredTokens>, StoreError> {
        self.inner.load().await
    }

    async fn save(&self, tokens: &StoredTokens) -> Result<(), StoreError> {
        self.inner.save(tokens).await?;
        self.saves.send_modify(|n| *n += 1);
        Ok(())
    }

    async fn clear(&self) -> Result<(), StoreError> {
        self.inner.clear().await
    }

    async fn lock(&self) -> Result<StoreLock, StoreError> {
        self.inner.lock().await
    }
}

impl Fixture {
    async fn start(grace: i64, identifier: &str) -> Self {
        Self::start_with(
            grace,
            identifier,
            |env| env.retrying_client(),
            |session| session,
        )
        .await
    }

    /// A fixture whose session uses the client `client` makes and the settings `configure` adds.
    async fn start_with(
        grace: i64,
        identifier: &str,
        client: impl FnOnce(&TestEnv) -> Client,
        configure: impl FnOnce(SessionBuilder<MemoryStore>) -> SessionBuilder<MemoryStore>,
    ) -> Self {
        let env = TestEnv::with_config(EmulatorConfig {
            apps: vec![AppConfig {
                refresh_reuse_grace_seconds: grace,
                ..AppConfig::default()
            }],
            ..EmulatorConfig::default()
        })
        .await;
        let auth = env.register_by_otp(identifier).await;
        let clock = Arc::new(ManualClock::new(SystemTime::now()));
        let (store_saves, _) = tokio::sync::watch::channel(0);
        let store = Arc::new(WatchedStore {
            inner: MemoryStore::new(),
            saves: store_saves.clone(),
        });
        let session = configure(Session::builder(client(&env), env.app_id.clone()))
            .clock(clock.clone() as Arc<dyn Clock>)
            .store(store.clone())
            .build();
        session.sign_in(&auth).await.expect("sign in");
        let signed_in = StoredTokens::from_auth_result(&auth);
        Self {
            env,
            clock,
            session,
            store,
            store_saves,
            signed_in,
        }
    }

    /// Arms `count` faults of `kind` on `POST /tokens`.
    fn inject_refresh_faults(&self, kind: FaultKind, count: u32) {
        self.env.emulator.inject_fault(FaultRule {
            path_prefix: self.tokens_path(),
            method: Some("POST".into()),
            count,
            kind,
            retry_after: None,
            delay_ms: None,
            status: None,
        });
    }

    /// Moves both clocks past the signed-in token's expiry.
    fn expire(&self) {
        self.env.emulator.advance_clock(ADVANCE as i64);
        self.clock.advance(Duration::from_secs(ADVANCE));
    }

    fn tokens_path(&self) -> String {
        self.env.api_path("/tokens")
    }

    /// Statuses of the `POST /tokens` requests so far (`None`: connection dropped).
    fn refreshes(&self) -> Vec<Option<u16>> {
        let path = self.tokens_path();
        self.env
            .emulator
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path == path)
            .map(|r| r.status)
            .collect()
    }

    fn drop_next_refresh_answer(&self) {
        self.env.emulator.inject_fault(FaultRule {
            path_prefix: self.tokens_path(),
            method: Some("POST".into()),
            count: 1,
            kind: FaultKind::DropAfterProcessing,
            retry_after: None,
            delay_ms: None,
            status: None,
        });
    }

    async fn stored(&self) -> Option<StoredTokens> {
        self.store.load().await.expect("store load")
    }

    /// `POST /tokens` with `refresh_token`, outside the session, without retries.
    async fn raw_refresh(&self, refresh_token: &str) -> Result<StoredTokens, u16> {
        self.env
            .client
            .clone()
            .refresh_auth_token()
            .app_id(&self.env.app_id)
            .body(
                types::RefreshAuthTokenRequest::builder()
                    .refresh_token(SecretValue::new(refresh_token)),
            )
            .send()
            .await
            .map(|r| StoredTokens::from_auth_result(&r.into_inner().auth_result))
            .map_err(|e| e.status().map_or(0, |s| s.as_u16()))
    }

    async fn current_user_email(&self) -> Result<String, SessionError> {
        let app_id = self.env.app_id.clone();
        self.session
            .call(|client: Client| {
                let app_id = app_id.clone();
                async move { client.get_currentuser().app_id(app_id).send().await }
            })
            .await
            .map(|r| r.into_inner().user.email.clone())
    }
}

fn refresh_of(tokens: &StoredTokens) -> String {
    tokens
        .refresh_token
        .as_ref()
        .map(expose_secret)
        .expect("a refresh token")
}

fn auth_of(tokens: &StoredTokens) -> String {
    expose_secret(&tokens.auth_token)
}

fn expose_secret(s: &passage_auth_client::SecretValue) -> String {
    s.expose_secret().to_owned()
}

#[tokio::test]
async fn a_lost_refresh_answer_is_recovered_within_the_grace_window() {
    let f = Fixture::start(GRACE_SECONDS, "grace@example.com").await;
    f.expire();
    f.drop_next_refresh_answer();

    let token = f
        .session
        .auth_token()
        .await
        .expect("the session survives the lost answer");

    // The emulator rotated the token on the first request (its answer was dropped), then
    // answered the same refresh token presented again within the grace window.
    assert_eq!(f.refreshes(), vec![None, Some(201)]);
    let stored = f.stored().await.expect("the store holds a pair");
    assert_same_secret(
        &auth_of(&stored),
        &expose_secret(&token),
        "the stored auth token is the one handed out",
    );
    assert_different_secrets(
        &refresh_of(&stored),
        &refresh_of(&f.signed_in),
        "the refresh token rotated",
    );

    // The pair is the one the server issued in the lost answer: presenting the old refresh token
    // again (still within the grace window) returns exactly the stored pair.
    let again = f
        .raw_refresh(&refresh_of(&f.signed_in))
        .await
        .expect("within the grace window");
    assert!(again.same_as(&stored), "the same new pair");

    // The session works, and its stored refresh token is the live successor.
    assert_eq!(f.current_user_email().await.unwrap(), "grace@example.com");
    f.expire();
    let next = f
        .session
        .auth_token()
        .await
        .expect("the next rotation works");
    assert_different_secrets(
        &expose_secret(&next),
        &expose_secret(&token),
        "the next rotation issued a new auth token",
    );
    assert_eq!(f.refreshes(), vec![None, Some(201), Some(201), Some(201)]);
}

#[tokio::test]
async fn without_a_grace_window_a_lost_refresh_answer_ends_the_session() {
    let f = Fixture::start(0, "nograce@example.com").await;
    f.expire();
    f.drop_next_refresh_answer();

    // The rotation happened but its answer was lost; presenting the old token again is reuse:
    // the emulator revokes the family and the session ends cleanly.
    let err = f.session.auth_token().await.unwrap_err();
    assert!(matches!(err, SessionError::SessionExpired), "{err:?}");
    assert_eq!(f.refreshes(), vec![None, Some(401)]);
    assert!(f.stored().await.is_none(), "the store was cleared");
    assert!(!f.session.is_signed_in().await.unwrap());
    // The family is revoked: the old refresh token stays refused.
    assert_eq!(
        f.raw_refresh(&refresh_of(&f.signed_in)).await.err(),
        Some(401)
    );
}

#[tokio::test]
async fn a_reset_before_processing_is_recovered_with_or_without_grace() {
    for grace in [0, GRACE_SECONDS] {
        let f = Fixture::start(grace, "reset@example.com").await;
        f.expire();
        f.env.emulator.inject_fault(FaultRule {
            path_prefix: f.tokens_path(),
            method: Some("POST".into()),
            count: 1,
            kind: FaultKind::DropConnection,
            retry_after: None,
            delay_ms: None,
            status: None,
        });
        f.session
            .auth_token()
            .await
            .unwrap_or_else(|e| panic!("grace {grace}: refreshed on the second request: {e:?}"));
        assert_eq!(f.refreshes(), vec![None, Some(201)], "grace {grace}");
        assert_eq!(
            f.current_user_email().await.unwrap(),
            "reset@example.com",
            "grace {grace}"
        );
    }
}

#[tokio::test]
async fn a_503_is_retried_with_the_same_refresh_token() {
    let f = Fixture::start(0, "busy-once@example.com").await;
    f.expire();
    f.inject_refresh_faults(FaultKind::Status503, 1);
    f.session
        .auth_token()
        .await
        .expect("the second attempt of the refresh succeeds");
    // Without a grace window a second use of a rotated token would be a 401: the 503 rotated
    // nothing, and the retry presented the same, still live token.
    assert_eq!(f.refreshes(), vec![Some(503), Some(201)]);
    assert_eq!(
        f.current_user_email().await.unwrap(),
        "busy-once@example.com"
    );
}

#[tokio::test]
async fn an_unreadable_answer_is_retried_with_the_same_refresh_token() {
    let f = Fixture::start(0, "unreadable@example.com").await;
    f.expire();
    // A 201 whose body is cut short (the handler did not run: nothing rotated).
    f.env.emulator.inject_fault(FaultRule {
        path_prefix: f.tokens_path(),
        method: Some("POST".into()),
        count: 1,
        kind: FaultKind::TruncatedBody,
        retry_after: None,
        delay_ms: None,
        status: Some(201),
    });
    f.session
        .auth_token()
        .await
        .expect("the retry presents the same, still live token");
    assert_eq!(f.refreshes(), vec![Some(201), Some(201)]);
    assert_eq!(
        f.current_user_email().await.unwrap(),
        "unreadable@example.com"
    );
}

#[tokio::test]
async fn more_503s_than_attempts_keep_the_old_tokens_and_are_not_repeated_at_once() {
    let f = Fixture::start(GRACE_SECONDS, "busy@example.com").await;
    f.expire();
    // The session's refresh retry policy makes 3 attempts by default.
    f.inject_refresh_faults(FaultKind::Status503, 3);
    let err = f.session.auth_token().await.unwrap_err();
    let SessionError::RefreshFailed(inner) = &err else {
        panic!("{err:?}");
    };
    assert!(inner.is_transient(), "{inner:?}");
    assert_eq!(f.refreshes(), vec![Some(503); 3]);
    assert!(
        f.stored().await.unwrap().same_as(&f.signed_in),
        "old pair kept"
    );
    // Within the cool-down no request is made.
    assert!(matches!(
        f.session.auth_token().await,
        Err(SessionError::RefreshBackoff { .. })
    ));
    assert_eq!(f.refreshes().len(), 3);
    // After the session's cool-down (1 s by default, on the session clock) the refresh succeeds.
    f.clock.advance(Duration::from_secs(2));
    f.session
        .auth_token()
        .await
        .expect("refreshed after the backoff");
    assert_eq!(
        f.refreshes(),
        vec![Some(503), Some(503), Some(503), Some(201)]
    );
}

#[tokio::test]
async fn a_refresh_held_past_the_callers_timeout_still_lands_in_the_store() {
    let f = Fixture::start(0, "held@example.com").await;
    f.expire();
    // The emulator rotates the token at once, then holds the answer until released.
    f.env.emulator.inject_fault(FaultRule {
        path_prefix: f.tokens_path(),
        method: Some("POST".into()),
        count: 1,
        kind: FaultKind::HoldAfterProcessing,
        retry_after: None,
        delay_ms: None,
        status: None,
    });
    let mut saved = f.store_saves.subscribe();
    // The caller gives up once the server has rotated and holds the answer: it cannot have got
    // the answer by then, whatever the scheduling.
    let mut caller = Box::pin(f.session.auth_token());
    tokio::select! {
        answer = &mut caller => panic!("the caller got an answer the emulator holds: {answer:?}"),
        () = f.env.emulator.answers_held(1) => {}
    }
    drop(caller);
    assert_eq!(
        f.stored().await.map(|t| t.same_as(&f.signed_in)),
        Some(true)
    );
    f.env.emulator.release_held_answers();
    // Nobody asks again: the refresh goes on by itself and saves the rotated pair.
    tokio::time::timeout(Duration::from_secs(30), saved.changed())
        .await
        .expect("the refresh completed")
        .expect("the store is alive");
    let stored = f.stored().await.expect("a pair is stored");
    assert_different_secrets(
        &refresh_of(&stored),
        &refresh_of(&f.signed_in),
        "the rotated pair was stored",
    );
    assert_eq!(
        f.refreshes(),
        vec![Some(201)],
        "one rotation, no spent token presented"
    );
    // The stored pair is the live one: the session works with it and rotates it again.
    assert_eq!(f.current_user_email().await.unwrap(), "held@example.com");
    f.expire();
    f.session
        .auth_token()
        .await
        .expect("the next rotation works");
    assert_eq!(f.refreshes(), vec![Some(201), Some(201)]);
}

/// The issue behind this test: with the request timeout longer than the refresh retry budget (as
/// the defaults once were), a refresh whose answer came after the timeout was never presented
/// again, although the server had rotated the pair and would have returned it within its reuse
/// grace window; the next refresh then presented the spent token and the server revoked the family.
/// Here the emulator rotates at once and holds the answer far longer than the client's request
/// timeout (it never arrives during the test), and the refresh budget is shorter than the timeout.
#[tokio::test]
async fn a_refresh_answer_held_past_the_request_timeout_keeps_the_session() {
    const TIMEOUT: Duration = Duration::from_millis(300);
    let f = Fixture::start_with(
        GRACE_SECONDS,
        "slow-answer@example.com",
        |env| {
            ClientBuilder::new()
                .base_url(env.emulator.base_url())
                .timeout(TIMEOUT)
                .build()
                .expect("client builds")
        },
        |session| {
            session
                .refresh_retry(RetryPolicy::default().budget(TIMEOUT / 2))
                .server_reuse_grace(Duration::from_secs(GRACE_SECONDS as u64))
        },
    )
    .await;
    f.expire();
    f.env.emulator.inject_fault(FaultRule {
        path_prefix: f.tokens_path(),
        method: Some("POST".into()),
        count: 1,
        kind: FaultKind::DelayAfterProcessing,
        retry_after: None,
        // Ten minutes: the held answer cannot reach the client before its timeout.
        delay_ms: Some(600_000),
        status: None,
    });
    let token =
        f.session.auth_token().await.expect(
            "the same refresh token, presented again within the grace window, got the pair",
        );
    let stored = f.stored().await.expect("a pair is stored");
    assert_same_secret(
        &expose_secret(&token),
        &auth_of(&stored),
        "the token handed out is stored",
    );
    assert_different_secrets(
        &refresh_of(&stored),
        &refresh_of(&f.signed_in),
        "the rotated pair was stored",
    );
    // The held request is still unanswered; the second presentation got the rotated pair.
    assert_eq!(f.refreshes().last(), Some(&Some(201)));
    // The session is alive on the server: the stored pair rotates again, no reuse is detected.
    f.expire();
    f.session
        .auth_token()
        .await
        .expect("the next rotation works");
    assert_eq!(f.refreshes().last(), Some(&Some(201)));
    assert_eq!(
        f.current_user_email().await.unwrap(),
        "slow-answer@example.com"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_callers_cause_one_refresh_on_the_emulator() {
    let f = Fixture::start(0, "crowd@example.com").await;
    f.expire();
    let callers: Vec<_> = (0..1000)
        .map(|_| {
            let session = f.session.clone();
            tokio::spawn(async move { session.auth_token().await.map(|t| expose_secret(&t)) })
        })
        .collect();
    let mut tokens = std::collections::HashSet::new();
    for caller in callers {
        tokens.insert(caller.await.unwrap().expect("a token"));
    }
    assert_eq!(tokens.len(), 1, "every caller got the same new token");
    assert_eq!(f.refreshes(), vec![Some(201)], "exactly one POST /tokens");
    let stored = f.stored().await.unwrap();
    assert!(tokens.contains(&auth_of(&stored)));
}
