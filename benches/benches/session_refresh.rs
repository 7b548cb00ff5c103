//! Session refresh against the emulator (its clock drives expiry on both sides):
//!
//! - a measured run first: 1000 tasks find the token expired at the same moment;
//!   the emulator's request log must show exactly one `POST /tokens`;
//! - `auth_token()` on a fresh token (the fast path), `auth_token()` right after
//!   expiry (includes the refresh: the difference is the latency a refresh adds),
//!   and the bare `refresh_auth_token` call for comparison.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use passage_auth_client::{ClientBuilder, RetryPolicy, SecretValue, Session};
use passage_benches::{otp_sign_in, EmulatorClock};
use passage_emulator::{AppConfig, Emulator, EmulatorConfig, EmulatorHandle};

const TTL: i64 = 60;
const STAMPEDE_TASKS: usize = 1000;

fn token_posts(emulator: &EmulatorHandle) -> usize {
    emulator
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/tokens"))
        .count()
}

fn refresh(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let config = EmulatorConfig {
        apps: vec![AppConfig {
            auth_token_ttl_seconds: TTL,
            // Every refresh below moves the clock by TTL + 1: keep the families alive.
            refresh_token_lifetime_seconds: 10 * 365 * 24 * 3600,
            ..AppConfig::default()
        }],
        ..EmulatorConfig::default()
    };
    let emulator = Arc::new(rt.block_on(Emulator::start(config)).expect("emulator"));
    let app_id = emulator.default_app_id().to_owned();
    let client = ClientBuilder::new()
        .base_url(emulator.base_url())
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("client");
    let clock = Arc::new(EmulatorClock(Arc::clone(&emulator)));
    let new_session = |identifier: &str| {
        let auth = rt.block_on(otp_sign_in(&client, &emulator, &app_id, identifier, true));
        let session = Session::builder(client.clone(), app_id.as_str())
            .clock(clock.clone())
            .build();
        rt.block_on(session.sign_in(&auth)).expect("sign in");
        (session, auth)
    };

    // The measured run: 1000 tasks, one expired token.
    let (session, _) = new_session("stampede@bench.test");
    emulator.advance_clock(TTL + 1);
    let before = token_posts(&emulator);
    let (elapsed, distinct) = rt.block_on(async {
        let barrier = Arc::new(tokio::sync::Barrier::new(STAMPEDE_TASKS));
        let start = Instant::now();
        let tasks: Vec<_> = (0..STAMPEDE_TASKS)
            .map(|_| {
                let session = session.clone();
                let barrier = Arc::clone(&barrier);
                tokio::spawn(async move {
                    barrier.wait().await;
                    session.auth_token().await.expect("token")
                })
            })
            .collect();
        let mut tokens = Vec::with_capacity(STAMPEDE_TASKS);
        for task in tasks {
            tokens.push(task.await.expect("task").expose_secret().to_owned());
        }
        let elapsed = start.elapsed();
        tokens.sort_unstable();
        tokens.dedup();
        (elapsed, tokens.len())
    });
    let posts = token_posts(&emulator) - before;
    println!(
        "stampede: {STAMPEDE_TASKS} tasks found the token expired at once: \
         POST /tokens = {posts}, distinct tokens handed out = {distinct}, all served in {elapsed:?}"
    );
    assert_eq!(posts, 1, "exactly one refresh for {STAMPEDE_TASKS} callers");
    assert_eq!(distinct, 1);

    let mut group = c.benchmark_group("session_refresh");
    group.bench_function("auth_token_fresh", |b| {
        b.iter(|| rt.block_on(session.auth_token()).expect("token"))
    });
    group.bench_function("auth_token_after_expiry", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                emulator.advance_clock(TTL + 1);
                let start = Instant::now();
                rt.block_on(session.auth_token()).expect("token");
                total += start.elapsed();
            }
            total
        })
    });
    let (_, auth) = new_session("bare@bench.test");
    let refresh_token = RefCell::new(auth.refresh_token.expect("refresh token"));
    group.bench_function("bare_refresh_auth_token_call", |b| {
        b.iter(|| {
            let current = refresh_token.borrow().clone();
            let auth = rt
                .block_on(
                    client
                        .refresh_auth_token()
                        .app_id(app_id.as_str())
                        .body(
                            passage_auth_client::types::RefreshAuthTokenRequest::builder()
                                .refresh_token(SecretValue::new(current.expose_secret())),
                        )
                        .send(),
                )
                .expect("refresh")
                .into_inner()
                .auth_result;
            *refresh_token.borrow_mut() = auth.refresh_token.expect("rotated");
        })
    });
    group.finish();
}

criterion_group!(benches, refresh);
criterion_main!(benches);
