//! Load test: 200 concurrent simulated users against one emulator on 127.0.0.1, bounded by a
//! 120 s timeout. Each user registers by one-time passcode (reading the code from the emulator's
//! outbox), reads the current user, increments a metadata counter serially, refreshes twice
//! through a [`Session`] and logs out (revokes). Checked afterwards, from the emulator's request
//! log and state: no 5xx, 200 distinct users, 400 rotations, 200 revocations, no lost update.
//!
//! `cargo test -p passage-e2e --test load -- --nocapture` prints the throughput.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use passage_auth_client::CredentialsExt;
use passage_auth_client::{types, Client, ClientBuilder, Session, TokenStore};
use passage_e2e::harness::{counter_app_config, TestEnv};
use serde_json::json;

const USERS: usize = 200;
/// Serial read-modify-write increments of each user's counter.
const INCREMENTS: i64 = 3;
const BOUND: Duration = Duration::from_secs(120);

struct Outcome {
    user_id: String,
    counter: i64,
}

fn refresh_of(auth: &types::AuthResult) -> String {
    auth.refresh_token
        .as_ref()
        .map(|t| t.expose_secret().to_owned())
        .expect("a refresh token")
}

async fn counter(me: &Client, app_id: &str) -> i64 {
    me.get_currentuser_metadata()
        .app_id(app_id)
        .send()
        .await
        .expect("metadata read")
        .into_inner()
        .user_metadata
        .get("counter")
        .and_then(|v| v.as_i64())
        .unwrap_or(0)
}

/// One simulated user's whole flow.
async fn user_flow(env: Arc<TestEnv>, client: Client, n: usize) -> Outcome {
    let app_id = env.app_id.as_str();
    let identifier = format!("load-{n}@example.com");

    // OTP registration and login (the harness checks that the passcode redeemed is the one
    // this registration sent).
    let auth = env.register_by_otp_with(&client, &identifier).await;

    // Current user.
    let me = client.with_auth_token(auth.auth_token.clone());
    let user = me
        .get_currentuser()
        .app_id(app_id)
        .send()
        .await
        .expect("current user")
        .into_inner()
        .user;
    assert_eq!(user.email, identifier);

    // Serial read-modify-write: every increment must survive the concurrent load.
    for _ in 0..INCREMENTS {
        let next = counter(&me, app_id).await + 1;
        let mut map = serde_json::Map::new();
        map.insert("counter".into(), json!(next));
        me.update_currentuser_metadata()
            .app_id(app_id)
            .body(types::UpdateMetadataRequest::builder().user_metadata(map))
            .send()
            .await
            .expect("metadata update");
    }
    let final_counter = counter(&me, app_id).await;

    // Two refreshes: with a skew longer than the token lifetime (300 s), every `auth_token()`
    // call finds the token due and rotates the pair once.
    let session = Session::builder(client.clone(), app_id)
        .refresh_skew(Duration::from_secs(3600))
        .build();
    session.sign_in(&auth).await.expect("sign in");
    // (Auth tokens minted within the same second are identical; refresh tokens never are.)
    let mut seen = vec![refresh_of(&auth)];
    for _ in 0..2 {
        session.auth_token().await.expect("refresh");
        let stored = session.store().load().await.unwrap().expect("stored pair");
        let rotated = stored
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned())
            .expect("a refresh token");
        assert!(!seen.contains(&rotated), "the refresh token rotated");
        seen.push(rotated);
    }

    // Logout.
    session.revoke().await.expect("revoke");
    assert!(!session.is_signed_in().await.unwrap());

    Outcome {
        user_id: user.id,
        counter: final_counter,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_users() {
    let env = Arc::new(TestEnv::with_config(counter_app_config()).await);
    // One shared client (one connection pool), straight to the emulator, default retry policy.
    let client = ClientBuilder::new()
        .base_url(env.emulator.base_url())
        .build()
        .expect("client builds");

    let started = Instant::now();
    let flows: Vec<_> = (0..USERS)
        .map(|n| tokio::spawn(user_flow(env.clone(), client.clone(), n)))
        .collect();
    let outcomes = tokio::time::timeout(BOUND, futures::future::join_all(flows))
        .await
        .expect("the load test finished within its bound");
    let elapsed = started.elapsed();

    let outcomes: Vec<Outcome> = outcomes
        .into_iter()
        .map(|r| r.expect("a user flow panicked"))
        .collect();
    let log = env.emulator.requests();
    let requests = log.len();
    println!(
        "load: {USERS} users, {requests} requests in {:.2} s: {:.1} flows/s, {:.0} requests/s",
        elapsed.as_secs_f64(),
        USERS as f64 / elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64()
    );

    // No 5xx, no dropped answer.
    let bad: Vec<_> = log
        .iter()
        .filter(|r| r.status.is_none_or(|s| s >= 500))
        .collect();
    assert!(bad.is_empty(), "failed requests: {bad:?}");

    // Every session accounted for.
    let users: HashSet<_> = outcomes.iter().map(|o| o.user_id.clone()).collect();
    assert_eq!(users.len(), USERS, "distinct users");
    let tokens = env.api_path("/tokens");
    let count = |method: &str, status: u16| {
        log.iter()
            .filter(|r| r.method == method && r.path == tokens && r.status == Some(status))
            .count()
    };
    assert_eq!(count("POST", 201), 2 * USERS, "two rotations per user");
    assert_eq!(count("DELETE", 200), USERS, "one revocation per user");
    let activations = log
        .iter()
        .filter(|r| r.path == env.api_path("/otp/activate") && r.status == Some(200))
        .count();
    assert_eq!(activations, USERS, "one login per user");

    // No lost update.
    let lost: Vec<_> = outcomes
        .iter()
        .filter(|o| o.counter != INCREMENTS)
        .map(|o| (&o.user_id, o.counter))
        .collect();
    assert!(lost.is_empty(), "lost updates: {lost:?}");
}
