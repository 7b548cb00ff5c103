//! Sessions against the test server: proactive and single-flight refresh,
//! rotation, failures without loss, expiry, revoke, the 401 retry, the file
//! store, and that no token shows in Debug, Display or logs.

mod support;

use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use passage_auth_client::CredentialsExt;
use passage_auth_client::{
    ClientBuilder, FileStore, MagicLinkExt, MemoryStore, PollPolicy, RetryPolicy, Session,
    SessionError, StoredTokens, TokenStore,
};
#[cfg(feature = "verify")]
use passage_auth_client::{TokenVerifier, VerifierConfig};
use support::{Fault, Server, APP_ID};
use tokio::sync::Notify;

fn session(server: &Server) -> Session {
    Session::builder(server.client(), APP_ID)
        .clock(server.clock())
        .build()
}

/// A session whose refreshes make one attempt each (no retry inside a refresh).
async fn signed_in_single_attempt(server: &Server) -> (Session, StoredTokens) {
    let session = Session::builder(server.client(), APP_ID)
        .clock(server.clock())
        .refresh_retry(RetryPolicy::none())
        .build();
    let auth = server.state.auth_result();
    session.sign_in(&auth).await.unwrap();
    (session, StoredTokens::from_auth_result(&auth))
}

/// Retries inside a refresh with (almost) no wait.
fn quick_retries(attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(attempts)
        .initial_backoff(Duration::from_millis(1))
        .max_backoff(Duration::from_millis(2))
}

async fn signed_in(server: &Server) -> (Session, StoredTokens) {
    let session = session(server);
    let auth = server.state.auth_result();
    session.sign_in(&auth).await.unwrap();
    (session, StoredTokens::from_auth_result(&auth))
}

async fn stored(session: &Session) -> StoredTokens {
    session
        .store()
        .load()
        .await
        .unwrap()
        .expect("the store holds tokens")
}

#[tokio::test]
async fn a_fresh_token_is_handed_out_without_a_request() {
    let server = Server::start().await;
    let (session, first) = signed_in(&server).await;
    let token = session.auth_token().await.unwrap();
    assert_eq!(token.expose_secret(), first.auth_token.expose_secret());
    assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_token_within_the_skew_is_refreshed_and_saved_first() {
    let server = Server::start().await;
    let (session, first) = signed_in(&server).await;
    // Tokens live 300 s; at 275 s the default 30 s skew asks for a refresh.
    server.clock().advance(Duration::from_secs(275));
    let token = session.auth_token().await.unwrap();
    assert_ne!(token.expose_secret(), first.auth_token.expose_secret());
    assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 1);
    let saved = stored(&session).await;
    assert_eq!(saved.auth_token.expose_secret(), token.expose_secret());
    // Rotation: the old refresh token is spent, the stored one is live.
    let old_refresh = first.refresh_token.unwrap();
    assert!(!server.state.is_valid_refresh(old_refresh.expose_secret()));
    assert!(server
        .state
        .is_valid_refresh(saved.refresh_token.unwrap().expose_secret()));
}

#[tokio::test]
async fn rotation_uses_the_latest_refresh_token_every_time() {
    let server = Server::start().await;
    let (session, _) = signed_in(&server).await;
    let mut seen = Vec::new();
    for round in 1..=3 {
        server.clock().advance(Duration::from_secs(290));
        let token = session.auth_token().await.unwrap();
        seen.push(token.expose_secret().to_string());
        assert_eq!(server.state.token_posts.load(Ordering::SeqCst), round);
        let saved = stored(&session).await;
        assert!(server
            .state
            .is_valid_refresh(saved.refresh_token.unwrap().expose_secret()));
    }
    seen.dedup();
    assert_eq!(seen.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_callers_cause_one_refresh() {
    let server = Server::start().await;
    let (session, first) = signed_in(&server).await;
    server.clock().advance(Duration::from_secs(400));
    // Keep the refresh in flight while all callers arrive.
    *server.state.refresh_delay.lock().unwrap() = Duration::from_millis(50);
    let barrier = Arc::new(tokio::sync::Barrier::new(1000));
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let session = session.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                session
                    .auth_token()
                    .await
                    .map(|t| t.expose_secret().to_string())
            })
        })
        .collect();
    let mut tokens = Vec::new();
    for task in tasks {
        tokens.push(task.await.unwrap().unwrap());
    }
    assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 1);
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "every caller got the same new token");
    assert_ne!(tokens[0], first.auth_token.expose_secret());
}

