//! JWT verification: `TokenVerifier::verify` with a warm JWKS cache against the bound, a bare
//! aws-lc-rs RS256 verification of the same token with a key parsed once, plus the decoding of its
//! claims into a JSON object (no claim checks). `jsonwebtoken::decode` with the verifier's checks is
//! measured too, as a peer. Goal: verifier throughput >= 0.8x the bare verification, measured
//! interleaved in the same run.
//!
//! The JWKS is served by a server that counts its requests: after the warm-up
//! fetch, no verification may fetch the keys again (asserted at the end).

use std::sync::atomic::Ordering;
use std::time::Duration;

use aws_lc_rs::signature::{ParsedPublicKey, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use criterion::{criterion_group, criterion_main, Criterion};
use passage_auth_client::{ClientBuilder, RetryPolicy, TokenVerifier, VerifierConfig};
use passage_benches::{report, Figure, Goal};

const APP_ID: &str = "bench-app";

/// The bound: signature check with a pre-parsed key, then the claims decoded into a JSON object.
fn bare_verify(key: &ParsedPublicKey, token: &str) -> serde_json::Map<String, serde_json::Value> {
    let (message, signature) = token.rsplit_once('.').expect("three parts");
    let signature = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
    key.verify_sig(message.as_bytes(), &signature)
        .expect("valid signature");
    let (_, payload) = message.split_once('.').expect("three parts");
    let payload = URL_SAFE_NO_PAD.decode(payload).expect("base64url");
    serde_json::from_slice(&payload).expect("claims")
}

fn verify(c: &mut Criterion) {
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
    // Warm-up: the first verification fetches the JWKS once.
    let claims = rt.block_on(verifier.verify(&token)).expect("verifies");
    assert_eq!(claims.sub, "usr_bench");
    let after_warm_up = jwks_requests.load(Ordering::SeqCst);
    assert_eq!(after_warm_up, 1, "the warm-up fetches the keys once");

    let parsed = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key.public_key_der())
        .parse()
        .expect("public key");
    assert_eq!(bare_verify(&parsed, &token)["sub"], "usr_bench");

    // The peer: jsonwebtoken with the same key, algorithm and claim checks, on its aws-lc-rs backend
    // named explicitly (its process-wide default is ambiguous when another crate enables its
    // `rust_crypto` backend too).
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
    let decoding_key = key.decoding_key();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[issuer.as_str()]);
    validation.set_audience(&[APP_ID]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = 5;
    validation.validate_nbf = true;
    let jwt_decode = || {
        jsonwebtoken::decode::<serde_json::Value>(
            std::hint::black_box(&token),
            &decoding_key,
            &validation,
        )
        .expect("valid")
    };
    assert_eq!(jwt_decode().claims["sub"], "usr_bench");

    let mut group = c.benchmark_group("jwt_verify");
    group.bench_function("bare_aws_lc_rs_verify_and_decode", |b| {
        b.iter(|| bare_verify(&parsed, std::hint::black_box(&token)))
    });
    group.bench_function("jsonwebtoken_decode", |b| b.iter(jwt_decode));
    group.bench_function("token_verifier_warm_cache", |b| {
        b.iter(|| {
            rt.block_on(verifier.verify(std::hint::black_box(&token)))
                .expect("valid")
        })
    });
    group.finish();

    // Interleaved rounds make the ratio robust to other load on the machine:
    // both sides run back to back in each round; the median round is reported.
    let verifier_vs_bare = passage_benches::interleaved_ratio(
        25,
        200,
        || {
            std::hint::black_box(bare_verify(&parsed, std::hint::black_box(&token)));
        },
        || {
            rt.block_on(verifier.verify(std::hint::black_box(&token)))
                .expect("valid");
        },
    );
    println!("TokenVerifier::verify vs bare aws-lc-rs: {verifier_vs_bare}");
    let jsonwebtoken_vs_bare = passage_benches::interleaved_ratio(
        25,
        200,
        || {
            std::hint::black_box(bare_verify(&parsed, std::hint::black_box(&token)));
        },
        || {
            std::hint::black_box(jwt_decode());
        },
    );
    println!("jsonwebtoken::decode vs bare aws-lc-rs: {jsonwebtoken_vs_bare}");

    let after = jwks_requests.load(Ordering::SeqCst);
    println!(
        "JWKS requests: {after_warm_up} during warm-up, {} after warm-up",
        after - after_warm_up
    );
    assert_eq!(after, after_warm_up, "no JWKS request after warm-up");

    let throughput = 1.0 / verifier_vs_bare.ratio;
    report(&Figure {
        key: "jwt_verify.verifier",
        what: "`TokenVerifier::verify`, warm cache, vs a bare aws-lc-rs RS256 verify (key parsed once) + claims decode (interleaved throughput ratio)",
        measured: format!(
            "{throughput:.2}x ({:.1} µs vs {:.1} µs per token)",
            verifier_vs_bare.candidate_us, verifier_vs_bare.baseline_us
        ),
        value: Some(throughput),
        bound: "the bare verify".into(),
        goal: Goal::at_least(0.8),
    });
    report(&Figure {
        key: "jwt_verify.jsonwebtoken",
        what: "`jsonwebtoken::decode` (aws_lc_rs backend, same checks) vs the same bare verify (interleaved throughput ratio)",
        measured: format!(
            "{:.2}x ({:.1} µs per token)",
            1.0 / jsonwebtoken_vs_bare.ratio,
            jsonwebtoken_vs_bare.candidate_us
        ),
        value: Some(1.0 / jsonwebtoken_vs_bare.ratio),
        bound: "peer".into(),
        goal: None,
    });
    report(&Figure {
        key: "jwt_verify.jwks_requests",
        what: "JWKS requests after warm-up",
        measured: format!("{}", after - after_warm_up),
        value: Some((after - after_warm_up) as f64),
        bound: String::new(),
        goal: Goal::at_most(0.0).map(|g| g.unit("")),
    });
}

criterion_group!(benches, verify);
criterion_main!(benches);
