//! A refresh whose answer is lost must not end the session (with the server's reuse grace window),
//! and any number of concurrent callers cause one refresh — against the emulator over real HTTP.
//!
//! Time: the session runs on a [`ManualClock`] and the emulator's clock is advanced by the same
//! amount, so the signed-in auth token is expired for both without any sleep.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use passage_auth_client::{
    types, Client, Clock, ManualClock, MemoryStore, SecretValue, Session, SessionError,
    StoredTokens, TokenStore,
};
use passage_e2e::harness::{assert_different_secrets, assert_same_secret, TestEnv};
use passage_emulator::{AppConfig, EmulatorConfig, FaultKind, FaultRule};
use secrecy::{ExposeSecret, SecretString};

const GRACE_SECONDS: i64 = 30;
/// How far both clocks move so that the first auth token (300 s) is expired.
const ADVANCE: u64 = 400;

struct Fixture {
    env: TestEnv,
    clock: Arc<ManualClock>,
    session: Session<Arc<MemoryStore>>,
    store: Arc<MemoryStore>,
    signed_in: StoredTokens,
}

impl Fixture {
    async fn start(grace: i64, identifier: &str) -> Self {
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
        let store = Arc::new(MemoryStore::new());
        let session = Session::builder(env.retrying_client(), env.app_id.clone())
            .clock(clock.clone() as Arc<dyn Clock>)
            .refresh_timeout(Duration::from_secs(10))
            .store(store.clone())
            .build();
        session.sign_in(&auth).await.expect("sign in");
        let signed_in = StoredTokens::from_auth_result(&auth);
        Self {
            env,
            clock,
            session,
            store,
            signed_in,
        }
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
            .direct_client()
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

fn expose_secret(s: &SecretString) -> String {
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
async fn a_503_keeps_the_old_tokens_and_is_not_repeated_at_once() {
    let f = Fixture::start(GRACE_SECONDS, "busy@example.com").await;
    f.expire();
    f.env.emulator.inject_fault(FaultRule {
        path_prefix: f.tokens_path(),
        method: Some("POST".into()),
        count: 1,
        kind: FaultKind::Status503,
        retry_after: None,
        delay_ms: None,
        status: None,
    });
    let err = f.session.auth_token().await.unwrap_err();
    assert!(matches!(err, SessionError::RefreshFailed(_)), "{err:?}");
    assert_eq!(f.refreshes(), vec![Some(503)]);
    assert!(
        f.stored().await.unwrap().same_as(&f.signed_in),
        "old pair kept"
    );
    // After the session's backoff (1 s by default, on the session clock) the refresh succeeds.
    f.clock.advance(Duration::from_secs(2));
    f.session
        .auth_token()
        .await
        .expect("refreshed after the backoff");
    assert_eq!(f.refreshes(), vec![Some(503), Some(201)]);
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
