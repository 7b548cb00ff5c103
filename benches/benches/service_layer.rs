//! Requests through `PassageAuthLayer` + the `PassageUser` extractor against
//! an axum handler that reads the bearer token and calls
//! `TokenVerifier::verify` itself. Both routers answer the same valid token
//! in-process (`tower::ServiceExt::oneshot`, no sockets), with a warm key
//! cache. Goal: layer throughput >= 0.9x the hand-written handler.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::routing::get;
use axum::Router;
use criterion::{criterion_group, criterion_main, Criterion};
use passage_auth_client::server::{PassageAuthLayer, PassageUser};
use passage_auth_client::{ClientBuilder, RetryPolicy, TokenVerifier, VerifierConfig};
use tower::ServiceExt;

const APP_ID: &str = "bench-app";

/// The baseline: the handler verifies the token itself.
async fn by_hand(
    State(verifier): State<TokenVerifier>,
    headers: HeaderMap,
) -> (StatusCode, String) {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(token) = token else {
        return (StatusCode::UNAUTHORIZED, String::new());
    };
    match verifier.verify(token).await {
        Ok(claims) => (StatusCode::OK, claims.user_id().to_owned()),
        Err(_) => (StatusCode::UNAUTHORIZED, String::new()),
    }
}

/// Through the layer: the handler takes the verified user.
async fn with_layer(user: PassageUser) -> (StatusCode, String) {
    (StatusCode::OK, user.user_id().to_owned())
}

fn request(token: &str) -> Request<Body> {
    Request::get("/api/me")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request")
}

async fn answer(router: &Router, token: &str) -> usize {
    let response = router
        .clone()
        .oneshot(request(token))
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::OK);
    let body = axum::body::to_bytes(response.into_body(), 1024)
        .await
        .expect("body");
    body.len()
}

fn service_layer(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let key = passage_benches::TestKey::generate();
    let (origin, jwks_requests) = rt.block_on(passage_benches::counting_jwks_server(key.jwks()));
    let base = format!("{origin}/v1");
    let issuer = format!("{base}/apps/{APP_ID}");
    let token = key.mint(&issuer, APP_ID, "usr_bench", Duration::from_secs(3600));
    let client = ClientBuilder::new()
        .base_url(&base)
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("client");
    let verifier = TokenVerifier::new(client, APP_ID, VerifierConfig::default());

    let baseline = Router::new()
        .route("/api/me", get(by_hand))
        .with_state(verifier.clone());
    let layered = Router::new()
        .route("/api/me", get(with_layer))
        .layer(PassageAuthLayer::required(verifier));
    // Warm-up: both answer, and the keys are fetched once.
    let len = "usr_bench".len();
    assert_eq!(rt.block_on(answer(&baseline, &token)), len);
    assert_eq!(rt.block_on(answer(&layered, &token)), len);
    let after_warm_up = jwks_requests.load(Ordering::SeqCst);
    assert_eq!(after_warm_up, 1, "the warm-up fetches the keys once");

    let mut group = c.benchmark_group("service_layer");
    group.bench_function("handler_calls_verify", |b| {
        b.iter(|| rt.block_on(answer(&baseline, std::hint::black_box(&token))))
    });
    group.bench_function("passage_auth_layer", |b| {
        b.iter(|| rt.block_on(answer(&layered, std::hint::black_box(&token))))
    });
    group.finish();

    // Interleaved rounds: both sides back to back in each round, median round reported.
    // `ratio` is time through the layer / time by hand; throughput ratio = 1 / ratio.
    let ratios = passage_benches::interleaved_ratio(
        25,
        200,
        || {
            rt.block_on(answer(&baseline, std::hint::black_box(&token)));
        },
        || {
            rt.block_on(answer(&layered, std::hint::black_box(&token)));
        },
    );
    println!("{ratios}");
    println!(
        "requests/s: by hand {:.0}, through the layer {:.0}, throughput ratio {:.3} (goal >= 0.9)",
        1e6 / ratios.baseline_us,
        1e6 / ratios.candidate_us,
        1.0 / ratios.ratio
    );
    let after = jwks_requests.load(Ordering::SeqCst);
    assert_eq!(after, after_warm_up, "no JWKS request after warm-up");
}

criterion_group!(benches, service_layer);
criterion_main!(benches);
