//! The token verifier against the test server's JWKS: the happy path, key
//! rotation, the rate-limited refetch, caching, and a corpus of bad tokens
//! each refused with its own error.

mod support;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use passage_auth_client::CredentialsExt;
use passage_auth_client::{Clock, RetryPolicy, TokenVerifier, VerifierConfig, VerifyError};
use serde_json::{json, Value};
use support::{key_a, key_b, unix, Fault, Server, TestKey, APP_ID};
use tokio::sync::Notify;

fn verifier(server: &Server) -> TokenVerifier {
    TokenVerifier::new(
        server.client().with_retry_policy(RetryPolicy::none()),
        APP_ID,
        VerifierConfig::default(),
    )
    .with_clock(server.clock())
}

fn now(server: &Server) -> i64 {
    unix(server.clock().now())
}

fn claims(server: &Server, verifier: &TokenVerifier) -> Value {
    let now = now(server);
    json!({
        "sub": "user_1",
        "iss": verifier.issuer(),
        "aud": ["http://localhost:3000", APP_ID],
        "exp": now + 300,
        "iat": now,
        "nbf": now - 5,
    })
}

/// `claims` signed with `key`, whose `kid` the header names.
fn signed(key: &TestKey, claims: &Value) -> String {
    key.sign(Some(key.kid), claims)
}

