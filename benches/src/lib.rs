//! Shared fixtures of the benchmarks: a minimal in-process server that answers
//! every request with one fixed body, a JWKS server that counts its requests,
//! an RSA test key that mints Passage-shaped tokens, a [`Clock`] that follows
//! the emulator, and a passcode sign-in against the emulator.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::http::header::CONTENT_TYPE;
use axum::Router;
use bytes::Bytes;
use passage_auth_client::{types, Client, Clock, SecretValue};
use passage_emulator::EmulatorHandle;

pub mod client_calls;
pub mod load;
pub mod thread_cpu;

/// A server on 127.0.0.1 that answers every request with `body` as JSON.
/// Returns its origin (`http://127.0.0.1:PORT`); it runs until the runtime stops.
pub async fn fixed_json_server(body: Bytes) -> String {
    let app = Router::new().fallback(move || {
        let body = body.clone();
        async move { ([(CONTENT_TYPE, "application/json")], body) }
    });
    serve(app).await
}

/// A server on 127.0.0.1 that answers every request with `jwks` and counts the requests.
/// Returns its origin and the counter.
pub async fn counting_jwks_server(jwks: serde_json::Value) -> (String, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let body = Bytes::from(serde_json::to_vec(&jwks).expect("jwks serializes"));
    let counter = Arc::clone(&count);
    let app = Router::new().fallback(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        let body = body.clone();
        async move { ([(CONTENT_TYPE, "application/json")], body) }
    });
    (serve(app).await, count)
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// A 2048-bit RSA key that signs RS256 tokens shaped like Passage's (the emulator's aws-lc-rs key).
pub struct TestKey {
    /// The key id (`kid`).
    pub kid: String,
    signer: passage_emulator::jwt::Signer,
    n: String,
    e: String,
}

impl TestKey {
    /// Generates a key. Its `kid` is derived from the modulus, as the emulator does.
    pub fn generate() -> Self {
        let key = passage_emulator::jwt::SigningKey::generate().expect("rsa key");
        Self {
            kid: key.kid.clone(),
            signer: key.signer().expect("signer"),
            n: key.n.clone(),
            e: key.e.clone(),
        }
    }

    /// The public key as PKCS#1 `RSAPublicKey` DER, for a bare verifier.
    pub fn public_key_der(&self) -> Vec<u8> {
        self.signer.public_key_der()
    }

    /// The signer, for benches that measure signing itself.
    pub fn signer(&self) -> &passage_emulator::jwt::Signer {
        &self.signer
    }

    /// The JWKS publishing the public key.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({"keys": [{
            "kty": "RSA", "use": "sig", "alg": "RS256",
            "kid": self.kid, "n": self.n, "e": self.e,
        }]})
    }

    /// The public key as a `jsonwebtoken` decoding key.
    pub fn decoding_key(&self) -> jsonwebtoken::DecodingKey {
        jsonwebtoken::DecodingKey::from_rsa_components(&self.n, &self.e).expect("decoding key")
    }

    /// A token for `sub` with `iss`, `aud = [auth_origin, app_id]`, valid for `ttl` from now.
    pub fn mint(&self, iss: &str, app_id: &str, sub: &str, ttl: Duration) -> String {
        let now = i64::try_from(
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .expect("after 1970")
                .as_secs(),
        )
        .expect("fits");
        let claims = serde_json::json!({
            "iss": iss,
            "aud": ["https://app.passage.test", app_id],
            "sub": sub,
            "iat": now,
            "nbf": now - 5,
            "exp": now + i64::try_from(ttl.as_secs()).expect("fits"),
        });
        self.signer.sign(&claims).expect("signs")
    }
}

/// A [`Clock`] that reads the emulator's injectable clock, so a session and the
/// emulator agree on when a token has expired.
#[derive(Clone)]
pub struct EmulatorClock(pub Arc<EmulatorHandle>);

impl Clock for EmulatorClock {
    fn now(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(self.0.now()).unwrap_or(0))
    }
}

/// Registers (or logs in) `identifier` by passcode on the emulator and returns its tokens.
/// `register` chooses `POST /register/otp` (new identifier) or `POST /login/otp`.
pub async fn otp_sign_in(
    client: &Client,
    emulator: &EmulatorHandle,
    app_id: &str,
    identifier: &str,
    register: bool,
) -> types::AuthResult {
    let otp_id = if register {
        client
            .register_one_time_passcode()
            .app_id(app_id)
            .body(types::RegisterOneTimePasscodeRequest::builder().identifier(identifier))
            .send()
            .await
            .expect("register/otp")
            .into_inner()
            .otp_id
    } else {
        client
            .login_one_time_passcode()
            .app_id(app_id)
            .body(types::LoginOneTimePasscodeRequest::builder().identifier(identifier))
            .send()
            .await
            .expect("login/otp")
            .into_inner()
            .otp_id
    };
    let otp = emulator
        .outbox(identifier)
        .into_iter()
        .rev()
        .find(|m| m.otp_id.as_deref() == Some(otp_id.as_str()))
        .and_then(|m| m.otp)
        .expect("passcode in the outbox");
    client
        .activate_one_time_passcode()
        .app_id(app_id)
        .body(
            types::ActivateOneTimePasscodeRequest::builder()
                .otp_id(otp_id)
                .otp(SecretValue::new(otp)),
        )
        .send()
        .await
        .expect("otp/activate")
        .into_inner()
        .auth_result
}