#[tokio::test]
async fn a_caller_giving_up_does_not_lose_the_rotated_pair() {
    let server = Server::start().await;
    let (session, first) = signed_in(&server).await;
    server.clock().advance(Duration::from_secs(400));
    let release = Arc::new(Notify::new());
    server.state.push_token_fault(Fault::Hold(release.clone()));
    // The caller stops waiting once the refresh has reached the server...
    {
        let caller = session.auth_token();
        tokio::pin!(caller);
        while server.state.token_posts.load(Ordering::SeqCst) == 0 {
            tokio::select! {
                biased;
                result = &mut caller => panic!("the held refresh ended: {result:?}"),
                () = tokio::task::yield_now() => {}
            }
        }
    }
    release.notify_one();
    // ...yet the refresh completes and its pair is kept: the next caller
    // gets it without a second request (which would use a spent token).
    let token = session.auth_token().await.unwrap();
    assert_ne!(token.expose_secret(), first.auth_token.expose_secret());
    assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 1);
    assert_eq!(
        stored(&session).await.auth_token.expose_secret(),
        token.expose_secret()
    );
}

#[tokio::test]
async fn transient_failures_keep_the_old_tokens_and_back_off() {
    for fault in [
        Fault::Api(500, "internal_server_error"),
        Fault::Status(503, None),
    ] {
        let server = Server::start().await;
        let (session, first) = signed_in_single_attempt(&server).await;
        server.clock().advance(Duration::from_secs(400)); // expired
        server.state.push_token_fault(fault.clone());
        let err = session.auth_token().await.unwrap_err();
        assert!(
            matches!(err, SessionError::RefreshFailed(_)),
            "{fault:?}: {err:?}"
        );
        assert!(stored(&session).await.same_as(&first), "nothing lost");
        assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 1);

        // Within the backoff: no request.
        let err = session.auth_token().await.unwrap_err();
        assert!(
            matches!(err, SessionError::RefreshBackoff { .. }),
            "{err:?}"
        );
        assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 1);

        // After it, the kept refresh token still works.
        server.clock().advance(Duration::from_secs(1));
        let token = session.auth_token().await.unwrap();
        assert_ne!(token.expose_secret(), first.auth_token.expose_secret());
        assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 2);
    }
}

#[tokio::test]
async fn backoff_doubles_while_failures_repeat() {
    let server = Server::start().await;
    let (session, first) = signed_in_single_attempt(&server).await;
    server.clock().advance(Duration::from_secs(400));
    for _ in 0..3 {
        server
            .state
            .push_token_fault(Fault::Api(500, "internal_server_error"));
    }
    let mut waits = Vec::new();
    for _ in 0..3 {
        assert!(matches!(
            session.auth_token().await,
            Err(SessionError::RefreshFailed(_))
        ));
        let Err(SessionError::RefreshBackoff { retry_in }) = session.auth_token().await else {
            panic!("expected a backoff");
        };
        waits.push(retry_in);
        server.clock().advance(retry_in);
    }
    assert_eq!(waits, [1, 2, 4].map(Duration::from_secs), "1 s, 2 s, 4 s");
    assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 3);
    // Once the last backoff has passed, the next refresh is made and succeeds.
    let token = session.auth_token().await.unwrap();
    assert_ne!(token.expose_secret(), first.auth_token.expose_secret());
    assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 4);
}

