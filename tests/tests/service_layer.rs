//! `PassageAuthLayer` and the `PassageUser` extractor in a real axum server on
//! 127.0.0.1, verifying tokens the emulator issued: the user id reaches the
//! handler (header or cookie), a key rotation is followed, an expired or
//! tampered token and a token of another app are refused with RFC 6750's
//! `invalid_token`, and a JWKS that cannot be fetched gives 503.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::routing::get;
use axum::Router;
use passage_auth_client::server::{PassageAuthLayer, PassageUser, AUTH_COOKIE};
use passage_auth_client::{ManualClock, TokenVerifier, VerifierConfig};
use passage_e2e::harness::{jwt_parts, TestEnv};
use serde_json::json;

/// A service behind an optional layer: `/api/me` needs a user, `/` does not.
struct Service {
    origin: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Service {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(verifier: TokenVerifier) -> Service {
    async fn me(user: PassageUser) -> String {
        user.user_id().to_owned()
    }
    async fn home(user: Option<PassageUser>) -> String {
        user.map_or_else(
            || "anonymous".to_owned(),
            |u| format!("user {}", u.user_id()),
        )
    }
    let app = Router::new()
        .route("/api/me", get(me))
        .route("/", get(home))
        .layer(PassageAuthLayer::optional(verifier));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Service { origin, task }
}

#[derive(Debug)]
struct Answer {
    status: u16,
    challenge: Option<String>,
    body: String,
}

async fn get_with(env: &TestEnv, url: &str, header: Option<(&str, String)>) -> Answer {
    let mut request = env.http.get(url);
    if let Some((name, value)) = header {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    Answer {
        status: response.status().as_u16(),
        challenge: response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned()),
        body: response.text().await.unwrap(),
    }
}

fn bearer(token: &str) -> Option<(&'static str, String)> {
    Some(("authorization", format!("Bearer {token}")))
}

fn assert_invalid_token(answer: &Answer, what: &str) {
    assert_eq!(answer.status, 401, "{what}: {answer:?}");
    assert_eq!(
        answer.challenge.as_deref(),
        Some(r#"Bearer error="invalid_token""#),
        "{what}"
    );
    assert_eq!(answer.body, "", "{what}: the body says nothing about why");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulator_tokens_reach_the_handler_as_header_or_cookie_and_across_a_key_rotation() {
    let env = TestEnv::start().await;
    let verifier = TokenVerifier::new(env.client.clone(), &env.app_id, VerifierConfig::default());
    let service = serve(verifier).await;
    let me = format!("{}/api/me", service.origin);

    let auth = env.register_by_otp("service@example.com").await;
    let token = auth.auth_token.expose_secret().to_owned();
    let (_, claims) = jwt_parts(&token);
    let user_id = claims["sub"].as_str().unwrap().to_owned();
    assert!(user_id.starts_with("usr_"), "{user_id}");

    let by_header = get_with(&env, &me, bearer(&token)).await;
    assert_eq!(
        (by_header.status, by_header.body.as_str()),
        (200, user_id.as_str())
    );
    let lower = get_with(
        &env,
        &me,
        Some(("authorization", format!("bearer {token}"))),
    )
    .await;
    assert_eq!((lower.status, lower.body.as_str()), (200, user_id.as_str()));
    let cookie = Some(("cookie", format!("lang=en; {AUTH_COOKIE}={token}")));
    let by_cookie = get_with(&env, &me, cookie).await;
    assert_eq!(
        (by_cookie.status, by_cookie.body.as_str()),
        (200, user_id.as_str())
    );
    let home = get_with(&env, &format!("{}/", service.origin), bearer(&token)).await;
    assert_eq!(home.body, format!("user {user_id}"));
    let anonymous = get_with(&env, &format!("{}/", service.origin), None).await;
    assert_eq!(
        (anonymous.status, anonymous.body.as_str()),
        (200, "anonymous")
    );
    assert_eq!(
        env.request_count("GET", &env.api_path("/.well-known/jwks.json")),
        1
    );

    // After a rotation, a new token names the new kid: one refetch, then it verifies;
    // the old token stays valid during the emulator's grace period.
    let (status, rotated) = env
        .admin_post(&format!("/apps/{}/rotate-key", env.app_id), json!({}))
        .await;
    assert_eq!(status, 200);
    let fresh = env.login_by_otp("service@example.com").await;
    let fresh_token = fresh.auth_token.expose_secret().to_owned();
    assert_eq!(jwt_parts(&fresh_token).0["kid"], rotated["kid"]);
    let after = get_with(&env, &me, bearer(&fresh_token)).await;
    assert_eq!((after.status, after.body.as_str()), (200, user_id.as_str()));
    let old = get_with(&env, &me, bearer(&token)).await;
    assert_eq!(old.status, 200);
    assert_eq!(
        env.request_count("GET", &env.api_path("/.well-known/jwks.json")),
        2
    );

    let missing = get_with(&env, &me, None).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.challenge.as_deref(), Some("Bearer"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tampered_and_foreign_tokens_are_invalid_token() {
    let env = TestEnv::start().await;
    let auth = env.register_by_otp("refused@example.com").await;
    let token = auth.auth_token.expose_secret().to_owned();
    let (_, claims) = jwt_parts(&token);
    let exp = claims["exp"].as_u64().unwrap();

    // A verifier whose clock is an hour past the token's expiry.
    let late = Arc::new(ManualClock::new(
        SystemTime::UNIX_EPOCH + Duration::from_secs(exp + 3600),
    ));
    let expired_service = serve(
        TokenVerifier::new(env.client.clone(), &env.app_id, VerifierConfig::default())
            .with_clock(late),
    )
    .await;
    let answer = get_with(
        &env,
        &format!("{}/api/me", expired_service.origin),
        bearer(&token),
    )
    .await;
    assert_invalid_token(&answer, "expired");

    let service = serve(TokenVerifier::new(
        env.client.clone(),
        &env.app_id,
        VerifierConfig::default(),
    ))
    .await;
    let me = format!("{}/api/me", service.origin);
    let mut tampered = token.clone();
    let at = tampered.rfind('.').unwrap() + 5;
    let flipped = if &tampered[at..=at] == "A" { "B" } else { "A" };
    tampered.replace_range(at..=at, flipped);
    assert_invalid_token(&get_with(&env, &me, bearer(&tampered)).await, "tampered");
    // The optional layer refuses a bad token too, even on a route that does not need a user.
    let home = get_with(&env, &format!("{}/", service.origin), bearer(&tampered)).await;
    assert_invalid_token(&home, "tampered, optional route");

    // A service expecting another issuer refuses this app's token.
    let other = serve(TokenVerifier::new(
        env.client.clone(),
        &env.app_id,
        VerifierConfig {
            issuer: Some(format!("{}/apps/another-app", env.emulator.base_url())),
            ..VerifierConfig::default()
        },
    ))
    .await;
    let answer = get_with(&env, &format!("{}/api/me", other.origin), bearer(&token)).await;
    assert_invalid_token(&answer, "another issuer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_key_to_be_had_is_503_without_a_challenge() {
    let env = TestEnv::start().await;
    let auth = env.register_by_otp("down@example.com").await;
    let token = auth.auth_token.expose_secret().to_owned();
    let (status, _) = env
        .admin_post(
            "/faults",
            json!({"path_prefix": env.api_path("/.well-known/jwks.json"), "count": 100, "kind": "status503"}),
        )
        .await;
    assert_eq!(status, 201);
    let service = serve(TokenVerifier::new(
        env.client.clone(),
        &env.app_id,
        VerifierConfig::default(),
    ))
    .await;
    let answer = get_with(&env, &format!("{}/api/me", service.origin), bearer(&token)).await;
    assert_eq!(answer.status, 503, "{answer:?}");
    assert_eq!(answer.challenge, None);
    assert_eq!(answer.body, "");
    assert!(env.request_count("GET", &env.api_path("/.well-known/jwks.json")) >= 1);
}