/// A verifier that has verified a key-A token (fetching the JWKS once), and
/// the claims of that token.
async fn primed(server: &Server) -> (TokenVerifier, Value) {
    let verifier = verifier(server);
    let claims = claims(server, &verifier);
    verifier.verify(&signed(key_a(), &claims)).await.unwrap();
    assert_eq!(server.state.jwks_gets.load(Ordering::SeqCst), 1);
    (verifier, claims)
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[tokio::test]
async fn a_good_token_gives_its_claims_and_the_keys_are_cached() {
    let server = Server::start().await;
    let verifier = verifier(&server);
    assert_eq!(
        verifier.issuer(),
        format!("{}/apps/{APP_ID}", server.base_url)
    );
    let claims = claims(&server, &verifier);
    let token = signed(key_a(), &claims);
    let verified = verifier.verify(&token).await.unwrap();
    assert_eq!(verified.user_id(), "user_1");
    assert_eq!(verified.exp, claims["exp"].as_i64().unwrap());
    assert_eq!(verified.iat, claims["iat"].as_i64());
    assert_eq!(verified.aud, ["http://localhost:3000", APP_ID]);
    // A string audience equal to the app id is accepted too.
    let single = signed(key_a(), &with(claims, "aud", json!(APP_ID)));
    verifier.verify(&single).await.unwrap();
    assert_eq!(server.state.jwks_gets.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn custom_claims_are_kept() {
    let server = Server::start().await;
    let verifier = verifier(&server);
    let token = signed(
        key_a(),
        &with(claims(&server, &verifier), "role", json!("admin")),
    );
    let verified = verifier.verify(&token).await.unwrap();
    assert_eq!(verified.extra["role"], "admin");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_verifications_share_one_fetch() {
    let server = Server::start().await;
    let verifier = verifier(&server);
    let token = signed(key_a(), &claims(&server, &verifier));
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let verifier = verifier.clone();
            let token = token.clone();
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(server.state.jwks_gets.load(Ordering::SeqCst), 1);
}

/// Yields until the verifier has no background refresh in flight and the
/// server has answered `gets` JWKS requests.
async fn settle(server: &Server, verifier: &TokenVerifier, gets: usize) {
    while verifier.cache_state().revalidating
        || server.state.jwks_gets.load(Ordering::SeqCst) < gets
    {
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn a_stale_key_set_keeps_verifying_and_is_refreshed_in_the_background() {
    let server = Server::start().await;
    let verifier = verifier(&server);
    let sign = |server: &Server| signed(key_a(), &claims(server, &verifier));
    verifier.verify(&sign(&server)).await.unwrap();
    server.clock().advance(Duration::from_secs(3599));
    verifier.verify(&sign(&server)).await.unwrap();
    assert_eq!(server.state.jwks_gets.load(Ordering::SeqCst), 1);
    server.clock().advance(Duration::from_secs(2));
    // Past the TTL: the cached key verifies at once, and one refresh runs
    // in the background for any number of verifications.
    for _ in 0..20 {
        verifier.verify(&sign(&server)).await.unwrap();
    }
    settle(&server, &verifier, 2).await;
    assert_eq!(server.state.jwks_gets.load(Ordering::SeqCst), 2);
    assert_eq!(
        verifier.cache_state().fetched_at,
        Some(server.clock().now()),
        "the set was replaced"
    );
    verifier.verify(&sign(&server)).await.unwrap();
    assert_eq!(server.state.jwks_gets.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_held_jwks_endpoint_never_blocks_a_cached_key() {
    let server = Server::start().await;
    let (verifier, _) = primed(&server).await;
    server.clock().advance(Duration::from_secs(3601));
    let release = Arc::new(Notify::new());
    server.state.push_jwks_fault(Fault::Hold(release.clone()));
    let token = signed(key_a(), &claims(&server, &verifier));
    for _ in 0..50 {
        verifier.verify(&token).await.unwrap();
    }
    while server.state.jwks_gets.load(Ordering::SeqCst) < 2 {
        tokio::task::yield_now().await;
    }
    // The background fetch is held; verifications went on without it.
    for _ in 0..50 {
        verifier.verify(&token).await.unwrap();
    }
    assert!(verifier.cache_state().revalidating);
    assert_eq!(
        server.state.jwks_gets.load(Ordering::SeqCst),
        2,
        "one fetch"
    );
    release.notify_one();
    settle(&server, &verifier, 2).await;
    assert_eq!(
        verifier.cache_state().fetched_at,
        Some(server.clock().now())
    );
}

#[tokio::test]
async fn a_down_jwks_endpoint_is_not_hammered_and_staleness_is_bounded() {
    let server = Server::start().await;
    let (verifier, _) = primed(&server).await;
    let config = VerifierConfig::default();
    for _ in 0..3 {
        server.state.push_jwks_fault(Fault::Status(503, None));
    }
    server.clock().advance(Duration::from_secs(3601));
    let sign = |server: &Server| signed(key_a(), &claims(server, &verifier));
    // Stale keys serve while the background refresh fails...
    verifier.verify(&sign(&server)).await.unwrap();
    settle(&server, &verifier, 2).await;
    // ...and no new fetch is made within the cool-down after the failure.
    for _ in 0..20 {
        verifier.verify(&sign(&server)).await.unwrap();
    }
    settle(&server, &verifier, 2).await;
    assert_eq!(server.state.jwks_gets.load(Ordering::SeqCst), 2);
    server.clock().advance(config.unknown_kid_refetch_interval);
    verifier.verify(&sign(&server)).await.unwrap();
    settle(&server, &verifier, 3).await;
    assert_eq!(server.state.jwks_gets.load(Ordering::SeqCst), 3);
    // Past the maximum staleness the old keys are no longer trusted.
    server.clock().advance(config.max_staleness);
    let err = verifier.verify(&sign(&server)).await.unwrap_err();
    assert!(
        matches!(&err, VerifyError::JwksUnavailable(why) if why.contains("503")),
        "{err:?}"
    );
    assert_eq!(server.state.jwks_gets.load(Ordering::SeqCst), 4);
    // Within the cool-down the same failure is reported without a fetch.
    assert_eq!(verifier.verify(&sign(&server)).await.unwrap_err(), err);
    assert_eq!(server.state.jwks_gets.load(Ordering::SeqCst), 4);
    // Once the endpoint is back (the faults are used up), keys verify again.
    server.clock().advance(config.unknown_kid_refetch_interval);
    verifier.verify(&sign(&server)).await.unwrap();
    assert_eq!(server.state.jwks_gets.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn preload_fetches_at_start_up_and_a_slow_first_fetch_is_shared() {
    let server = Server::start().await;
    let verifier = verifier(&server);
    let release = Arc::new(Notify::new());
    server.state.push_jwks_fault(Fault::Hold(release.clone()));
    let preload = {
        let verifier = verifier.clone();
        tokio::spawn(async move { verifier.preload().await })
    };
    while server.state.jwks_gets.load(Ordering::SeqCst) < 1 {
        tokio::task::yield_now().await;
    }
    // Verifications arriving during the slow first fetch wait for it (there
    // is no key yet) and make no fetch of their own.
    let token = signed(key_a(), &claims(&server, &verifier));
    let waiting: Vec<_> = (0..10)
        .map(|_| {
            let verifier = verifier.clone();
            let token = token.clone();
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    release.notify_one();
    assert_eq!(preload.await.unwrap().unwrap(), 1, "key A is published");
    for task in waiting {
        task.await.unwrap().unwrap();
    }
    assert_eq!(server.state.jwks_gets.load(Ordering::SeqCst), 1);

    // A failed preload says why.
    let cold = self::verifier(&server);
    server.state.push_jwks_fault(Fault::Status(503, None));
    assert!(matches!(
        cold.preload().await,
        Err(VerifyError::JwksUnavailable(_))
    ));
}

#[tokio::test]
async fn a_rotated_key_is_found_by_one_refetch() {
    let server = Server::start().await;
    let (verifier, claims) = primed(&server).await;
    // The server rotates to key B (still publishing A).
    server.state.published.lock().unwrap().push(key_b());
    let verified = verifier.verify(&signed(key_b(), &claims)).await.unwrap();
    assert_eq!(verified.user_id(), "user_1");
    assert_eq!(server.state.jwks_gets.load(Ordering::SeqCst), 2);
    // Both keys are now cached.
    verifier.verify(&signed(key_a(), &claims)).await.unwrap();
    assert_eq!(server.state.jwks_gets.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn unknown_kid_refetches_are_rate_limited() {
    let server = Server::start().await;
    let (verifier, claims) = primed(&server).await;
    let unknown = key_a().sign(Some("attacker-kid"), &claims);
    for _ in 0..20 {
        assert_eq!(
            verifier.verify(&unknown).await.unwrap_err(),
            VerifyError::UnknownKid("attacker-kid".into())
        );
    }
    // One refetch for the first unknown kid, none for the other 19.
    assert_eq!(server.state.jwks_gets.load(Ordering::SeqCst), 2);
    let attacker = VerifyError::UnknownKid("attacker-kid".into());
    server.clock().advance(Duration::from_secs(29));
    assert_eq!(verifier.verify(&unknown).await.unwrap_err(), attacker);
    assert_eq!(server.state.jwks_gets.load(Ordering::SeqCst), 2);
    server.clock().advance(Duration::from_secs(1));
    assert_eq!(verifier.verify(&unknown).await.unwrap_err(), attacker);
    assert_eq!(server.state.jwks_gets.load(Ordering::SeqCst), 3);
    // Known keys keep working throughout without fetches.
    let fresh_claims = self::claims(&server, &verifier);
    verifier
        .verify(&signed(key_a(), &fresh_claims))
        .await
        .unwrap();
    assert_eq!(server.state.jwks_gets.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn an_unreachable_jwks_is_reported_and_not_hammered() {
    let server = Server::start().await;
    let verifier = verifier(&server);
    let token = signed(key_a(), &claims(&server, &verifier));
    server.state.push_jwks_fault(Fault::Status(503, None));
    let err = verifier.verify(&token).await.unwrap_err();
    assert!(
        matches!(&err, VerifyError::JwksUnavailable(why) if why.contains("503")),
        "{err:?}"
    );
    // Within 30 s of the failure no new fetch is made: the same failure is reported.
    assert_eq!(verifier.verify(&token).await.unwrap_err(), err);
    assert_eq!(server.state.jwks_gets.load(Ordering::SeqCst), 1);
    server.clock().advance(Duration::from_secs(30));
    let token = signed(key_a(), &claims(&server, &verifier));
    verifier.verify(&token).await.unwrap();
    assert_eq!(server.state.jwks_gets.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn leeway_tolerates_small_clock_differences() {
    let server = Server::start().await;
    let verifier = verifier(&server);
    let now = now(&server);
    let base = claims(&server, &verifier);
    let just_expired = signed(key_a(), &with(base.clone(), "exp", json!(now - 3)));
    verifier.verify(&just_expired).await.unwrap();
    let almost_valid = signed(key_a(), &with(base, "nbf", json!(now + 3)));
    verifier.verify(&almost_valid).await.unwrap();
}

#[tokio::test]
async fn every_bad_token_gets_its_own_error() {
    let server = Server::start().await;
    let verifier = verifier(&server);
    let now = now(&server);
    let good = claims(&server, &verifier);
    let kid = Some(key_a().kid);

    let header_none = b64(json!({"alg": "none", "typ": "JWT", "kid": key_a().kid})
        .to_string()
        .as_bytes());
    let payload = b64(good.to_string().as_bytes());
    let alg_none = format!("{header_none}.{payload}.");

    let mut hs_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs_header.kid = Some(key_a().kid.to_string());
    let hs256_with_public_key = jsonwebtoken::encode(
        &hs_header,
        &good,
        &jsonwebtoken::EncodingKey::from_secret(key_a().public_pem.as_bytes()),
    )
    .unwrap();

    let mut rs384_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS384);
    rs384_header.kid = Some(key_a().kid.to_string());
    let rs384 = jsonwebtoken::encode(&rs384_header, &good, key_a().encoding_key()).unwrap();

    let signed_by_b_as_a = key_b().sign(kid, &good);
    let good_token = key_a().sign(kid, &good);
    let (head, rest) = good_token.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    let forged_payload = b64(with(good.clone(), "sub", json!("admin"))
        .to_string()
        .as_bytes());
    let swapped_payload = format!("{head}.{forged_payload}.{signature}");

    let cases: Vec<(&str, String, VerifyError)> = vec![
        (
            "alg none",
            alg_none,
            VerifyError::DisallowedAlgorithm("none".into()),
        ),
        (
            "HS256 with the public key",
            hs256_with_public_key,
            VerifyError::DisallowedAlgorithm("HS256".into()),
        ),
        (
            "RS384",
            rs384,
            VerifyError::DisallowedAlgorithm("RS384".into()),
        ),
        (
            "signed by another key",
            signed_by_b_as_a,
            VerifyError::BadSignature,
        ),
        (
            "payload swapped",
            swapped_payload,
            VerifyError::BadSignature,
        ),
        (
            "wrong issuer",
            key_a().sign(
                kid,
                &with(
                    good.clone(),
                    "iss",
                    json!("https://auth.passage.id/v1/apps/other"),
                ),
            ),
            VerifyError::WrongIssuer,
        ),
        (
            "no issuer",
            key_a().sign(kid, &{
                let mut c = good.clone();
                c.as_object_mut().unwrap().remove("iss");
                c
            }),
            VerifyError::WrongIssuer,
        ),
        (
            "wrong audience",
            key_a().sign(
                kid,
                &with(
                    good.clone(),
                    "aud",
                    json!(["http://localhost:3000", "other_app"]),
                ),
            ),
            VerifyError::WrongAudience,
        ),
        (
            "audience is only the origin",
            key_a().sign(
                kid,
                &with(good.clone(), "aud", json!("http://localhost:3000")),
            ),
            VerifyError::WrongAudience,
        ),
        (
            "expired",
            key_a().sign(kid, &with(good.clone(), "exp", json!(now - 60))),
            VerifyError::Expired,
        ),
        (
            "not yet valid",
            key_a().sign(kid, &with(good.clone(), "nbf", json!(now + 60))),
            VerifyError::NotYetValid,
        ),
        (
            "no exp",
            key_a().sign(kid, &{
                let mut c = good.clone();
                c.as_object_mut().unwrap().remove("exp");
                c
            }),
            VerifyError::MissingClaim("exp"),
        ),
        (
            "no sub",
            key_a().sign(kid, &{
                let mut c = good.clone();
                c.as_object_mut().unwrap().remove("sub");
                c
            }),
            VerifyError::MissingClaim("sub"),
        ),
        (
            "missing kid",
            key_a().sign(None, &good),
            VerifyError::MissingKid,
        ),
        (
            "unknown kid",
            key_a().sign(Some("retired-key"), &good),
            VerifyError::UnknownKid("retired-key".into()),
        ),
        (
            "two parts",
            "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0".into(),
            VerifyError::Malformed("not three dot-separated parts"),
        ),
        (
            "header not base64",
            "!!!.eyJzdWIiOiJ4In0.c2ln".into(),
            VerifyError::Malformed("the header is not base64url"),
        ),
        (
            "header not JSON",
            format!("{}.{payload}.c2ln", b64(b"not json")),
            VerifyError::Malformed("the header is not a JSON object"),
        ),
        (
            "empty",
            String::new(),
            VerifyError::Malformed("not three dot-separated parts"),
        ),
        (
            "oversized",
            format!("{head}.{}.{signature}", "A".repeat(9000)),
            VerifyError::Oversized {
                len: head.len() + signature.len() + 9002,
                max: 8192,
            },
        ),
    ];
    let mut kinds = std::collections::HashSet::new();
    for (name, token, expected) in &cases {
        let err = verifier.verify(token).await.unwrap_err();
        assert_eq!(&err, expected, "{name}");
        kinds.insert(std::mem::discriminant(&err));
        // The error never shows the token.
        let shown = format!("{err} {err:?}");
        for part in token.split('.').filter(|p| p.len() >= 16) {
            assert!(!shown.contains(part), "{name}: {shown}");
        }
    }
    assert_eq!(kinds.len(), 11, "distinct kinds of error");
    // The good token passes with the same verifier.
    verifier.verify(&good_token).await.unwrap();
}

#[tokio::test]
async fn keys_for_other_algorithms_or_uses_are_not_used() {
    // JWKS entries with the right modulus but another alg or use are skipped:
    // a token naming them is refused as signed by an unknown key.
    let server = Server::start().await;
    server.state.extra_jwks.lock().unwrap().extend([
        json!({"alg": "RS512", "kty": "RSA", "use": "sig", "kid": "rs512-key", "n": key_a().n, "e": "AQAB"}),
        json!({"alg": "RS256", "kty": "RSA", "use": "enc", "kid": "enc-key", "n": key_a().n, "e": "AQAB"}),
        json!({"alg": "RS256", "kty": "EC", "use": "sig", "kid": "ec-key", "n": key_a().n, "e": "AQAB"}),
    ]);
    let verifier = verifier(&server);
    let claims = claims(&server, &verifier);
    for kid in ["rs512-key", "enc-key", "ec-key"] {
        let token = key_a().sign(Some(kid), &claims);
        assert_eq!(
            verifier.verify(&token).await.unwrap_err(),
            VerifyError::UnknownKid(kid.into()),
            "{kid}"
        );
    }
    verifier.verify(&signed(key_a(), &claims)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_refetch_does_not_hold_up_tokens_with_cached_keys() {
    let server = Server::start().await;
    let (verifier, claims) = primed(&server).await;
    let known = signed(key_a(), &claims);
    // The refetch for an unknown kid hangs until released...
    let release = Arc::new(Notify::new());
    server.state.push_jwks_fault(Fault::Hold(release.clone()));
    let unknown = signed(key_b(), &claims);
    let slow = {
        let verifier = verifier.clone();
        tokio::spawn(async move { verifier.verify(&unknown).await })
    };
    while server.state.jwks_gets.load(Ordering::SeqCst) < 2 {
        tokio::task::yield_now().await;
    }
    // ...while tokens signed with a cached key verify at once.
    for _ in 0..10 {
        verifier.verify(&known).await.unwrap();
    }
    assert!(!slow.is_finished(), "the refetch is still in flight");
    assert_eq!(server.state.jwks_gets.load(Ordering::SeqCst), 2);
    // Once answered, the refetch finds no key B (the server publishes A only).
    release.notify_one();
    assert_eq!(
        slow.await.unwrap().unwrap_err(),
        VerifyError::UnknownKid(key_b().kid.into())
    );
}

#[tokio::test]
async fn a_huge_unknown_kid_is_cut_in_the_error() {
    let server = Server::start().await;
    let (verifier, claims) = primed(&server).await;
    let kid = "k".repeat(4000);
    let unknown = key_a().sign(Some(&kid), &claims);
    let VerifyError::UnknownKid(shown) = verifier.verify(&unknown).await.unwrap_err() else {
        panic!("expected UnknownKid");
    };
    assert_eq!(shown, format!("{}…", "k".repeat(64)));
}

/// A token signed with key A over exactly the JSON texts `header` and
/// `payload` (for headers and claims `serde_json` would not write).
fn signed_raw(header: &str, payload: &str) -> String {
    let message = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        key_a().encoding_key(),
        jsonwebtoken::Algorithm::RS256,
    )
    .unwrap();
    format!("{message}.{signature}")
}

#[tokio::test]
async fn the_one_pass_decoder_reads_escapes_long_parts_and_refuses_ambiguity() {
    let server = Server::start().await;
    let (verifier, good) = primed(&server).await;
    let kid = key_a().kid;
    let payload = good.to_string();

    // A `kid` and claim names written with JSON escapes mean the same.
    let escaped_kid: String = kid
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    let header = format!(r#"{{"alg":"RS256","kid":"{escaped_kid}","typ":"JWT"}}"#);
    let escaped_sub = payload.replacen(r#""sub""#, r#""\u0073ub""#, 1);
    assert_ne!(escaped_sub, payload);
    let verified = verifier
        .verify(&signed_raw(&header, &escaped_sub))
        .await
        .unwrap();
    assert_eq!(verified.user_id(), "user_1");

    // Header members the verifier does not read are ignored.
    let header = format!(r#"{{"alg":"RS256","kid":"{kid}","x-note":{{"a":[1,2]}}}}"#);
    verifier
        .verify(&signed_raw(&header, &payload))
        .await
        .unwrap();

    // Claims longer than any stack buffer.
    let long = with(good.clone(), "note", json!("x".repeat(5000)));
    let verified = verifier.verify(&signed(key_a(), &long)).await.unwrap();
    assert_eq!(verified.extra["note"].as_str().map(str::len), Some(5000));

    let header = format!(r#"{{"alg":"RS256","kid":"{kid}"}}"#);
    let good_token = signed(key_a(), &good);
    let (signed_part, _) = good_token.rsplit_once('.').unwrap();
    let cases: Vec<(&str, String, VerifyError)> = vec![
        (
            "a registered claim twice",
            signed_raw(&header, &payload.replacen('{', r#"{"sub":"admin","#, 1)),
            VerifyError::Malformed("the claims are not a JSON object"),
        ),
        (
            "claims that are an array",
            signed_raw(&header, "[1,2,3]"),
            VerifyError::Malformed("the claims are not a JSON object"),
        ),
        (
            "claims with trailing text",
            signed_raw(&header, &format!("{payload} x")),
            VerifyError::Malformed("the claims are not a JSON object"),
        ),
        (
            "a signature that is not base64url",
            format!("{signed_part}.!!!!"),
            VerifyError::Malformed("a part is not base64url"),
        ),
        (
            "four parts",
            format!("{good_token}.c2ln"),
            VerifyError::Malformed("not three dot-separated parts"),
        ),
        (
            "an empty payload",
            format!("{}..c2ln", b64(header.as_bytes())),
            VerifyError::Malformed("an empty part"),
        ),
        (
            "a header without alg",
            signed_raw(&format!(r#"{{"kid":"{kid}"}}"#), &payload),
            VerifyError::DisallowedAlgorithm(String::new()),
        ),
        (
            "a kid that is not a string",
            signed_raw(r#"{"alg":"RS256","kid":7}"#, &payload),
            VerifyError::Malformed("the header is not a JSON object"),
        ),
        (
            "an empty kid",
            signed_raw(r#"{"alg":"RS256","kid":""}"#, &payload),
            VerifyError::MissingKid,
        ),
        (
            "a made-up algorithm is cut",
            signed_raw(
                &format!(r#"{{"alg":"{}","kid":"{kid}"}}"#, "Z".repeat(100)),
                &payload,
            ),
            VerifyError::DisallowedAlgorithm("Z".repeat(32)),
        ),
        (
            "a negative exp",
            signed(key_a(), &with(good.clone(), "exp", json!(-1))),
            VerifyError::MissingClaim("exp"),
        ),
        (
            "an exp that is a string",
            signed(key_a(), &with(good.clone(), "exp", json!("soon"))),
            VerifyError::MissingClaim("exp"),
        ),
        (
            "an nbf that is a string",
            signed(key_a(), &with(good.clone(), "nbf", json!("now"))),
            VerifyError::MissingClaim("nbf"),
        ),
        (
            "an empty sub",
            signed(key_a(), &with(good.clone(), "sub", json!(""))),
            VerifyError::MissingClaim("sub"),
        ),
        (
            "a sub that is a number",
            signed(key_a(), &with(good.clone(), "sub", json!(1))),
            VerifyError::MissingClaim("sub"),
        ),
        (
            "an audience list with a number in it",
            signed(key_a(), &with(good.clone(), "aud", json!([APP_ID, 1]))),
            VerifyError::WrongAudience,
        ),
        (
            "an empty audience list",
            signed(key_a(), &with(good.clone(), "aud", json!([]))),
            VerifyError::WrongAudience,
        ),
        (
            "an issuer list",
            signed(
                key_a(),
                &with(good.clone(), "iss", json!([verifier.issuer()])),
            ),
            VerifyError::WrongIssuer,
        ),
    ];
    for (name, token, expected) in &cases {
        let err = verifier.verify(token).await.unwrap_err();
        assert_eq!(&err, expected, "{name}");
        let shown = format!("{err} {err:?}");
        for part in token.split('.').filter(|p| p.len() >= 16) {
            assert!(!shown.contains(part), "{name}: {shown}");
        }
    }
    assert_eq!(server.state.jwks_gets.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn jwks_keys_are_parsed_once_at_fetch_and_unusable_ones_left_out() {
    // Key A's modulus with a leading zero byte is the same key; a modulus
    // that is not base64url, or is no RSA modulus, is left out at fetch.
    let server = Server::start().await;
    let n = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(key_a().n)
        .unwrap();
    let padded = b64(&[&[0u8][..], &n].concat());
    server.state.extra_jwks.lock().unwrap().extend([
        json!({"alg": "RS256", "kty": "RSA", "use": "sig", "kid": "padded", "n": padded, "e": "AQAB"}),
        json!({"alg": "RS256", "kty": "RSA", "use": "sig", "kid": "not-base64", "n": "!!", "e": "AQAB"}),
        json!({"alg": "RS256", "kty": "RSA", "use": "sig", "kid": "empty", "n": "", "e": "AQAB"}),
    ]);
    let verifier = verifier(&server);
    assert_eq!(verifier.preload().await.unwrap(), 2, "key A and `padded`");
    assert_eq!(verifier.cache_state().keys, 2);
    let claims = claims(&server, &verifier);
    verifier
        .verify(&key_a().sign(Some("padded"), &claims))
        .await
        .unwrap();
    for kid in ["not-base64", "empty"] {
        assert_eq!(
            verifier
                .verify(&key_a().sign(Some(kid), &claims))
                .await
                .unwrap_err(),
            VerifyError::UnknownKid(kid.into()),
            "{kid}"
        );
    }
}