/// A session on a client whose request timeout is 50 ms, retrying a refresh
/// twice, with the given server reuse grace window.
async fn timing_out_session(server: &Server, grace: Duration) -> (Session, StoredTokens) {
    // The only time limit of a refresh is the client's request timeout.
    let client = ClientBuilder::new()
        .base_url(passage_auth_client::ClientInfo::baseurl(&server.client()))
        .timeout(Duration::from_millis(50))
        .build()
        .unwrap();
    let session = Session::builder(client, APP_ID)
        .clock(server.clock())
        .refresh_retry(quick_retries(2))
        .server_reuse_grace(grace)
        .build();
    let auth = server.state.auth_result();
    session.sign_in(&auth).await.unwrap();
    server.clock().advance(Duration::from_secs(400));
    // The server never answers: both attempts of the policy time out.
    for _ in 0..2 {
        server
            .state
            .push_token_fault(Fault::Hold(Arc::new(Notify::new())));
    }
    (session, StoredTokens::from_auth_result(&auth))
}

#[tokio::test]
async fn a_timed_out_refresh_keeps_the_old_tokens() {
    let server = Server::start().await;
    // Without a reuse grace window only the retry policy applies.
    let (session, first) = timing_out_session(&server, Duration::ZERO).await;
    let err = session.auth_token().await.unwrap_err();
    let SessionError::RefreshFailed(inner) = &err else {
        panic!("{err:?}");
    };
    assert!(matches!(
        inner,
        passage_auth_client::Error::Transport { timeout: true, .. }
    ));
    assert!(inner.is_transient());
    assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 2);
    assert!(stored(&session).await.same_as(&first));
}

#[tokio::test]
async fn a_timed_out_refresh_is_presented_again_within_the_grace_window() {
    let server = Server::start().await;
    // The policy's two attempts time out; their outcome is unknown, so the
    // same refresh token goes out a third time while the window is open.
    let (session, first) = timing_out_session(&server, Duration::from_secs(30)).await;
    let token = session.auth_token().await.unwrap();
    assert_ne!(token.expose_secret(), first.auth_token.expose_secret());
    assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 3);
    assert_eq!(
        stored(&session).await.auth_token.expose_secret(),
        token.expose_secret()
    );
}

#[tokio::test]
async fn transient_failures_are_retried_within_one_refresh() {
    let server = Server::start().await;
    let session = Session::builder(server.client(), APP_ID)
        .clock(server.clock())
        .refresh_retry(quick_retries(3))
        .build();
    let auth = server.state.auth_result();
    session.sign_in(&auth).await.unwrap();
    server.clock().advance(Duration::from_secs(400));
    server.state.push_token_fault(Fault::Status(503, None));
    server.state.push_token_fault(Fault::Status(429, Some(0)));
    let token = session.auth_token().await.unwrap();
    assert_ne!(token.expose_secret(), auth.auth_token.expose_secret());
    assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 3);
    assert_eq!(
        stored(&session).await.auth_token.expose_secret(),
        token.expose_secret()
    );

    // More failures than attempts: a typed transient error after exactly
    // three requests, the tokens kept, and no request during the cool-down.
    server.clock().advance(Duration::from_secs(400));
    for _ in 0..3 {
        server
            .state
            .push_token_fault(Fault::Api(500, "internal_server_error"));
    }
    let before = stored(&session).await;
    let err = session.auth_token().await.unwrap_err();
    let SessionError::RefreshFailed(inner) = &err else {
        panic!("{err:?}");
    };
    assert!(inner.is_transient(), "{inner:?}");
    assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 6);
    assert!(stored(&session).await.same_as(&before));
    assert!(matches!(
        session.auth_token().await,
        Err(SessionError::RefreshBackoff { .. })
    ));
    assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 6);
}

