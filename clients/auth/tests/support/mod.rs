//! A small Passage-like server for the handwritten extensions' tests: tokens
//! (rotating refresh tokens), magic-link status, JWKS and currentuser, with
//! request counters and injectable faults.
#![allow(dead_code)]

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use axum::extract::{Path, Query, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use passage_auth_client::{Client, ClientBuilder, Clock, ManualClock};
use serde_json::{json, Value};

pub const APP_ID: &str = "app_test_123";

/// A canned failure for the next request to an endpoint.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status and an API error body with this code.
    Api(u16, &'static str),
    /// Answer with this status, a text body and optionally `Retry-After` seconds.
    Status(u16, Option<u64>),
    /// Answer normally only once this is notified (never, if it is not).
    Hold(Arc<tokio::sync::Notify>),
}

/// The server's shared state.
pub struct State {
    pub clock: Arc<ManualClock>,
    pub token_posts: AtomicUsize,
    pub token_deletes: AtomicUsize,
    pub status_polls: AtomicUsize,
    pub jwks_gets: AtomicUsize,
    pub currentuser_calls: AtomicUsize,
    pub magic_link_ready: AtomicBool,
    /// Lifetime of minted auth tokens, in seconds.
    pub auth_token_lifetime: AtomicI64,
    /// Refuse this many otherwise valid bearer tokens with 401 `invalid_access_token`.
    pub reject_access: AtomicUsize,
    pub token_faults: Mutex<VecDeque<Fault>>,
    pub status_faults: Mutex<VecDeque<Fault>>,
    pub jwks_faults: Mutex<VecDeque<Fault>>,
    /// Delay of every `POST /tokens`.
    pub refresh_delay: Mutex<Duration>,
    /// Kids of the keys the JWKS publishes.
    pub published: Mutex<Vec<&'static TestKey>>,
    /// Further raw JWKS entries.
    pub extra_jwks: Mutex<Vec<Value>>,
    pub valid_refresh: Mutex<HashSet<String>>,
    pub valid_access: Mutex<HashSet<String>>,
    pub revoked: Mutex<Vec<String>>,
    /// Every token this server minted (for leak checks).
    pub minted: Mutex<Vec<String>>,
    counter: AtomicU64,
}

impl State {
    fn pop(queue: &Mutex<VecDeque<Fault>>) -> Option<Fault> {
        queue.lock().unwrap().pop_front()
    }

    pub fn push_token_fault(&self, fault: Fault) {
        self.token_faults.lock().unwrap().push_back(fault);
    }

    pub fn push_status_fault(&self, fault: Fault) {
        self.status_faults.lock().unwrap().push_back(fault);
    }

    pub fn push_jwks_fault(&self, fault: Fault) {
        self.jwks_faults.lock().unwrap().push_back(fault);
    }

    /// A new auth + refresh token pair, registered as valid.
    pub fn mint_pair(&self) -> (String, String) {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let exp = unix(self.clock.now()) + self.auth_token_lifetime.load(Ordering::SeqCst);
        let auth = unsigned_jwt(&json!({"sub": "user_1", "exp": exp, "jti": format!("at{n}")}));
        let refresh = format!("rt_{n}_{:016x}", rand::random::<u64>());
        self.valid_access.lock().unwrap().insert(auth.clone());
        self.valid_refresh.lock().unwrap().insert(refresh.clone());
        self.minted.lock().unwrap().push(auth.clone());
        self.minted.lock().unwrap().push(refresh.clone());
        (auth, refresh)
    }

    /// An [`AuthResult`] with a new pair.
    pub fn auth_result(&self) -> passage_auth_client::types::AuthResult {
        let (auth, refresh) = self.mint_pair();
        serde_json::from_value(auth_result_json(&auth, &refresh)).unwrap()
    }

    pub fn is_valid_refresh(&self, token: &str) -> bool {
        self.valid_refresh.lock().unwrap().contains(token)
    }
}

fn auth_result_json(auth: &str, refresh: &str) -> Value {
    json!({"auth_token": auth, "refresh_token": refresh, "redirect_url": "/", "refresh_token_expiration": 86400})
}

pub fn unix(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A JWT-shaped token whose signature is not real (sessions do not verify).
pub fn unsigned_jwt(claims: &Value) -> String {
    let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.{}",
        e.encode(r#"{"alg":"RS256","typ":"JWT","kid":"k"}"#),
        e.encode(claims.to_string()),
        e.encode(rand::random::<[u8; 16]>())
    )
}

/// A running server.
pub struct Server {
    pub base_url: String,
    pub state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// Starts a server on 127.0.0.1:0 whose clock starts at a fixed time.
    pub async fn start() -> Server {
        let clock = Arc::new(ManualClock::new(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        ));
        let state = Arc::new(State {
            clock,
            token_posts: AtomicUsize::new(0),
            token_deletes: AtomicUsize::new(0),
            status_polls: AtomicUsize::new(0),
            jwks_gets: AtomicUsize::new(0),
            currentuser_calls: AtomicUsize::new(0),
            magic_link_ready: AtomicBool::new(false),
            auth_token_lifetime: AtomicI64::new(300),
            reject_access: AtomicUsize::new(0),
            token_faults: Mutex::default(),
            status_faults: Mutex::default(),
            jwks_faults: Mutex::default(),
            refresh_delay: Mutex::new(Duration::ZERO),
            published: Mutex::new(vec![key_a()]),
            extra_jwks: Mutex::default(),
            valid_refresh: Mutex::default(),
            valid_access: Mutex::default(),
            revoked: Mutex::default(),
            minted: Mutex::default(),
            counter: AtomicU64::new(1),
        });
        let app = Router::new()
            .route(
                "/v1/apps/{app}/tokens",
                post(refresh_tokens).delete(revoke_tokens),
            )
            .route("/v1/apps/{app}/magic-link/status", post(magic_link_status))
            .route("/v1/apps/{app}/.well-known/jwks.json", get(jwks))
            .route("/v1/apps/{app}/currentuser", get(currentuser))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Server {
            base_url: format!("http://{addr}/v1"),
            state,
            task,
        }
    }

    pub fn client(&self) -> Client {
        ClientBuilder::new()
            .base_url(&self.base_url)
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap()
    }

    pub fn clock(&self) -> Arc<ManualClock> {
        self.state.clock.clone()
    }
}

fn api_error(status: u16, code: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        Json(json!({"code": code, "error": format!("test error {code}")})),
    )
        .into_response()
}

/// Applies the next fault, if any: `Some(response)` answers instead.
async fn fault(queue: &Mutex<VecDeque<Fault>>) -> Option<Response> {
    match State::pop(queue)? {
        Fault::Api(status, code) => Some(api_error(status, code)),
        Fault::Status(status, retry_after) => {
            let mut headers = HeaderMap::new();
            if let Some(s) = retry_after {
                headers.insert("retry-after", s.to_string().parse().unwrap());
            }
            Some(
                (
                    StatusCode::from_u16(status).unwrap(),
                    headers,
                    "unavailable",
                )
                    .into_response(),
            )
        }
        Fault::Hold(release) => {
            release.notified().await;
            None
        }
    }
}

async fn refresh_tokens(
    AxState(state): AxState<Arc<State>>,
    Path(app): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    state.token_posts.fetch_add(1, Ordering::SeqCst);
    let delay = *state.refresh_delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some(r) = fault(&state.token_faults).await {
        return r;
    }
    if app != APP_ID {
        return api_error(404, "app_not_found");
    }
    let presented = body["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if !state.valid_refresh.lock().unwrap().remove(&presented) {
        return api_error(401, "invalid_refresh_token");
    }
    let (auth, refresh) = state.mint_pair();
    (
        StatusCode::CREATED,
        Json(json!({"auth_result": auth_result_json(&auth, &refresh)})),
    )
        .into_response()
}

async fn revoke_tokens(
    AxState(state): AxState<Arc<State>>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Response {
    state.token_deletes.fetch_add(1, Ordering::SeqCst);
    let token = query.get("refresh_token").cloned().unwrap_or_default();
    state.valid_refresh.lock().unwrap().remove(&token);
    state.revoked.lock().unwrap().push(token);
    StatusCode::OK.into_response()
}

async fn magic_link_status(
    AxState(state): AxState<Arc<State>>,
    Json(body): Json<Value>,
) -> Response {
    state.status_polls.fetch_add(1, Ordering::SeqCst);
    if let Some(r) = fault(&state.status_faults).await {
        return r;
    }
    if body["id"] != "ml_1" || !state.magic_link_ready.load(Ordering::SeqCst) {
        return api_error(404, "magic_link_not_found");
    }
    let (auth, refresh) = state.mint_pair();
    Json(json!({"auth_result": auth_result_json(&auth, &refresh)})).into_response()
}

async fn jwks(AxState(state): AxState<Arc<State>>) -> Response {
    state.jwks_gets.fetch_add(1, Ordering::SeqCst);
    if let Some(r) = fault(&state.jwks_faults).await {
        return r;
    }
    let mut keys: Vec<Value> = state
        .published
        .lock()
        .unwrap()
        .iter()
        .map(|k| json!({"alg": "RS256", "kty": "RSA", "use": "sig", "kid": k.kid, "n": k.n, "e": "AQAB"}))
        .collect();
    keys.extend(state.extra_jwks.lock().unwrap().iter().cloned());
    Json(json!({"keys": keys})).into_response()
}

async fn currentuser(AxState(state): AxState<Arc<State>>, headers: HeaderMap) -> Response {
    state.currentuser_calls.fetch_add(1, Ordering::SeqCst);
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string();
    let valid = state.valid_access.lock().unwrap().contains(&bearer);
    let forced = state
        .reject_access
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if !valid || forced {
        return api_error(401, "invalid_access_token");
    }
    Json(json!({"user": {
        "id": "user_1", "email": "ada@example.com", "phone": "", "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z", "last_login_at": "2026-01-01T00:00:00Z",
        "email_verified": true, "phone_verified": false, "webauthn": false, "login_count": 1,
        "status": "active", "social_connections": {}, "user_metadata": null, "webauthn_devices": [],
        "webauthn_types": []
    }}))
    .into_response()
}

/// A fixed RSA test key (generated with `openssl genpkey`; used only by these tests).
pub struct TestKey {
    pub kid: &'static str,
    pub private_pem: &'static str,
    pub public_pem: &'static str,
    /// The modulus, base64url.
    pub n: &'static str,
}

impl TestKey {
    pub fn encoding_key(&self) -> &'static jsonwebtoken::EncodingKey {
        static A: OnceLock<jsonwebtoken::EncodingKey> = OnceLock::new();
        static B: OnceLock<jsonwebtoken::EncodingKey> = OnceLock::new();
        let cell = if self.kid == KEY_A.kid { &A } else { &B };
        cell.get_or_init(|| {
            jsonwebtoken::EncodingKey::from_rsa_pem(self.private_pem.as_bytes()).unwrap()
        })
    }

    /// An RS256 token signed with this key, with `kid` in its header (if any).
    pub fn sign(&self, kid: Option<&str>, claims: &Value) -> String {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = kid.map(str::to_string);
        jsonwebtoken::encode(&header, claims, self.encoding_key()).unwrap()
    }
}

pub fn key_a() -> &'static TestKey {
    &KEY_A
}

