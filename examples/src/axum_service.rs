//! Example `axum_service`: an axum service whose `/api/me` route only answers requests carrying
//! a valid Passage auth token, checked by the [`PassageUser`] extractor with a cached
//! [`TokenVerifier`] (the JWKS is fetched once, then every check is local).
//!
//! The example signs in by passcode to get a token, calls its own protected route without a
//! token, with a tampered one and with the real one, then shuts the service down.

use anyhow::Context as _;
use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use passage_auth_client::{Claims, TokenVerifier, VerifierConfig, VerifyError};
use serde_json::{json, Value};

use crate::{otp, Steps, Target};

/// The service's shared state.
#[derive(Clone)]
pub struct AppState {
    /// Verifies Passage auth tokens; clones share its key cache.
    pub verifier: TokenVerifier,
}

impl FromRef<AppState> for TokenVerifier {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

/// The signed-in Passage user of a request: extracting it verifies the bearer token.
#[derive(Debug, Clone)]
pub struct PassageUser(pub Claims);

/// Why a request was refused by [`PassageUser`]. Never contains the token.
#[derive(Debug)]
pub enum AuthRejection {
    /// No `Authorization: Bearer ...` header.
    MissingToken,
    /// The token is invalid (signature, expiry, issuer, audience, ...).
    Invalid(VerifyError),
    /// The app's signing keys could not be fetched.
    KeysUnavailable,
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        let (status, reason) = match self {
            AuthRejection::MissingToken => {
                (StatusCode::UNAUTHORIZED, "missing bearer token".to_owned())
            }
            AuthRejection::Invalid(e) => (StatusCode::UNAUTHORIZED, e.to_string()),
            AuthRejection::KeysUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "signing keys unavailable".to_owned(),
            ),
        };
        let mut response = (status, Json(json!({ "error": reason }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

impl<S> FromRequestParts<S> for PassageUser
where
    TokenVerifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AuthRejection::MissingToken)?;
        let verifier = TokenVerifier::from_ref(state);
        match verifier.verify(token).await {
            Ok(claims) => Ok(PassageUser(claims)),
            Err(VerifyError::JwksUnavailable(_)) => Err(AuthRejection::KeysUnavailable),
            Err(e) => Err(AuthRejection::Invalid(e)),
        }
    }
}

/// The service: `GET /health` (public) and `GET /api/me` (needs a Passage auth token).
pub fn router(verifier: TokenVerifier) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/api/me", get(me))
        .with_state(AppState { verifier })
}

async fn me(PassageUser(claims): PassageUser, State(_): State<AppState>) -> Json<Value> {
    Json(json!({
        "user_id": claims.user_id(),
        "expires_at": claims.exp,
    }))
}

/// One call of the example's own service.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
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
    /// The signed-in user id.
    pub user_id: String,
    /// JWKS requests the emulator saw (`None` with a real deployment).
    pub jwks_fetches: Option<usize>,
}

/// Runs the example against `target`.
pub async fn run(target: &Target) -> anyhow::Result<AxumService> {
    let steps = Steps::new("Passage: an axum service protecting a route with the token verifier");
    let client = target.client()?;
    let app_id = target.app_id();

    steps.step("Start the service on 127.0.0.1 (GET /health public, GET /api/me protected)");
    let verifier = TokenVerifier::new(client.clone(), app_id, VerifierConfig::default());
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
    let without_token = call(&http, &url, None).await?;
    steps.detail(format!("{} {}", without_token.status, without_token.body));

    steps.step("GET /api/me with a token whose signature was altered");
    let tampered_token = call(&http, &url, Some(&tamper(&token))).await?;
    steps.detail(format!("{} {}", tampered_token.status, tampered_token.body));

    steps.step("GET /api/me with the real token, twice");
    let mut with_token = Vec::new();
    for _ in 0..2 {
        let answer = call(&http, &url, Some(&token)).await?;
        steps.detail(format!("{} {}", answer.status, answer.body));
        with_token.push(answer);
    }
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
        user_id,
        jwks_fetches,
    })
}

async fn call(http: &reqwest::Client, url: &str, token: Option<&str>) -> anyhow::Result<Answer> {
    let mut request = http.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    Ok(Answer { status, body })
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