/// Registers `identifier` with a passkey held by `authenticator` (an in-process soft authenticator);
/// returns the user id.
pub async fn passkey_register(
    client: &Client,
    app_id: &str,
    identifier: &str,
    authenticator: &mut passage_e2e::authenticator::SoftAuthenticator,
) -> String {
    let start = client
        .register_webauthn_start()
        .app_id(app_id)
        .body(types::RegisterWebAuthnStartRequest::builder().identifier(identifier))
        .send()
        .await
        .expect("register/webauthn/start")
        .into_inner();
    let user_id = start.user.expect("a pending user").id;
    let credential = authenticator
        .register(&serde_json::to_value(&start.handshake.challenge).expect("options"))
        .await
        .expect("the authenticator registers");
    client
        .register_webauthn_finish()
        .app_id(app_id)
        .body(
            types::RegisterWebAuthnFinishRequest::builder()
                .handshake_id(start.handshake.id)
                .handshake_response(
                    serde_json::from_value::<types::CredentialCreationResponse>(credential)
                        .expect("credential"),
                )
                .user_id(user_id.clone()),
        )
        .send()
        .await
        .expect("register/webauthn/finish");
    user_id
}

/// One passkey login of `identifier` (`login/webauthn/start`, the authenticator's assertion,
/// `login/webauthn/finish`); returns its tokens.
pub async fn passkey_login(
    client: &Client,
    app_id: &str,
    identifier: &str,
    user_id: &str,
    authenticator: &mut passage_e2e::authenticator::SoftAuthenticator,
) -> types::AuthResult {
    let start = client
        .login_webauthn_start()
        .app_id(app_id)
        .body(types::LoginWebAuthnStartRequest::builder().identifier(identifier.to_owned()))
        .send()
        .await
        .expect("login/webauthn/start")
        .into_inner();
    let assertion = authenticator
        .login(&serde_json::to_value(&start.handshake.challenge).expect("options"))
        .await
        .expect("the authenticator signs");
    client
        .login_webauthn_finish()
        .app_id(app_id)
        .body(
            types::LoginWebAuthnFinishRequest::builder()
                .handshake_id(start.handshake.id)
                .handshake_response(
                    serde_json::from_value::<types::CredentialAssertionResponse>(assertion)
                        .expect("assertion"),
                )
                .user_id(user_id.to_owned()),
        )
        .send()
        .await
        .expect("login/webauthn/finish")
        .into_inner()
        .auth_result
}

/// Runs `flow` in `clients` concurrent tasks (task `k` gets `k`) for `window`; returns flows per
/// second.
pub async fn flows_per_second<F, Fut>(clients: usize, window: Duration, flow: F) -> f64
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let flow = Arc::new(flow);
    let done = Arc::new(AtomicUsize::new(0));
    let start = std::time::Instant::now();
    let deadline = start + window;
    let tasks: Vec<_> = (0..clients)
        .map(|k| {
            let (flow, done) = (Arc::clone(&flow), Arc::clone(&done));
            tokio::spawn(async move {
                while std::time::Instant::now() < deadline {
                    flow(k).await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("flow task");
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

/// RS256 signatures per second of `signer` on `threads` OS threads for `window` (the emulator's
/// own aws-lc-rs signer, with claims shaped like its tokens).
pub fn sign_rate(signer: &passage_emulator::jwt::Signer, threads: usize, window: Duration) -> f64 {
    let claims = passage_emulator::jwt::Claims {
        iss: "http://127.0.0.1:1/v1/apps/bench-app".into(),
        sub: "usr_bench".into(),
        aud: vec!["https://app.passage.test".into(), "bench-app".into()],
        iat: 1_700_000_000,
        nbf: 1_699_999_995,
        exp: 1_700_000_300,
        jti: "0123456789abcdef0123456789abcdef".into(),
    };
    let start = std::time::Instant::now();
    let total: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut n = 0;
                    while start.elapsed() < window {
                        std::hint::black_box(signer.sign(&claims).expect("signs"));
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("signer thread"))
            .sum()
    });
    total as f64 / start.elapsed().as_secs_f64()
}

/// CPU µs of one RS256 signature by `signer` on this thread (its CPU time over `n` signatures):
/// the per-flow crypto cost the emulator's CPU per flow is compared with.
pub fn sign_cpu_us(signer: &passage_emulator::jwt::Signer, n: usize) -> f64 {
    let claims = passage_emulator::jwt::Claims {
        iss: "http://127.0.0.1:1/v1/apps/bench-app".into(),
        sub: "usr_bench".into(),
        aud: vec!["https://app.passage.test".into(), "bench-app".into()],
        iat: 1_700_000_000,
        nbf: 1_699_999_995,
        exp: 1_700_000_300,
        jti: "0123456789abcdef0123456789abcdef".into(),
    };
    let start = thread_cpu::now();
    for _ in 0..n {
        std::hint::black_box(signer.sign(&claims).expect("signs"));
    }
    (thread_cpu::now() - start).as_secs_f64() * 1e6 / n as f64
}

/// The median of `values`.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// A `--name value` argument of a bench binary.
pub fn arg<T: std::str::FromStr>(name: &str) -> Option<T> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

/// Per-call times of two closures measured in interleaved rounds, and their ratio.
#[derive(Debug, Clone, Copy)]
pub struct Interleaved {
    /// Median per-call time of the baseline, in microseconds.
    pub baseline_us: f64,
    /// Median per-call time of the candidate, in microseconds.
    pub candidate_us: f64,
    /// Median over rounds of candidate time / baseline time.
    pub ratio: f64,
}

impl std::fmt::Display for Interleaved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "interleaved: baseline {:.2} µs/call, candidate {:.2} µs/call, \
             time ratio candidate/baseline {:.3} (throughput ratio {:.3})",
            self.baseline_us,
            self.candidate_us,
            self.ratio,
            1.0 / self.ratio
        )
    }
}