pub fn key_b() -> &'static TestKey {
    &KEY_B
}

static KEY_A: TestKey = TestKey {
    kid: "test-key-a",
    private_pem: "-----BEGIN PRIVATE KEY-----\nMIIEugIBADANBgkqhkiG9w0BAQEFAASCBKQwggSgAgEAAoIBAQCU0v4/VNpwDBnc\nsgs2rjxT/t6vWDBaMcLogDLyhovse+xYCNKDzBS+LmpGLjWNYGlZBf0lD22RqAzv\ne2hNBKD2XJZn62wzOg/8aBGPD7FfOwYsNxMntjBTeQcKY5qSaLFarbUkOFZkeDZP\n/M+lVknypJrMkIv1iLOok9lOztPwZWygMvq3RXhKp7zBxr+fNk0xJE5+M1NWQxR0\nJ+XL09r+HRX1//grEALRP46Q/KK5RegtXrfapLrE1wHEilQ0Mn3To4KlTDS+psKN\naVj+P3MEGbNL1ZC4lBPs0ICRdPX5zaoxWMf+Pk5tkSkmMqD9S+tKoOco1UPAYFy5\n6BJ460Y7AgMBAAECgf9YEoVj9VNP+9lSQgtg0Lvi+XHPUuFKfyhZb4S3AejMionT\nj2UFmkCsS8uYvL/0apntlR26UOcGy+zbzKxs59BZ+3EHDst5hWLwfKXng+Hz+Xot\nsGolliwDOhxwiYFwI4TRpPsN9EksK/f4XiSENAyPC9qQNPqe08d+fACeIshJ+tSx\nLr0h3EV3UO+DGAUVycUXLU37r26rqwMwHfwGOudvBTzpNc5PkG0WmRieqkmRs3kb\nXXJyvBPgTOw1p6nXyJwGJJ3NV5jIDerhBF0tL2dCmO5TQ0UVb/laC50vHRkSFInV\nOxanmFdnBkKgLZuKdoe1iBEunT47zG3xsZ3iDQECgYEAyKC/PQGfTvcse00xCdiT\njnQDF0s+SKR9BbGe0leEDQna8JZP3mlJD7HeLvovG4S24DlYc6FGZ9HWl/+SwsrL\n1UMpfUiDtdd2JnwpTHeDfAVX33611BmjkqJwpg9wR5pvYSPjkta4JO5eRr8qWEg+\nXzKO0CH4k8VTPrPFRAzmoTsCgYEAveYVOxC6mf0nxzzF0IKGQ5czIqa5MqXGl9/j\nL/D9+MQ6QIaj59+RUlZBzQ5Vth90xK/cxqbldj8/RkRp14pw4KbcopqHnEPfKh7h\nAufQG2rmremFzp9vI91Z/0uPnFGMkdv/5sYNWajTIzRxgBl5ko/wrDXegOyeKXE6\nXDuTnwECgYBKjTkjEVRCgqTb2K5NS1ZhjAiOAl7NnZn7oKo03WJreesKlcBuFE+a\n7mxypnMU1bcjEQwmQ5qm/5mvd7/wdG1T/RYQwP54du0nleG+0XZhgpbJrQsiGrjm\nx0f23SvK379dqHlrWjCpQI512ZmBnq7WrzHUc5ssRhoN5b168RROewKBgBuhnvU5\nOe2uKFuVPDNayq6LEaW5HLmB5aOzsBsJteq8or1A2hijL0ILywdLTq1xZkw4Sqed\nIUZTbaGL0trKCiKmJPSEB7d1KMO4OoVxtZZHt8kWcaHfEQzm6HF9TSgxtYKDwHiT\n2N1y80XsG5fIHSh2SU7Fh9q6k0j0cMl64cABAoGAJQ4YpZfpZgKKdsdZTkJrJMhs\nmWXZ7m4/a8UNMskt64hGIYatVsrtEI+7DNr3vhtk+AlaPk5zG4V7BTcGTy07csWr\n2kYjitF14tEgelF0egYBVKtKH464yoAr+I3ZLO1KG6rCd/PAlEOtY8pcrvTX5qWR\nuSf6Rq3UaFNMGHFKYEE=\n-----END PRIVATE KEY-----",
    public_pem: "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAlNL+P1TacAwZ3LILNq48\nU/7er1gwWjHC6IAy8oaL7HvsWAjSg8wUvi5qRi41jWBpWQX9JQ9tkagM73toTQSg\n9lyWZ+tsMzoP/GgRjw+xXzsGLDcTJ7YwU3kHCmOakmixWq21JDhWZHg2T/zPpVZJ\n8qSazJCL9YizqJPZTs7T8GVsoDL6t0V4Sqe8wca/nzZNMSROfjNTVkMUdCfly9Pa\n/h0V9f/4KxAC0T+OkPyiuUXoLV632qS6xNcBxIpUNDJ906OCpUw0vqbCjWlY/j9z\nBBmzS9WQuJQT7NCAkXT1+c2qMVjH/j5ObZEpJjKg/UvrSqDnKNVDwGBcuegSeOtG\nOwIDAQAB\n-----END PUBLIC KEY-----",
    n: "lNL-P1TacAwZ3LILNq48U_7er1gwWjHC6IAy8oaL7HvsWAjSg8wUvi5qRi41jWBpWQX9JQ9tkagM73toTQSg9lyWZ-tsMzoP_GgRjw-xXzsGLDcTJ7YwU3kHCmOakmixWq21JDhWZHg2T_zPpVZJ8qSazJCL9YizqJPZTs7T8GVsoDL6t0V4Sqe8wca_nzZNMSROfjNTVkMUdCfly9Pa_h0V9f_4KxAC0T-OkPyiuUXoLV632qS6xNcBxIpUNDJ906OCpUw0vqbCjWlY_j9zBBmzS9WQuJQT7NCAkXT1-c2qMVjH_j5ObZEpJjKg_UvrSqDnKNVDwGBcuegSeOtGOw",
};

