//! `PassageAuthLayer` and the `PassageUser` extractor in front of an axum
//! router and a plain tower service, with the test server's JWKS: where the
//! token is read from, the RFC 6750 answers, the optional mode and a JWKS
//! that cannot be fetched.

mod support;

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::{header, Request, Response, StatusCode};
use passage_auth_client::server::{AuthRejection, PassageAuthLayer, PassageUser, AUTH_COOKIE};
use passage_auth_client::CredentialsExt;
use passage_auth_client::{Clock, RetryPolicy, TokenVerifier, VerifierConfig};
use serde_json::{json, Value};
use support::{key_a, key_b, unix, Fault, Server, APP_ID};
use tower::{service_fn, ServiceBuilder, ServiceExt};

fn verifier(server: &Server) -> TokenVerifier {
    TokenVerifier::new(
        server.client().with_retry_policy(RetryPolicy::none()),
        APP_ID,
        VerifierConfig::default(),
    )
    .with_clock(server.clock())
}

fn claims(server: &Server, verifier: &TokenVerifier, sub: &str) -> Value {
    let now = unix(server.clock().now());
    json!({"sub": sub, "iss": verifier.issuer(), "aud": APP_ID, "exp": now + 300, "iat": now})
}

fn token(server: &Server, verifier: &TokenVerifier, sub: &str) -> String {
    key_a().sign(Some(key_a().kid), &claims(server, verifier, sub))
}

async fn me(user: PassageUser) -> String {
    user.user_id().to_owned()
}

async fn home(user: Option<PassageUser>) -> String {
    match user {
        Some(user) => format!("hello {}", user.user_id()),
        None => "hello stranger".to_owned(),
    }
}

fn router(layer: PassageAuthLayer) -> Router {
    Router::new()
        .route("/api/me", get(me))
        .route("/", get(home))
        .layer(layer)
}

struct Answer {
    status: StatusCode,
    challenge: Option<String>,
    body: String,
}

async fn send(app: &Router, path: &str, headers: &[(header::HeaderName, &str)]) -> Answer {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    answer(response).await
}

