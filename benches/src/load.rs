//! A load generator for an emulator running as its own process: lean HTTP/1.1 connections
//! (hyper's client connection over one TCP stream per virtual user, keep-alive, no pool), the
//! flows the throughput bench repeats, and what the emulator process spends (its CPU time, read
//! from `/proc`).

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::Value;

/// One keep-alive HTTP/1.1 connection to the emulator.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
    host: HeaderValue,
}

impl Conn {
    /// Connects to `addr` (the connection is driven by a task of the current runtime).
    pub async fn connect(addr: SocketAddr) -> Conn {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("handshake");
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Conn {
            sender,
            host: HeaderValue::from_str(&addr.to_string()).expect("host"),
        }
    }

    /// Sends one request (a JSON body when `body` is given) and reads the whole answer.
    pub async fn call(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> (StatusCode, Bytes) {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.host.clone());
        if body.is_some() {
            request = request.header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        let request = request
            .body(Full::new(body.map(Bytes::from).unwrap_or_default()))
            .expect("request");
        self.sender.ready().await.expect("connection ready");
        let response = self.sender.send_request(request).await.expect("answer");
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, body)
    }

    /// A call that must answer 2xx with a JSON body, decoded as `T`.
    pub async fn json<T: for<'de> Deserialize<'de>>(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> T {
        let (status, bytes) = self.call(method, path, body).await;
        assert!(
            status.is_success(),
            "{path}: HTTP {status}: {}",
            String::from_utf8_lossy(&bytes)
        );
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"))
    }
}

/// Where the emulator serves, as the load generator addresses it.
#[derive(Clone, Debug)]
pub struct Target {
    /// The socket address.
    pub addr: SocketAddr,
    /// The app the flows use.
    pub app_id: String,
}

impl Target {
    fn api(&self, tail: &str) -> String {
        format!("/v1/apps/{}/{tail}", self.app_id)
    }
}

#[derive(Deserialize)]
struct OtpStarted {
    otp_id: String,
}

#[derive(Deserialize)]
struct OutboxEntry {
    #[serde(default)]
    otp_id: Option<String>,
    #[serde(default)]
    otp: Option<String>,
}

#[derive(Deserialize)]
struct Authenticated {
    auth_result: AuthResult,
}

/// The tokens of a login or a refresh.
#[derive(Deserialize)]
pub struct AuthResult {
    /// The RS256 auth token.
    pub auth_token: String,
    /// The refresh token (rotated by a refresh).
    #[serde(default)]
    pub refresh_token: Option<String>,
}

/// One OTP login (`register/otp` when `register`, else `login/otp`; the passcode read from the
/// admin API's outbox; `otp/activate`): its tokens.
pub async fn otp_login(
    conn: &mut Conn,
    target: &Target,
    identifier: &str,
    register: bool,
) -> AuthResult {
    let start = if register {
        "register/otp"
    } else {
        "login/otp"
    };
    let body = serde_json::to_vec(&serde_json::json!({ "identifier": identifier })).expect("json");
    let started: OtpStarted = conn
        .json(Method::POST, &target.api(start), Some(body))
        .await;
    let outbox: Vec<OutboxEntry> = conn
        .json(
            Method::GET,
            &format!(
                "/_emulator/outbox?identifier={}&otp_id={}",
                encode(identifier),
                encode(&started.otp_id)
            ),
            None,
        )
        .await;
    let otp = outbox
        .into_iter()
        .find(|m| m.otp_id.as_deref() == Some(started.otp_id.as_str()))
        .and_then(|m| m.otp)
        .expect("the passcode is in the outbox");
    let body = serde_json::to_vec(&serde_json::json!({ "otp_id": started.otp_id, "otp": otp }))
        .expect("json");
    conn.json::<Authenticated>(Method::POST, &target.api("otp/activate"), Some(body))
        .await
        .auth_result
}

/// One refresh (`POST /tokens`): the rotated refresh token.
pub async fn refresh(conn: &mut Conn, target: &Target, refresh_token: &str) -> String {
    let body =
        serde_json::to_vec(&serde_json::json!({ "refresh_token": refresh_token })).expect("json");
    conn.json::<Authenticated>(Method::POST, &target.api("tokens"), Some(body))
        .await
        .auth_result
        .refresh_token
        .expect("a rotated refresh token")
}

#[derive(Deserialize)]
struct Handshake {
    id: String,
    challenge: Value,
}

#[derive(Deserialize)]
struct WebAuthnStarted {
    handshake: Handshake,
}

/// One passkey login (`login/webauthn/start`, the authenticator's assertion,
/// `login/webauthn/finish`); returns the CPU time the authenticator took (this thread's).
pub async fn passkey_login(
    conn: &mut Conn,
    target: &Target,
    identifier: &str,
    user_id: &str,
    authenticator: &mut passage_e2e::authenticator::SoftAuthenticator,
) -> Duration {
    let body = serde_json::to_vec(&serde_json::json!({ "identifier": identifier })).expect("json");
    let started: WebAuthnStarted = conn
        .json(
            Method::POST,
            &target.api("login/webauthn/start"),
            Some(body),
        )
        .await;
    let cpu = crate::thread_cpu::now();
    let assertion = authenticator
        .login(&started.handshake.challenge)
        .await
        .expect("the authenticator signs");
    let signing = crate::thread_cpu::now() - cpu;
    let body = serde_json::to_vec(&serde_json::json!({
        "handshake_id": started.handshake.id,
        "handshake_response": assertion,
        "user_id": user_id,
    }))
    .expect("json");
    conn.json::<Authenticated>(
        Method::POST,
        &target.api("login/webauthn/finish"),
        Some(body),
    )
    .await;
    signing
}

/// Percent-encodes a query value (identifiers here are `name@host` shaped).
fn encode(value: &str) -> String {
    value
        .replace('%', "%25")
        .replace('@', "%40")
        .replace('+', "%2B")
}

/// CPU time (user + system) the process `pid` has used so far, from `/proc/PID/stat`.
pub fn process_cpu(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    // The command name may hold spaces: the fields start after its closing parenthesis.
    let fields: Vec<&str> = stat[stat.rfind(')').expect("stat") + 2..]
        .split_whitespace()
        .collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    // SAFETY: sysconf with a constant name has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_nanos(ticks * 1_000_000_000 / hz)
}