static KEY_B: TestKey = TestKey {
    kid: "test-key-b",
    private_pem: "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDC0m2ChwMRICFJ\nXihXmHk3OscnR55rkIE+rndMuO1Xdft8GlL7A+tM3Lu1GzfC+EblL1+k9BQmmg29\n8dz7LwmbXN3fr8AkxkbJAerTeHT4/lEvZ0b1UVLFg4xXSHFqR9Fxemzh7qDTazY2\nhvp8zFiIt9/utUVfNN8cvkjWs9zqsQGW+lOFGS+Bj5skPd20G8IHZFbMkILWhh1D\nL10x3J6LPbva5BBXalr52sJNEoZcTsmXwqHaHzfXKOZMgzA2ZsSsaY9aIS/vovk8\nuJnZZe7yUDz9hSMtSw9oEOJwcFl82FaPeZMkLUnNV24jRgUUn8zIDfPyIU1t64L5\nR9tjwZjfAgMBAAECggEARyqfHkM7d5IJFsfybK0h+m7aORsMX7aVv9PzeG9FI+HR\nT/A9x7wSxC0N1IZwxCP1odrAUX1nrwIvaudjFc6E79/onMGSqtxTFzJAGaey8xHT\njkFnxk1CsyvupCOuamh5tb5G7/E/hntvflOoRNZQsQCaKJTHFpQ1vEY2TVe+p2wG\nDLO7jqLuBA0B5ZBndOzuYqQgw56lUiZOVTydcaPdPjmF4o9k/dpCcXQ+bmRuiOi+\nt/bCOrI/q2sG+uqDKF83IPnRgaD+YQv0h4oWhI6siyOVB5/amTdzSp+b8KAZR/CT\noiYoSzuKJY9Cruzd0LEvI3x4y9hIpPjms00PLw3YoQKBgQDrFnj7K9L2iG+W0eia\nEWLvqfbe9wmzdA9fU9y9bOmwS+mmzkbhtLTzV5FUJQQ2jkDP9WK+z9u1lR01qO7D\nriiTfwxoveXgoHkC9w6iFXQeu9tf0FWMvOp1etYwRNyjHtPQ3C7cxKzQtOCdfPIs\nFGVWgl8i0itdMfE8aaM7HsTC4wKBgQDUJwD6kEweSxb4iAg30N7a1rToCC1GX011\n0s3TgFN7jIxJGpZX2yKPVLWmE350RsT27pTRMBz8vmcHXPHRvxiZdQrT71BlqHNC\nVDjEUsC9gFM9+01re5rafh1/OW9rg1bSv84sHSlp/BcVyo/D+32/JrgNj4Cw1JPL\nKDgVNhdm1QKBgC6eMjd8pUUGITrDPWDv+bKU/cORMXdImJPKyYc2xdCT/S160kuH\nzipDPyp0fLVk2C1k98Pm7CbB/xzY9yAOtTUqiIdswN0edWDFJT23C2Pc1M/XPF/A\nRq4tQbQos6gVQOO2BgT5a1unwrL4R/29vaq+B6ecDcVZVgEo4ZmjrFkJAoGAZHy9\nB/HFPCwRC1NToSx8AmfkdGs7FrQZeo+JEn8cC888u3uubprLOdzD1ZAyO10x+kxz\njMofUM/W+TPbDqBXRIidwlj+Wch6H5bI9KTFyny38QnRV/HKHWfTDOnljqU9QMG9\nJEQD08GmJZo2knvSyfHLCBFKwXdPMdExD0r5tqkCgYEAv4dOYEacZfY+hnPYIbRF\nR0KSEipESDJ1Kd6wVnMS4oHUOEzLrGQJabuta2rW874on7dl3D4jrStVxDn+H1HU\ngfHAdlsuS/njnsxqNduUmYSMGhFlA6s1gPt/tqnYQQS2aPFNGLOP4yl6cyLhbQ6x\nAVwC2dcBcCJWRwpbmeQll6s=\n-----END PRIVATE KEY-----",
    public_pem: "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwtJtgocDESAhSV4oV5h5\nNzrHJ0eea5CBPq53TLjtV3X7fBpS+wPrTNy7tRs3wvhG5S9fpPQUJpoNvfHc+y8J\nm1zd36/AJMZGyQHq03h0+P5RL2dG9VFSxYOMV0hxakfRcXps4e6g02s2Nob6fMxY\niLff7rVFXzTfHL5I1rPc6rEBlvpThRkvgY+bJD3dtBvCB2RWzJCC1oYdQy9dMdye\niz272uQQV2pa+drCTRKGXE7Jl8Kh2h831yjmTIMwNmbErGmPWiEv76L5PLiZ2WXu\n8lA8/YUjLUsPaBDicHBZfNhWj3mTJC1JzVduI0YFFJ/MyA3z8iFNbeuC+UfbY8GY\n3wIDAQAB\n-----END PUBLIC KEY-----",
    n: "wtJtgocDESAhSV4oV5h5NzrHJ0eea5CBPq53TLjtV3X7fBpS-wPrTNy7tRs3wvhG5S9fpPQUJpoNvfHc-y8Jm1zd36_AJMZGyQHq03h0-P5RL2dG9VFSxYOMV0hxakfRcXps4e6g02s2Nob6fMxYiLff7rVFXzTfHL5I1rPc6rEBlvpThRkvgY-bJD3dtBvCB2RWzJCC1oYdQy9dMdyeiz272uQQV2pa-drCTRKGXE7Jl8Kh2h831yjmTIMwNmbErGmPWiEv76L5PLiZ2WXu8lA8_YUjLUsPaBDicHBZfNhWj3mTJC1JzVduI0YFFJ_MyA3z8iFNbeuC-UfbY8GY3w",
};
