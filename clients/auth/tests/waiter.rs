//! The magic-link waiter against the test server: success, deadline,
//! cancellation, transient faults and fatal errors.

mod support;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use passage_auth_client::{AttemptOutcome, MagicLinkExt, PollPolicy, WaitError};
use reqwest::StatusCode;
use support::{Fault, Server, APP_ID};
use tokio_util::sync::CancellationToken;

fn fast() -> PollPolicy {
    PollPolicy::default()
        .initial_interval(Duration::from_millis(2))
        .multiplier(1.5)
        .max_interval(Duration::from_millis(5))
        .jitter(0.0)
        .max_wait(Duration::from_secs(10))
}

#[tokio::test]
async fn resolves_once_the_link_is_activated() {
    let server = Server::start().await;
    let client = server.client();
    let state = server.state.clone();
    let progress = Arc::new(Mutex::new(Vec::new()));
    let seen = progress.clone();
    let auth = client
        .wait_for_magic_link(APP_ID, "ml_1")
        .policy(fast())
        .on_progress(move |p| {
            seen.lock().unwrap().push(*p);
            // The user clicks the link after the third "not yet".
            if p.attempts == 3 {
                state.magic_link_ready.store(true, Ordering::SeqCst);
            }
        })
        .await
        .unwrap();
    assert_eq!(server.state.status_polls.load(Ordering::SeqCst), 4);
    assert!(server
        .state
        .is_valid_refresh(auth.refresh_token.as_ref().unwrap().expose_secret()));
    let progress = progress.lock().unwrap();
    assert_eq!(progress.len(), 3);
    assert!(progress
        .iter()
        .all(|p| p.outcome == AttemptOutcome::Pending));
    assert_eq!(
        progress.iter().map(|p| p.attempts).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    // Backoff: 2 ms, 3 ms, then capped at 5 ms... never above the cap.
    assert_eq!(progress[0].next_delay, Duration::from_millis(2));
    assert_eq!(progress[1].next_delay, Duration::from_millis(3));
    assert!(progress
        .iter()
        .all(|p| p.next_delay <= Duration::from_millis(5)));
}

#[tokio::test]
async fn ends_with_exceeded_max_wait_at_the_deadline() {
    let server = Server::start().await;
    let client = server.client();
    let max_wait = Duration::from_millis(60);
    // Its interval is an hour: a waiter that slept a whole interval past the deadline would not
    // return for an hour, so returning at all shows that the last sleep ended at the deadline.
    let hourly = fast()
        .initial_interval(Duration::from_secs(3600))
        .max_interval(Duration::from_secs(3600))
        .max_wait(max_wait);
    let err = client
        .wait_for_magic_link(APP_ID, "ml_1")
        .policy(hourly)
        .await
        .unwrap_err();
    let WaitError::ExceededMaxWait { attempts, elapsed } = err else {
        panic!("expected ExceededMaxWait, got {err:?}");
    };
    assert!(
        err.to_string().contains(&format!("({attempts} attempts)")),
        "{err}"
    );
    assert!(elapsed >= max_wait, "{elapsed:?}");
    assert!(attempts >= 1);
    assert_eq!(
        attempts as usize,
        server.state.status_polls.load(Ordering::SeqCst)
    );
}

#[tokio::test]
async fn an_unknown_id_is_bounded_by_the_deadline_too() {
    let server = Server::start().await;
    server.state.magic_link_ready.store(true, Ordering::SeqCst);
    let err = server
        .client()
        .wait_for_magic_link(APP_ID, "ml_does_not_exist")
        .policy(fast().max_wait(Duration::from_millis(20)))
        .await
        .unwrap_err();
    assert!(matches!(err, WaitError::ExceededMaxWait { .. }), "{err:?}");
}

#[tokio::test]
async fn cancelling_the_token_ends_the_wait() {
    let server = Server::start().await;
    let client = server.client();
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let err = client
        .wait_for_magic_link(APP_ID, "ml_1")
        .policy(fast().max_wait(Duration::from_secs(60)))
        .cancel_token(cancel)
        .on_progress(move |p| {
            if p.attempts == 2 {
                trigger.cancel();
            }
        })
        .await
        .unwrap_err();
    assert!(matches!(err, WaitError::Cancelled), "{err:?}");
    assert_eq!(server.state.status_polls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn dropping_the_future_stops_polling() {
    let server = Server::start().await;
    let client = server.client();
    let state = server.state.clone();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = Mutex::new(Some(tx));
    // Owned by the wait (through its callback): it lives as long as the wait.
    let alive = Arc::new(());
    let watch = Arc::downgrade(&alive);
    let wait = client
        .wait_for_magic_link(APP_ID, "ml_1")
        .policy(fast().max_wait(Duration::from_secs(60)))
        .on_progress(move |p| {
            let _owned = &alive;
            if p.attempts == 2 {
                if let Some(tx) = tx.lock().unwrap().take() {
                    let _ = tx.send(());
                }
            }
        });
    // `rx` first: once the callback has fired, the wait is not polled again.
    tokio::select! {
        biased;
        _ = rx => {}
        _ = std::future::IntoFuture::into_future(wait) => panic!("the wait should not end"),
    }
    // The callback reported attempt 2 after its answer and before the next
    // delay: the wait was dropped while it slept, with 2 polls made.
    assert_eq!(state.status_polls.load(Ordering::SeqCst), 2);
    // Nothing kept the wait's state (no task carries on with it).
    assert!(
        watch.upgrade().is_none(),
        "the dropped wait is still referenced"
    );
    // A second wait with the same policy serves as the witness of time: while
    // it makes its attempts, many of the dropped wait's intervals (at most
    // 5 ms) pass. Every poll the server sees is the witness's.
    let err = client
        .wait_for_magic_link(APP_ID, "ml_witness")
        .policy(fast().max_wait(Duration::from_millis(50)))
        .await
        .unwrap_err();
    let WaitError::ExceededMaxWait { attempts, .. } = err else {
        panic!("expected ExceededMaxWait, got {err:?}");
    };
    assert!(attempts >= 2, "{attempts}");
    assert_eq!(
        state.status_polls.load(Ordering::SeqCst),
        2 + attempts as usize
    );
}

#[tokio::test]
async fn transient_500_and_503_are_retried() {
    let server = Server::start().await;
    let client = server.client();
    server
        .state
        .push_status_fault(Fault::Api(500, "internal_server_error"));
    server.state.push_status_fault(Fault::Status(503, None));
    server.state.magic_link_ready.store(true, Ordering::SeqCst);
    let progress = Arc::new(Mutex::new(Vec::new()));
    let seen = progress.clone();
    let auth = client
        .wait_for_magic_link(APP_ID, "ml_1")
        .policy(fast())
        .on_progress(move |p| seen.lock().unwrap().push(*p))
        .await
        .unwrap();
    assert!(server
        .state
        .is_valid_refresh(auth.refresh_token.as_ref().unwrap().expose_secret()));
    assert_eq!(server.state.status_polls.load(Ordering::SeqCst), 3);
    let progress = progress.lock().unwrap();
    assert_eq!(
        progress.iter().map(|p| p.outcome).collect::<Vec<_>>(),
        [
            AttemptOutcome::Transient(Some(StatusCode::INTERNAL_SERVER_ERROR)),
            AttemptOutcome::Transient(Some(StatusCode::SERVICE_UNAVAILABLE)),
        ]
    );
}

#[tokio::test]
async fn a_429_retry_after_sets_the_next_delay() {
    let server = Server::start().await;
    server.state.push_status_fault(Fault::Status(429, Some(2)));
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let progress = Arc::new(Mutex::new(Vec::new()));
    let seen = progress.clone();
    // Cancel as soon as the delay is known, instead of sleeping for it.
    let err = server
        .client()
        .wait_for_magic_link(APP_ID, "ml_1")
        .policy(fast())
        .cancel_token(cancel)
        .on_progress(move |p| {
            seen.lock().unwrap().push(*p);
            trigger.cancel();
        })
        .await
        .unwrap_err();
    assert!(matches!(err, WaitError::Cancelled), "{err:?}");
    let progress = progress.lock().unwrap();
    assert_eq!(
        progress[0].outcome,
        AttemptOutcome::Transient(Some(StatusCode::TOO_MANY_REQUESTS))
    );
    // The server asked for 2 s, far more than the policy's 5 ms cap.
    assert_eq!(progress[0].next_delay, Duration::from_secs(2));
    assert_eq!(server.state.status_polls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn retry_after_is_cut_at_the_deadline() {
    let server = Server::start().await;
    server
        .state
        .push_status_fault(Fault::Status(429, Some(3600)));
    let progress = Arc::new(Mutex::new(Vec::new()));
    let seen = progress.clone();
    let err = server
        .client()
        .wait_for_magic_link(APP_ID, "ml_1")
        .policy(fast().max_wait(Duration::from_millis(30)))
        .on_progress(move |p| seen.lock().unwrap().push(*p))
        .await
        .unwrap_err();
    assert!(matches!(err, WaitError::ExceededMaxWait { .. }), "{err:?}");
    assert!(progress.lock().unwrap()[0].next_delay <= Duration::from_millis(30));
}

#[tokio::test]
async fn other_client_errors_end_the_wait() {
    for (status, code) in [
        (400, "invalid_request"),
        (401, "invalid_magic_link"),
        (404, "app_not_found"),
    ] {
        let server = Server::start().await;
        server.state.push_status_fault(Fault::Api(status, code));
        let err = server
            .client()
            .wait_for_magic_link(APP_ID, "ml_1")
            .policy(fast())
            .await
            .unwrap_err();
        let WaitError::Failed(e) = &err else {
            panic!("expected Failed for {status}, got {err:?}");
        };
        assert_eq!(e.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(server.state.status_polls.load(Ordering::SeqCst), 1);
    }
}

#[tokio::test]
async fn connection_errors_are_transient() {
    // A port with no server: every attempt fails to connect, until the deadline.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = passage_auth_client::ClientBuilder::new()
        .base_url(format!("http://{addr}/v1"))
        .build()
        .unwrap();
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let seen = outcomes.clone();
    let err = client
        .wait_for_magic_link(APP_ID, "ml_1")
        .policy(fast().max_wait(Duration::from_millis(300)))
        .on_progress(move |p| seen.lock().unwrap().push(p.outcome))
        .await
        .unwrap_err();
    assert!(matches!(err, WaitError::ExceededMaxWait { .. }), "{err:?}");
    let outcomes = outcomes.lock().unwrap();
    assert!(!outcomes.is_empty());
    assert!(outcomes
        .iter()
        .all(|o| *o == AttemptOutcome::Transient(None)));
}

#[tokio::test]
async fn extreme_policies_saturate_instead_of_panicking() {
    // A deadline of `Duration::MAX` (which `start + max_wait` would overflow),
    // an infinite multiplier and a cap of `Duration::MAX`: the first delay is
    // the 1 ms initial one and the wait resolves on the second attempt.
    let server = Server::start().await;
    let state = server.state.clone();
    let delays = Arc::new(Mutex::new(Vec::new()));
    let seen = delays.clone();
    server
        .client()
        .wait_for_magic_link(APP_ID, "ml_1")
        .policy(
            PollPolicy::default()
                .initial_interval(Duration::from_millis(1))
                .multiplier(f64::INFINITY)
                .max_interval(Duration::MAX)
                .jitter(f64::NAN)
                .max_wait(Duration::MAX),
        )
        .on_progress(move |p| {
            seen.lock().unwrap().push(p.next_delay);
            state.magic_link_ready.store(true, Ordering::SeqCst);
        })
        .await
        .unwrap();
    assert_eq!(*delays.lock().unwrap(), [Duration::from_millis(1)]);
}