#[tokio::test]
async fn other_client_errors_are_permanent_not_expiry_and_not_repeated() {
    for (status, code) in [
        (400, "invalid_request"),
        (403, "operation_not_allowed"),
        (404, "app_not_found"),
        (401, "invalid_access_token"),
    ] {
        let server = Server::start().await;
        let session = Session::builder(server.client(), APP_ID)
            .clock(server.clock())
            .refresh_retry(quick_retries(3))
            .build();
        let auth = server.state.auth_result();
        let first = StoredTokens::from_auth_result(&auth);
        session.sign_in(&auth).await.unwrap();
        server.clock().advance(Duration::from_secs(400));
        server.state.push_token_fault(Fault::Api(status, code));
        let err = session.auth_token().await.unwrap_err();
        let SessionError::RefreshRejected(inner) = &err else {
            panic!("{status} {code}: {err:?}");
        };
        assert_eq!(inner.status().map(|s| s.as_u16()), Some(status));
        assert!(!inner.is_transient());
        // Not retried, not ended: the pair is kept...
        assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 1, "{code}");
        assert!(stored(&session).await.same_as(&first), "{code}");
        assert!(session.is_signed_in().await.unwrap());
        // ...and not presented again: the same answer would come back.
        let again = session.auth_token().await.unwrap_err();
        assert!(
            matches!(again, SessionError::RefreshRejected(_)),
            "{again:?}"
        );
        assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 1, "{code}");
        // New tokens start over.
        session.sign_in(&server.state.auth_result()).await.unwrap();
        server.clock().advance(Duration::from_secs(400));
        session.auth_token().await.unwrap();
        assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 2, "{code}");
    }
}