/// Runs `rounds` rounds of `calls` calls of `baseline` then `calls` calls of
/// `candidate` (alternating which goes first) and returns the medians.
pub fn interleaved_ratio(
    rounds: usize,
    calls: usize,
    mut baseline: impl FnMut(),
    mut candidate: impl FnMut(),
) -> Interleaved {
    let time = |f: &mut dyn FnMut()| {
        let start = std::time::Instant::now();
        for _ in 0..calls {
            f();
        }
        start.elapsed().as_secs_f64() * 1e6 / calls as f64
    };
    let (mut base, mut cand, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (b, c) = if round % 2 == 0 {
            let b = time(&mut baseline);
            (b, time(&mut candidate))
        } else {
            let c = time(&mut candidate);
            (time(&mut baseline), c)
        };
        base.push(b);
        cand.push(c);
        ratios.push(c / b);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    Interleaved {
        baseline_us: median(&mut base),
        candidate_us: median(&mut cand),
        ratio: median(&mut ratios),
    }
}

/// How a figure's value is compared with its goal's limit.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub enum Cmp {
    /// The value must be at most the limit.
    #[serde(rename = "<=")]
    AtMost,
    /// The value must be at least the limit.
    #[serde(rename = ">=")]
    AtLeast,
}

/// The goal of a figure: `cargo xtask bench` checks the figure's value against it and fails when
/// it does not hold.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Goal {
    /// How the value is compared.
    pub op: Cmp,
    /// The limit.
    pub limit: f64,
    /// The unit shown after the limit (`x` for a ratio).
    pub unit: &'static str,
}

impl Goal {
    /// The value must be at most `limit` times its bound.
    pub fn at_most(limit: f64) -> Option<Self> {
        Some(Goal {
            op: Cmp::AtMost,
            limit,
            unit: "x",
        })
    }

    /// The value must be at least `limit` times its bound.
    pub fn at_least(limit: f64) -> Option<Self> {
        Some(Goal {
            op: Cmp::AtLeast,
            limit,
            unit: "x",
        })
    }

    /// A limit with another unit.
    pub fn unit(mut self, unit: &'static str) -> Self {
        self.unit = unit;
        self
    }
}

/// One figure of a bench run, printed as a `BENCH-RESULT {json}` line that `cargo xtask bench`
/// collects into BENCHMARKS.md and checks against its goal.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Figure<'a> {
    /// Stable key of the figure (e.g. `jwt_verify.ratio`).
    pub key: &'a str,
    /// What was measured, in words.
    pub what: &'a str,
    /// The measured value, formatted with its unit and whatever explains it.
    pub measured: String,
    /// The number the goal is checked on (a ratio, a count).
    pub value: Option<f64>,
    /// What the value is measured against (its bound or peer), in words.
    pub bound: String,
    /// The goal (`None` for a figure reported beside the others without one).
    pub goal: Option<Goal>,
}

/// Prints `figure` as a `BENCH-RESULT` line.
pub fn report(figure: &Figure<'_>) {
    println!(
        "BENCH-RESULT {}",
        serde_json::to_string(figure).expect("figure serializes")
    );
}
