//! Fuzz target: arbitrary input into `TokenVerifier::verify`, with the JWKS
//! already cached from a fixed test key (the `test-key-a` pair of
//! `generated/tests/support/mod.rs`), served once by a loopback server.
//!
//! The first input byte picks a mode:
//! - raw: the rest, as text, is the token;
//! - signed: the rest is the claims; a JSON object is signed with the key
//!   (anything else is sent with a foreign signature), so `iss`/`aud`/`exp`/`nbf`/`sub` checks see
//!   arbitrary values behind a valid signature;
//! - tampered: a valid token with bytes overwritten by the input.
//!
//! Properties: no panic; an accepted token has the right issuer and audience,
//! a `sub`, and is unexpired; a tampered token is accepted only with the
//! original claims.
#![no_main]

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use passage_auth_client::{ClientBuilder, TokenVerifier, VerifierConfig};
use serde_json::{json, Value};

const APP_ID: &str = "fuzz-app";
const KID: &str = "test-key-a";
const N: &str = "lNL-P1TacAwZ3LILNq48U_7er1gwWjHC6IAy8oaL7HvsWAjSg8wUvi5qRi41jWBpWQX9JQ9tkagM73toTQSg9lyWZ-tsMzoP_GgRjw-xXzsGLDcTJ7YwU3kHCmOakmixWq21JDhWZHg2T_zPpVZJ8qSazJCL9YizqJPZTs7T8GVsoDL6t0V4Sqe8wca_nzZNMSROfjNTVkMUdCfly9Pa_h0V9f_4KxAC0T-OkPyiuUXoLV632qS6xNcBxIpUNDJ906OCpUw0vqbCjWlY_j9zBBmzS9WQuJQT7NCAkXT1-c2qMVjH_j5ObZEpJjKg_UvrSqDnKNVDwGBcuegSeOtGOw";
const E: &str = "AQAB";
const PRIVATE_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIIEugIBADANBgkqhkiG9w0BAQEFAASCBKQwggSgAgEAAoIBAQCU0v4/VNpwDBnc\nsgs2rjxT/t6vWDBaMcLogDLyhovse+xYCNKDzBS+LmpGLjWNYGlZBf0lD22RqAzv\ne2hNBKD2XJZn62wzOg/8aBGPD7FfOwYsNxMntjBTeQcKY5qSaLFarbUkOFZkeDZP\n/M+lVknypJrMkIv1iLOok9lOztPwZWygMvq3RXhKp7zBxr+fNk0xJE5+M1NWQxR0\nJ+XL09r+HRX1//grEALRP46Q/KK5RegtXrfapLrE1wHEilQ0Mn3To4KlTDS+psKN\naVj+P3MEGbNL1ZC4lBPs0ICRdPX5zaoxWMf+Pk5tkSkmMqD9S+tKoOco1UPAYFy5\n6BJ460Y7AgMBAAECgf9YEoVj9VNP+9lSQgtg0Lvi+XHPUuFKfyhZb4S3AejMionT\nj2UFmkCsS8uYvL/0apntlR26UOcGy+zbzKxs59BZ+3EHDst5hWLwfKXng+Hz+Xot\nsGolliwDOhxwiYFwI4TRpPsN9EksK/f4XiSENAyPC9qQNPqe08d+fACeIshJ+tSx\nLr0h3EV3UO+DGAUVycUXLU37r26rqwMwHfwGOudvBTzpNc5PkG0WmRieqkmRs3kb\nXXJyvBPgTOw1p6nXyJwGJJ3NV5jIDerhBF0tL2dCmO5TQ0UVb/laC50vHRkSFInV\nOxanmFdnBkKgLZuKdoe1iBEunT47zG3xsZ3iDQECgYEAyKC/PQGfTvcse00xCdiT\njnQDF0s+SKR9BbGe0leEDQna8JZP3mlJD7HeLvovG4S24DlYc6FGZ9HWl/+SwsrL\n1UMpfUiDtdd2JnwpTHeDfAVX33611BmjkqJwpg9wR5pvYSPjkta4JO5eRr8qWEg+\nXzKO0CH4k8VTPrPFRAzmoTsCgYEAveYVOxC6mf0nxzzF0IKGQ5czIqa5MqXGl9/j\nL/D9+MQ6QIaj59+RUlZBzQ5Vth90xK/cxqbldj8/RkRp14pw4KbcopqHnEPfKh7h\nAufQG2rmremFzp9vI91Z/0uPnFGMkdv/5sYNWajTIzRxgBl5ko/wrDXegOyeKXE6\nXDuTnwECgYBKjTkjEVRCgqTb2K5NS1ZhjAiOAl7NnZn7oKo03WJreesKlcBuFE+a\n7mxypnMU1bcjEQwmQ5qm/5mvd7/wdG1T/RYQwP54du0nleG+0XZhgpbJrQsiGrjm\nx0f23SvK379dqHlrWjCpQI512ZmBnq7WrzHUc5ssRhoN5b168RROewKBgBuhnvU5\nOe2uKFuVPDNayq6LEaW5HLmB5aOzsBsJteq8or1A2hijL0ILywdLTq1xZkw4Sqed\nIUZTbaGL0trKCiKmJPSEB7d1KMO4OoVxtZZHt8kWcaHfEQzm6HF9TSgxtYKDwHiT\n2N1y80XsG5fIHSh2SU7Fh9q6k0j0cMl64cABAoGAJQ4YpZfpZgKKdsdZTkJrJMhs\nmWXZ7m4/a8UNMskt64hGIYatVsrtEI+7DNr3vhtk+AlaPk5zG4V7BTcGTy07csWr\n2kYjitF14tEgelF0egYBVKtKH464yoAr+I3ZLO1KG6rCd/PAlEOtY8pcrvTX5qWR\nuSf6Rq3UaFNMGHFKYEE=\n-----END PRIVATE KEY-----";