#[tokio::test]
async fn a_session_uses_a_pair_rotated_by_another_session_on_its_store() {
    let server = Server::start().await;
    let store = Arc::new(MemoryStore::new());
    let build = || {
        Session::builder(server.client(), APP_ID)
            .clock(server.clock())
            .store(store.clone())
            .build()
    };
    let (a, b) = (build(), build());
    let auth = server.state.auth_result();
    a.sign_in(&auth).await.unwrap();
    assert!(b.is_signed_in().await.unwrap(), "b loaded the pair");
    server.clock().advance(Duration::from_secs(400));
    let from_a = a.auth_token().await.unwrap();
    // b still holds the spent pair in memory; it re-reads the store before
    // refreshing and uses a's pair instead of presenting the spent token.
    let from_b = b.auth_token().await.unwrap();
    assert_eq!(from_a.expose_secret(), from_b.expose_secret());
    assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_signed_out_session_picks_up_a_sign_in_made_elsewhere_on_its_store() {
    let server = Server::start().await;
    let store = Arc::new(MemoryStore::new());
    let build = || {
        Session::builder(server.client(), APP_ID)
            .clock(server.clock())
            .store(store.clone())
            .build()
    };
    let (a, b) = (build(), build());
    assert!(matches!(
        b.auth_token().await,
        Err(SessionError::NotSignedIn)
    ));
    assert!(!b.is_signed_in().await.unwrap());
    let auth = server.state.auth_result();
    a.sign_in(&auth).await.unwrap();
    assert!(b.is_signed_in().await.unwrap());
    let token = b.auth_token().await.unwrap();
    assert_eq!(token.expose_secret(), auth.auth_token.expose_secret());
    assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn compare_before_clear_keeps_a_pair_saved_by_someone_else() {
    let dir = tempfile::tempdir().unwrap();
    let ours = StoredTokens::new("auth-ours", Some("refresh-ours".into()));
    let theirs = StoredTokens::new("auth-theirs", Some("refresh-theirs".into()));
    let file = FileStore::new(dir.path().join("t.json"));
    let memory = MemoryStore::new();
    for store in [&file as &dyn Probe, &memory] {
        store.save_now(&theirs).await;
        assert!(!store.clear_if_now(&ours).await, "another pair is kept");
        assert!(store.load_now().await.unwrap().same_as(&theirs));
        assert!(store.clear_if_now(&theirs).await, "its own pair is cleared");
        assert!(store.load_now().await.is_none());
        assert!(store.clear_if_now(&ours).await, "nothing stored: empty");
    }
}

/// Object-safe view of the two stores for the test above.
trait Probe {
    fn save_now<'a>(&'a self, t: &'a StoredTokens) -> futures::future::BoxFuture<'a, ()>;
    fn clear_if_now<'a>(&'a self, t: &'a StoredTokens) -> futures::future::BoxFuture<'a, bool>;
    fn load_now(&self) -> futures::future::BoxFuture<'_, Option<StoredTokens>>;
}

impl<S: TokenStore> Probe for S {
    fn save_now<'a>(&'a self, t: &'a StoredTokens) -> futures::future::BoxFuture<'a, ()> {
        Box::pin(async move { self.save(t).await.unwrap() })
    }
    fn clear_if_now<'a>(&'a self, t: &'a StoredTokens) -> futures::future::BoxFuture<'a, bool> {
        Box::pin(async move { self.clear_if(t).await.unwrap() })
    }
    fn load_now(&self) -> futures::future::BoxFuture<'_, Option<StoredTokens>> {
        Box::pin(async move { self.load().await.unwrap() })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_sharing_one_token_file_never_present_a_spent_token() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let auth = server.state.auth_result();
    FileStore::new(&path)
        .save(&StoredTokens::from_auth_result(&auth))
        .await
        .unwrap();
    // A skew longer than the token's life: every call refreshes.
    let sessions: Vec<_> = (0..2)
        .map(|_| {
            Session::builder(server.client(), APP_ID)
                .clock(server.clock())
                .store(FileStore::new(&path))
                .refresh_skew(Duration::from_secs(100_000))
                .build()
        })
        .collect();
    let tasks: Vec<_> = sessions
        .iter()
        .cloned()
        .map(|session| {
            tokio::spawn(async move {
                for _ in 0..20 {
                    session.auth_token().await?;
                }
                Ok::<_, SessionError>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().expect("no session ended");
    }
    // 40 rotations, each with the latest refresh token (a spent one would get 401).
    assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 40);
    let last = FileStore::new(&path).load().await.unwrap().unwrap();
    assert!(server
        .state
        .is_valid_refresh(last.refresh_token.unwrap().expose_secret()));
}

#[tokio::test]
async fn extreme_durations_saturate_instead_of_panicking() {
    let server = Server::start().await;
    let session = Session::builder(server.client(), APP_ID)
        .clock(server.clock())
        .refresh_skew(Duration::MAX)
        .refresh_backoff(Duration::MAX, Duration::MAX)
        .refresh_retry(
            RetryPolicy::default()
                .max_attempts(u32::MAX)
                .budget(Duration::MAX)
                .max_retry_after(Duration::MAX)
                .initial_backoff(Duration::ZERO)
                .max_backoff(Duration::ZERO),
        )
        .build();
    session.sign_in(&server.state.auth_result()).await.unwrap();
    // A `Retry-After` of u64::MAX seconds is accepted by this policy: the
    // sums (elapsed + wait) saturate and the refresh waits for it (the caller
    // stops waiting; nothing panics).
    server
        .state
        .push_token_fault(Fault::Status(503, Some(u64::MAX)));
    let wait = tokio::time::timeout(Duration::from_millis(200), session.auth_token()).await;
    assert!(wait.is_err(), "waiting for the Retry-After");
    assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 1);

    // The cool-down of `Duration::MAX` after a transient failure saturates too.
    let server = Server::start().await;
    let session = Session::builder(server.client(), APP_ID)
        .clock(server.clock())
        .refresh_skew(Duration::MAX)
        .refresh_backoff(Duration::MAX, Duration::MAX)
        .refresh_retry(RetryPolicy::none())
        .build();
    session.sign_in(&server.state.auth_result()).await.unwrap();
    server.clock().advance(Duration::from_secs(400));
    server
        .state
        .push_token_fault(Fault::Api(500, "internal_server_error"));
    assert!(matches!(
        session.auth_token().await,
        Err(SessionError::RefreshFailed(_))
    ));
    let Err(SessionError::RefreshBackoff { retry_in }) = session.auth_token().await else {
        panic!("expected the cool-down");
    };
    assert!(retry_in > Duration::from_secs(365 * 86_400), "{retry_in:?}");
}

#[tokio::test]
async fn a_failed_proactive_refresh_still_hands_out_the_unexpired_token() {
    let server = Server::start().await;
    let (session, first) = signed_in_single_attempt(&server).await;
    server.clock().advance(Duration::from_secs(280)); // in the skew, not expired
    server
        .state
        .push_token_fault(Fault::Api(500, "internal_server_error"));
    let token = session.auth_token().await.unwrap();
    assert_eq!(token.expose_secret(), first.auth_token.expose_secret());
    assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 1);
    // And within the backoff no new request is made.
    session.auth_token().await.unwrap();
    assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_rejected_refresh_token_ends_the_session_and_clears_the_store() {
    let server = Server::start().await;
    let (session, first) = signed_in(&server).await;
    // The server forgets the refresh token (revoked elsewhere, expired).
    server
        .state
        .valid_refresh
        .lock()
        .unwrap()
        .remove(first.refresh_token.as_ref().unwrap().expose_secret());
    server.clock().advance(Duration::from_secs(400));
    let err = session.auth_token().await.unwrap_err();
    assert!(matches!(err, SessionError::SessionExpired), "{err:?}");
    assert!(session.store().load().await.unwrap().is_none());
    let err = session.auth_token().await.unwrap_err();
    assert!(matches!(err, SessionError::NotSignedIn), "{err:?}");
    assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn revoke_deletes_the_refresh_token_and_clears_the_store() {
    let server = Server::start().await;
    let (session, first) = signed_in(&server).await;
    session.revoke().await.unwrap();
    assert_eq!(server.state.token_deletes.load(Ordering::SeqCst), 1);
    assert_eq!(
        server.state.revoked.lock().unwrap().as_slice(),
        [first.refresh_token.unwrap().expose_secret().to_string()]
    );
    assert!(session.store().load().await.unwrap().is_none());
    assert!(!session.is_signed_in().await.unwrap());
    assert!(matches!(
        session.auth_token().await,
        Err(SessionError::NotSignedIn)
    ));
}

#[tokio::test]
async fn a_rejected_access_token_causes_one_refresh_and_one_retry() {
    let server = Server::start().await;
    let (session, _) = signed_in(&server).await;
    server.state.reject_access.store(1, Ordering::SeqCst);
    let me = session
        .call(|client| async move { client.get_currentuser().app_id(APP_ID).send().await })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(me.user.id, "user_1");
    assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 1);
    assert_eq!(server.state.currentuser_calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_second_rejection_is_returned_not_retried() {
    let server = Server::start().await;
    let (session, _) = signed_in(&server).await;
    server.state.reject_access.store(10, Ordering::SeqCst);
    let err = session
        .call(|client| async move { client.get_currentuser().app_id(APP_ID).send().await })
        .await
        .unwrap_err();
    let SessionError::Api(inner) = &err else {
        panic!("{err:?}");
    };
    assert_eq!(inner.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 1);
    assert_eq!(server.state.currentuser_calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_token_without_exp_is_refreshed_only_when_rejected() {
    let server = Server::start().await;
    let (_, refresh) = server.state.mint_pair();
    let session = session(&server);
    session
        .set_tokens(StoredTokens::new(
            "opaque-token-the-server-refuses",
            Some(refresh),
        ))
        .await
        .unwrap();
    server.clock().advance(Duration::from_secs(100_000));
    let token = session.auth_token().await.unwrap();
    assert_eq!(token.expose_secret(), "opaque-token-the-server-refuses");
    assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 0);
    let me = session
        .call(|client| async move { client.get_currentuser().app_id(APP_ID).send().await })
        .await
        .unwrap();
    assert_eq!(me.into_inner().user.id, "user_1");
    assert_eq!(server.state.token_posts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn session_client_carries_the_bearer_token() {
    let server = Server::start().await;
    let (session, _) = signed_in(&server).await;
    let client = session.client().await.unwrap();
    assert!(client.state().has_bearer());
    let me = client
        .get_currentuser()
        .app_id(APP_ID)
        .send()
        .await
        .unwrap();
    assert_eq!(me.into_inner().user.id, "user_1");
}

#[tokio::test]
async fn a_session_picks_up_tokens_already_in_its_store() {
    let server = Server::start().await;
    let auth = server.state.auth_result();
    let session = Session::builder(server.client(), APP_ID)
        .clock(server.clock())
        .store(MemoryStore::with_tokens(StoredTokens::from_auth_result(
            &auth,
        )))
        .build();
    assert!(session.is_signed_in().await.unwrap());
    let token = session.auth_token().await.unwrap();
    assert_eq!(token.expose_secret(), auth.auth_token.expose_secret());
}

#[cfg(unix)]
#[tokio::test]
async fn the_file_store_writes_atomically_with_mode_0600() {
    use std::os::unix::fs::PermissionsExt;

    let server = Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let session = Session::builder(server.client(), APP_ID)
        .clock(server.clock())
        .store(FileStore::new(&path))
        .build();
    let auth = server.state.auth_result();
    session.sign_in(&auth).await.unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    server.clock().advance(Duration::from_secs(400));
    let token = session.auth_token().await.unwrap();
    let reread = FileStore::new(&path).load().await.unwrap().unwrap();
    assert_eq!(reread.auth_token.expose_secret(), token.expose_secret());
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // Only the token file and its lock file are left: no temporary files.
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["tokens.json", "tokens.json.lock"].map(std::ffi::OsString::from)
    );
    assert_eq!(
        std::fs::metadata(FileStore::new(&path).lock_path())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );

    session.revoke().await.unwrap();
    assert!(!path.exists());
    assert!(FileStore::new(&path).load().await.unwrap().is_none());
}

#[tokio::test]
async fn the_file_store_reports_corrupt_files_without_showing_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    std::fs::write(&path, "secret-looking-garbage-value").unwrap();
    let err = FileStore::new(&path).load().await.unwrap_err();
    assert!(!format!("{err} {err:?}").contains("secret-looking"));
}

/// A `MakeWriter` that keeps everything written.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[tokio::test]
async fn no_token_shows_in_debug_display_or_logs() {
    let server = Server::start().await;
    // A global subscriber (a scoped one can miss events through tracing's
    // callsite cache when other tests run at the same time); it also
    // captures the other tests' logs, which only makes the check stricter.
    static CAPTURED: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    let captured = CAPTURED
        .get_or_init(|| {
            let captured = Captured::default();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_writer(captured.clone())
                .with_ansi(false)
                .finish();
            tracing::subscriber::set_global_default(subscriber).unwrap();
            captured
        })
        .clone();
    let mut shown = Vec::<String>::new();
    let mut show = |label: &str, value: String| shown.push(format!("{label}: {value}"));

    // Magic link: two polls, one transient failure, then the result.
    let client = server.client();
    server.state.push_status_fault(Fault::Status(503, None));
    let state = server.state.clone();
    let wait = client
        .wait_for_magic_link(APP_ID, "ml_1")
        .policy(
            PollPolicy::default()
                .initial_interval(Duration::from_millis(1))
                .max_interval(Duration::from_millis(2)),
        )
        .on_progress(move |p| {
            if p.attempts == 2 {
                state.magic_link_ready.store(true, Ordering::SeqCst);
            }
        });
    show("wait", format!("{wait:?}"));
    let auth = wait.await.unwrap();
    show("auth", format!("{auth:?}"));

    // Session: sign in, refresh, a rejected call with a retry, a failed refresh, revoke.
    let progress = Arc::new(Mutex::new(None));
    let seen = progress.clone();
    server
        .state
        .push_status_fault(Fault::Api(401, "invalid_magic_link"));
    let failed = client
        .wait_for_magic_link(APP_ID, "ml_1")
        .on_progress(move |p| *seen.lock().unwrap() = Some(*p))
        .await
        .unwrap_err();
    show("wait error", format!("{failed} / {failed:?}"));
    show("progress", format!("{:?}", progress.lock().unwrap()));

    let builder = Session::builder(server.client(), APP_ID).clock(server.clock());
    show("builder", format!("{builder:?}"));
    let session = builder.build();
    session.sign_in(&auth).await.unwrap();
    show("session", format!("{session:?}"));
    let dir = tempfile::tempdir().unwrap();
    let file_store = FileStore::new(dir.path().join("t.json"));
    file_store
        .save(&StoredTokens::from_auth_result(&auth))
        .await
        .unwrap();
    show("file store", format!("{file_store:?}"));
    std::fs::write(file_store.path(), auth.auth_token.expose_secret()).unwrap();
    let err = file_store.load().await.unwrap_err();
    show("store error", format!("{err} / {err:?}"));
    show("tokens", format!("{:?}", stored(&session).await));
    show("store", format!("{:?}", session.store()));
    server.clock().advance(Duration::from_secs(290));
    let token = session.auth_token().await.unwrap();
    show("token", format!("{token:?}"));
    server.state.reject_access.store(1, Ordering::SeqCst);
    session
        .call(|client| async move { client.get_currentuser().app_id(APP_ID).send().await })
        .await
        .unwrap();
    show("client", format!("{:?}", session.client().await.unwrap()));
    server.clock().advance(Duration::from_secs(400));
    // One failure per attempt of the refresh's retry policy (3 by default).
    for _ in 0..3 {
        server
            .state
            .push_token_fault(Fault::Api(500, "internal_server_error"));
    }
    let err = session.auth_token().await.unwrap_err();
    show("refresh error", format!("{err} / {err:?}"));
    let err = session.auth_token().await.unwrap_err();
    show("backoff error", format!("{err} / {err:?}"));
    server.clock().advance(Duration::from_secs(2));
    let fresh = session.auth_token().await.unwrap();

    // Verification of a real signed token and of a bad one.
    let mut verified_tokens: Vec<String> = Vec::new();
    #[cfg(feature = "verify")]
    {
        let verifier = TokenVerifier::new(server.client(), APP_ID, VerifierConfig::default())
            .with_clock(server.clock());
        let now = support::unix(passage_auth_client::Clock::now(&*server.clock()));
        let signed = support::key_a().sign(
            Some(support::key_a().kid),
            &serde_json::json!({"sub": "user_1", "iss": verifier.issuer(), "aud": [APP_ID], "exp": now + 60, "iat": now}),
        );
        let claims = verifier.verify(&signed).await.unwrap();
        show("claims", format!("{claims:?}"));
        show("verifier", format!("{verifier:?}"));
        let tampered = format!("{}x", &signed[..signed.len() - 1]);
        let err = verifier.verify(&tampered).await.unwrap_err();
        show("verify error", format!("{err} / {err:?}"));
        verified_tokens.push(signed);
    }

    session.revoke().await.unwrap();
    let err = session.auth_token().await.unwrap_err();
    show("after revoke", format!("{err} / {err:?}"));

    // A rejected refresh token.
    let expired = Session::builder(server.client(), APP_ID)
        .clock(server.clock())
        .build();
    expired
        .set_tokens(StoredTokens::new(
            support::unsigned_jwt(&serde_json::json!({"exp": 1})),
            Some("rt_unknown_to_the_server_1234567890".into()),
        ))
        .await
        .unwrap();
    let err = expired.auth_token().await.unwrap_err();
    assert!(matches!(err, SessionError::SessionExpired));
    show("expired", format!("{err} / {err:?}"));

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("refreshing the auth token"),
        "the flow was logged: {logs}"
    );
    let mut secrets = server.state.minted.lock().unwrap().clone();
    secrets.push(fresh.expose_secret().to_string());
    secrets.extend(verified_tokens);
    secrets.push("rt_unknown_to_the_server_1234567890".into());
    assert!(secrets.len() >= 8);
    let everything = format!("{}\n{logs}", shown.join("\n"));
    for secret in &secrets {
        // Any JWT segment or the opaque token would betray it.
        for part in secret.split('.').filter(|p| p.len() >= 16) {
            assert!(!everything.contains(part), "a token leaked:\n{everything}");
        }
    }
}
