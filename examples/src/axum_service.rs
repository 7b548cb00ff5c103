//! Example `axum_service`: an axum service whose `/api/me` route only answers requests carrying
//! a valid Passage auth token, checked by the [`PassageUser`] extractor with a cached
//! [`TokenVerifier`] (the JWKS is fetched once, then every check is local).
//!
//! The example signs in by passcode to get a token, calls its own protected route without a
//! token, with a tampered one and with the real one, then shuts the service down.

//! Example `axum_service`: an axum service behind the crate's [`PassageAuthLayer`]: `/api/me`
//! answers only requests carrying a valid Passage auth token (as `Authorization: Bearer` or the
//! `psg_auth_token` cookie of Passage's web elements), `/` greets signed-in and anonymous
//! visitors alike, `/health` is public. The [`TokenVerifier`] fetches the JWKS once, then every
//! check is local.
//!
//! The example signs in by passcode to get a token, calls its own protected route without a
//! token, with a tampered one, with the real one (as a header and as the cookie), then shuts the
//! service down.

use anyhow::Context as _;
use axum::routing::get;
use axum::{Json, Router};
use passage_auth_client::server::{PassageAuthLayer, PassageUser, AUTH_COOKIE};
use passage_auth_client::{TokenVerifier, VerifierConfig};
use serde_json::{json, Value};

use crate::{otp, Steps, Target};

/// The service: `GET /health` (public), `GET /` (anyone; greets a signed-in user by id) and
/// `GET /api/me` (needs a Passage auth token). The layer verifies any token a request carries;
/// each route says whether it needs a user (`PassageUser`) or not (`Option<PassageUser>`).
pub fn router(verifier: TokenVerifier) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/", get(home))
        .route("/api/me", get(me))
        .layer(PassageAuthLayer::optional(verifier))
}

async fn home(user: Option<PassageUser>) -> String {
    match user {
        Some(user) => format!("welcome back, {}", user.user_id()),
        None => "welcome, stranger".to_owned(),
    }
}

async fn me(user: PassageUser) -> Json<Value> {
    Json(json!({
        "user_id": user.user_id(),
        "expires_at": user.exp,
    }))
}

/// One call of the example's own service.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The `WWW-Authenticate` challenge of a 401.
    pub challenge: Option<String>,
    /// JSON body (`null` when empty: refusals say nothing about why).
    pub body: Value,
}

/// What the example did.
#[derive(Debug)]
pub struct AxumService {
    /// `/api/me` without a token.
    pub without_token: Answer,
    /// `/api/me` with a token whose signature was altered.
    pub tampered_token: Answer,
    /// `/api/me` with the real token (twice: the second check uses the cached keys).
    pub with_token: Vec<Answer>,
    /// `/api/me` with the real token in the `psg_auth_token` cookie.
    pub with_cookie: Answer,
    /// The signed-in user id.
    pub user_id: String,
    /// JWKS requests the emulator saw (`None` with a real deployment).
    pub jwks_fetches: Option<usize>,
}

/// Runs the example against `target`.
pub async fn run(target: &Target) -> anyhow::Result<AxumService> {
    let steps = Steps::new("Passage: an axum service behind PassageAuthLayer");
    let client = target.client()?;
    let app_id = target.app_id();

    steps.step("Start the service on 127.0.0.1 (GET /health public, GET /api/me protected)");
    let verifier = TokenVerifier::new(client.clone(), app_id, VerifierConfig::default());
    // Fetch the keys before serving, so the first request does not wait for them.
    let keys = verifier.preload().await?;
    steps.detail(format!("preloaded {keys} signing key(s)"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let origin = format!("http://{}", listener.local_addr()?);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, router(verifier))
            .with_graceful_shutdown(async {
                let _ = stop_rx.await;
            })
            .await
    });
    steps.detail(format!("listening on {origin}"));

    let identifier = target.identifier("alan@example.com").await?;
    steps.step(format!(
        "Sign in as {identifier} by passcode to get an auth token (see the otp_login example)"
    ));
    let auth = otp::sign_in(target, &client, &identifier, &Steps::quiet())
        .await?
        .auth;
    let token = auth.auth_token.expose_secret().to_owned();
    steps.detail("got an auth token");

    let http = reqwest::Client::new();
    let url = format!("{origin}/api/me");

    steps.step("GET /api/me without a token");
    let without_token = call(&http, &url, Credential::None).await?;
    steps.detail(describe(&without_token));

    steps.step("GET /api/me with a token whose signature was altered");
    let tampered_token = call(&http, &url, Credential::Bearer(&tamper(&token))).await?;
    steps.detail(describe(&tampered_token));

    steps.step("GET /api/me with the real token, twice");
    let mut with_token = Vec::new();
    for _ in 0..2 {
        let answer = call(&http, &url, Credential::Bearer(&token)).await?;
        steps.detail(describe(&answer));
        with_token.push(answer);
    }

    steps.step(format!(
        "GET /api/me with the token in the {AUTH_COOKIE} cookie"
    ));
    let with_cookie = call(&http, &url, Credential::Cookie(&token)).await?;
    steps.detail(describe(&with_cookie));
    let jwks_fetches = target.request_count("GET", "/.well-known/jwks.json");
    if let Some(n) = jwks_fetches {
        steps.detail(format!(
            "JWKS requests to the emulator so far: {n} (the keys are cached for an hour)"
        ));
    }
    let user_id = with_token
        .first()
        .and_then(|a| a.body["user_id"].as_str())
        .unwrap_or_default()
        .to_owned();

    steps.step("Shut the service down");
    let _ = stop_tx.send(());
    server.await.context("the server task failed")??;
    steps.detail("stopped");

    steps.done(format!(
        "/api/me refused requests without a valid token and served {user_id}"
    ));
    Ok(AxumService {
        without_token,
        tampered_token,
        with_token,
        with_cookie,
        user_id,
        jwks_fetches,
    })
}

/// How a call presents the token.
enum Credential<'a> {
    None,
    Bearer(&'a str),
    Cookie(&'a str),
}

async fn call(
    http: &reqwest::Client,
    url: &str,
    credential: Credential<'_>,
) -> anyhow::Result<Answer> {
    let request = match credential {
        Credential::None => http.get(url),
        Credential::Bearer(token) => http.get(url).bearer_auth(token),
        Credential::Cookie(token) => http
            .get(url)
            .header(reqwest::header::COOKIE, format!("{AUTH_COOKIE}={token}")),
    };
    let response = request.send().await?;
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    Ok(Answer {
        status,
        challenge,
        body,
    })
}

fn describe(answer: &Answer) -> String {
    match &answer.challenge {
        Some(challenge) => format!("{} (WWW-Authenticate: {challenge})", answer.status),
        None => format!("{} {}", answer.status, answer.body),
    }
}

/// The token with one character in the middle of its signature changed.
fn tamper(token: &str) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    let signature_start = token.rfind('.').map_or(0, |i| i + 1);
    let i = signature_start + (chars.len() - signature_start) / 2;
    if let Some(c) = chars.get_mut(i) {
        *c = if *c == 'A' { 'B' } else { 'A' };
    }
    chars.into_iter().collect()
}
