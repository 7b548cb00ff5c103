//! JWT verification: `TokenVerifier::verify` with a warm JWKS cache against
//! `jsonwebtoken::decode` with the same key and the same checks (RS256, `iss`,
//! `aud`, `exp`/`nbf`). Goal: verifier throughput >= 0.9x raw.
//!
//! The JWKS is served by a server that counts its requests: after the warm-up
//! fetch, no verification may fetch the keys again (asserted at the end).

use std::sync::atomic::Ordering;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use passage_auth_client::{ClientBuilder, RetryPolicy, TokenVerifier, VerifierConfig};

const APP_ID: &str = "bench-app";

fn verify(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let key = passage_benches::TestKey::generate("bench-kid");
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
    // Warm-up: the first verification fetches the JWKS once.
    let claims = rt.block_on(verifier.verify(&token)).expect("verifies");
    assert_eq!(claims.sub, "usr_bench");
    let after_warm_up = jwks_requests.load(Ordering::SeqCst);
    assert_eq!(after_warm_up, 1, "the warm-up fetches the keys once");

    // The raw baseline: the same key, algorithm and claim checks.
    let decoding_key = key.decoding_key();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[issuer.as_str()]);
    validation.set_audience(&[APP_ID]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = 5;
    validation.validate_nbf = true;
    let raw = jsonwebtoken::decode::<serde_json::Value>(&token, &decoding_key, &validation)
        .expect("raw decode");
    assert_eq!(raw.claims["sub"], "usr_bench");

    let mut group = c.benchmark_group("jwt_verify");
    group.bench_function("raw_jsonwebtoken_decode", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<serde_json::Value>(
                std::hint::black_box(&token),
                &decoding_key,
                &validation,
            )
            .expect("valid")
        })
    });
    group.bench_function("token_verifier_warm_cache", |b| {
        b.iter(|| {
            rt.block_on(verifier.verify(std::hint::black_box(&token)))
                .expect("valid")
        })
    });
    group.finish();

    // Interleaved rounds make the ratio robust to other load on the machine:
    // both sides run back to back in each round; the median round is reported.
    let ratios = passage_benches::interleaved_ratio(
        25,
        200,
        || {
            jsonwebtoken::decode::<serde_json::Value>(
                std::hint::black_box(&token),
                &decoding_key,
                &validation,
            )
            .expect("valid");
        },
        || {
            rt.block_on(verifier.verify(std::hint::black_box(&token)))
                .expect("valid");
        },
    );
    println!("{ratios}");

    let after = jwks_requests.load(Ordering::SeqCst);
    println!(
        "JWKS requests: {after_warm_up} during warm-up, {} after warm-up",
        after - after_warm_up
    );
    assert_eq!(after, after_warm_up, "no JWKS request after warm-up");
}

criterion_group!(benches, verify);
criterion_main!(benches);