struct Fixture {
    runtime: tokio::runtime::Runtime,
    verifier: TokenVerifier,
    key: EncodingKey,
    issuer: String,
    valid: String,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn sign(key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KID.to_owned());
    encode(&header, claims, key).expect("signing works")
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        // jsonwebtoken's aws-lc-rs backend, named explicitly (never the process-wide default that
        // its crate features would pick).
        let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let base_url = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let jwks = json!({"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": KID, "n": N, "e": E}]});
            let router = axum::Router::new().route(
                &format!("/v1/apps/{APP_ID}/.well-known/jwks.json"),
                axum::routing::get(move || {
                    let jwks = jwks.clone();
                    async move { axum::Json(jwks) }
                }),
            );
            tokio::spawn(async move { axum::serve(listener, router).await });
            format!("http://{addr}/v1")
        });
        let client = ClientBuilder::new()
            .base_url(&base_url)
            .timeout(Duration::from_secs(5))
            .build()
            .expect("client");
        let config = VerifierConfig {
            // Unknown kids never trigger a refetch during a run.
            unknown_kid_refetch_interval: Duration::from_secs(24 * 3600),
            ..VerifierConfig::default()
        };
        let verifier = TokenVerifier::new(client, APP_ID, config);
        let issuer = verifier.issuer().to_owned();
        let key = EncodingKey::from_rsa_pem(PRIVATE_PEM.as_bytes()).expect("key");
        let valid = sign(
            &key,
            &json!({"iss": issuer, "aud": [APP_ID], "sub": "usr_fuzz", "iat": now(), "exp": now() + 24 * 3600}),
        );
        // Pre-warm: fetch and cache the key set; the fixture is broken if this fails.
        let claims = runtime
            .block_on(verifier.verify(&valid))
            .expect("the valid token verifies");
        assert_eq!(claims.user_id(), "usr_fuzz");
        Fixture {
            runtime,
            verifier,
            key,
            issuer,
            valid,
        }
    })
}

fn check_accepted(f: &Fixture, claims: &passage_auth_client::Claims) {
    assert_eq!(claims.iss, f.issuer, "accepted a foreign issuer");
    assert!(
        claims.aud.iter().any(|a| a == APP_ID),
        "accepted a foreign audience"
    );
    assert!(!claims.sub.is_empty(), "accepted an empty subject");
    assert!(claims.exp + 5 > now(), "accepted an expired token");
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            let token = String::from_utf8_lossy(rest);
            if let Ok(claims) = f.runtime.block_on(f.verifier.verify(&token)) {
                check_accepted(f, &claims);
            }
        }
        1 => {
            // Only JSON objects are signed (signing is the slow part of a run); anything else
            // goes in as the payload of a token carrying another token's signature.
            let token = match serde_json::from_slice::<Value>(rest) {
                Ok(claims @ Value::Object(_)) => sign(&f.key, &claims),
                _ => {
                    let mut parts = f.valid.split('.');
                    let header = parts.next().unwrap_or_default();
                    let signature = parts.nth(1).unwrap_or_default();
                    format!(
                        "{header}.{}.{signature}",
                        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rest)
                    )
                }
            };
            if let Ok(claims) = f.runtime.block_on(f.verifier.verify(&token)) {
                check_accepted(f, &claims);
            }
        }
        _ => {
            let mut token = f.valid.clone().into_bytes();
            for pair in rest.chunks(2) {
                if let [pos, byte] = pair {
                    let i = *pos as usize * token.len() / 256;
                    token[i] = *byte;
                }
            }
            let token = String::from_utf8_lossy(&token).into_owned();
            if let Ok(claims) = f.runtime.block_on(f.verifier.verify(&token)) {
                check_accepted(f, &claims);
                assert_eq!(
                    claims.user_id(),
                    "usr_fuzz",
                    "a tampered token changed its claims"
                );
            }
        }
    }
});