async fn answer(response: Response<Body>) -> Answer {
    let status = response.status();
    let challenge = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    Answer {
        status,
        challenge,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

fn assert_invalid_token(answer: &Answer, what: &str) {
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{what}");
    assert_eq!(
        answer.challenge.as_deref(),
        Some(r#"Bearer error="invalid_token""#),
        "{what}"
    );
    assert_eq!(answer.body, "", "{what}: no detail in the body");
}

#[tokio::test]
async fn a_valid_token_from_the_header_in_any_case_or_the_cookie_reaches_the_handler() {
    let server = Server::start().await;
    let verifier = verifier(&server);
    let app = router(PassageAuthLayer::required(verifier.clone()));
    let token = token(&server, &verifier, "user_42");
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let auth = format!("{scheme} {token}");
        let answer = send(&app, "/api/me", &[(header::AUTHORIZATION, &auth)]).await;
        assert_eq!(answer.status, StatusCode::OK, "{scheme}");
        assert_eq!(answer.body, "user_42");
    }
    let cookie = format!("theme=dark; {AUTH_COOKIE}={token}");
    let answer = send(&app, "/api/me", &[(header::COOKIE, &cookie)]).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, "user_42");
    // The keys were fetched once for all of these.
    assert_eq!(
        server
            .state
            .jwks_gets
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}

#[tokio::test]
async fn a_request_without_a_token_gets_the_bare_bearer_challenge() {
    let server = Server::start().await;
    let app = router(PassageAuthLayer::required(verifier(&server)));
    for headers in [
        vec![],
        vec![(header::AUTHORIZATION, "Basic dXNlcjpwYXNz")],
        vec![(header::COOKIE, "other=1")],
    ] {
        let answer = send(&app, "/api/me", &headers).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.challenge.as_deref(), Some("Bearer"));
        assert_eq!(answer.body, "");
    }
}

#[tokio::test]
async fn every_refused_token_gets_invalid_token_and_an_empty_body() {
    let server = Server::start().await;
    let verifier = verifier(&server);
    let app = router(PassageAuthLayer::required(verifier.clone()));
    let good = claims(&server, &verifier, "user_1");
    let now = unix(server.clock().now());
    let mut expired = good.clone();
    expired["exp"] = json!(now - 3600);
    let mut wrong_audience = good.clone();
    wrong_audience["aud"] = json!("another-app");
    let mut wrong_issuer = good.clone();
    wrong_issuer["iss"] = json!("https://evil.example/apps/x");
    let valid = key_a().sign(Some(key_a().kid), &good);
    let mut tampered = valid.clone();
    let cut = tampered.rfind('.').unwrap() + 10;
    let flipped = if &tampered[cut..=cut] == "A" {
        "B"
    } else {
        "A"
    };
    tampered.replace_range(cut..=cut, flipped);
    let cases = [
        ("expired", key_a().sign(Some(key_a().kid), &expired)),
        (
            "wrong audience",
            key_a().sign(Some(key_a().kid), &wrong_audience),
        ),
        (
            "wrong issuer",
            key_a().sign(Some(key_a().kid), &wrong_issuer),
        ),
        ("tampered signature", tampered),
        // Key B is not published: its kid is unknown.
        ("unknown key", key_b().sign(Some(key_b().kid), &good)),
        // Signed by key B but naming key A's kid.
        ("wrong key", key_b().sign(Some(key_a().kid), &good)),
        ("not a JWT", "not-a-token".to_owned()),
    ];
    for (what, token) in &cases {
        let auth = format!("Bearer {token}");
        let answer = send(&app, "/api/me", &[(header::AUTHORIZATION, &auth)]).await;
        assert_invalid_token(&answer, what);
        let cookie = format!("{AUTH_COOKIE}={token}");
        let answer = send(&app, "/api/me", &[(header::COOKIE, &cookie)]).await;
        assert_invalid_token(&answer, what);
    }
}

#[tokio::test]
async fn the_optional_layer_lets_anonymous_requests_through_and_still_refuses_bad_tokens() {
    let server = Server::start().await;
    let verifier = verifier(&server);
    let app = router(PassageAuthLayer::optional(verifier.clone()));
    let anonymous = send(&app, "/", &[]).await;
    assert_eq!(anonymous.status, StatusCode::OK);
    assert_eq!(anonymous.body, "hello stranger");

    let auth = format!("Bearer {}", token(&server, &verifier, "user_7"));
    let known = send(&app, "/", &[(header::AUTHORIZATION, &auth)]).await;
    assert_eq!(known.status, StatusCode::OK);
    assert_eq!(known.body, "hello user_7");

    let bad = send(&app, "/", &[(header::AUTHORIZATION, "Bearer a.b.c")]).await;
    assert_invalid_token(&bad, "a malformed token behind the optional layer");

    // A route that requires a user answers an anonymous request 401 itself.
    let required = send(&app, "/api/me", &[]).await;
    assert_eq!(required.status, StatusCode::UNAUTHORIZED);
    assert_eq!(required.challenge.as_deref(), Some("Bearer"));
}

#[tokio::test]
async fn no_key_to_be_had_is_503_and_the_next_request_verifies_once_the_jwks_is_back() {
    let server = Server::start().await;
    let config = VerifierConfig {
        unknown_kid_refetch_interval: Duration::ZERO,
        ..VerifierConfig::default()
    };
    let verifier = TokenVerifier::new(
        server.client().with_retry_policy(RetryPolicy::none()),
        APP_ID,
        config,
    )
    .with_clock(server.clock());
    let app = router(PassageAuthLayer::required(verifier.clone()));
    let auth = format!("Bearer {}", token(&server, &verifier, "user_1"));
    server.state.push_jwks_fault(Fault::Status(500, None));
    let down = send(&app, "/api/me", &[(header::AUTHORIZATION, &auth)]).await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(down.challenge, None);
    assert_eq!(down.body, "");

    // The failed fetch is not retried at once; once the clock passes the
    // failure back-off, the keys are fetched and the token verifies.
    server.clock().advance(Duration::from_secs(60));
    let up = send(&app, "/api/me", &[(header::AUTHORIZATION, &auth)]).await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.body);
}

#[tokio::test]
async fn the_extractor_on_a_route_without_the_layer_is_a_500_not_a_pass() {
    let app: Router = Router::new().route("/api/me", get(me));
    let answer = send(&app, "/api/me", &[(header::AUTHORIZATION, "Bearer x.y.z")]).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer.body, "");
}

#[tokio::test]
async fn any_tower_service_gets_the_user_in_its_extensions() {
    let server = Server::start().await;
    let verifier = verifier(&server);
    let service = ServiceBuilder::new()
        .layer(PassageAuthLayer::required(verifier.clone()))
        .service(service_fn(|request: Request<String>| async move {
            let user = request.extensions().get::<PassageUser>().cloned();
            Ok::<_, Infallible>(Response::new(
                user.map(|u| u.user_id().to_owned()).unwrap_or_default(),
            ))
        }));
    let auth = format!("Bearer {}", token(&server, &verifier, "user_9"));
    let request = Request::get("/")
        .header(header::AUTHORIZATION, auth)
        .body(String::new())
        .unwrap();
    let response = service.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.into_body(), "user_9");

    let response = service
        .oneshot(Request::get("/").body(String::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.into_body(), "");
}

#[test]
fn the_rejections_answer_as_rfc_6750_says() {
    let missing: Response<String> = AuthRejection::MissingToken.into_response();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(missing.headers()[header::WWW_AUTHENTICATE], "Bearer");
    let invalid: Response<String> = AuthRejection::InvalidToken.into_response();
    assert_eq!(
        invalid.headers()[header::WWW_AUTHENTICATE],
        r#"Bearer error="invalid_token""#
    );
    let unavailable: Response<String> = AuthRejection::KeysUnavailable.into_response();
    assert_eq!(unavailable.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(unavailable
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .is_none());
}
