//! A load generator for an emulator running as its own process: lean HTTP/1.1 connections (one
//! keep-alive TCP stream per virtual user, the request written in one `write`, the answer's head
//! parsed with `httparse` and its body read by its `Content-Length`; no connection task, no pool),
//! the flows the throughput bench repeats, and what the emulator process spends (its CPU time,
//! read from `/proc`).

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One keep-alive HTTP/1.1 connection to the emulator, used by one virtual user at a time.
pub struct Conn {
    stream: TcpStream,
    host: String,
    /// What was read and not consumed yet (the start of the next answer, if any).
    read: BytesMut,
    /// The request being written (kept to reuse its allocation).
    request: Vec<u8>,
}

impl Conn {
    /// Connects to `addr`.
    pub async fn connect(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Conn {
            stream,
            host: addr.to_string(),
            read: BytesMut::with_capacity(8192),
            request: Vec::with_capacity(1024),
        }
    }

    /// Sends one request (a JSON body when `body` is given) and reads the whole answer.
    pub async fn call(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> (StatusCode, Bytes) {
        use std::io::Write as _;
        self.request.clear();
        let body = body.unwrap_or_default();
        write!(
            self.request,
            "{method} {path} HTTP/1.1\r\nhost: {}\r\ncontent-length: {}\r\n",
            self.host,
            body.len()
        )
        .expect("a Vec takes every write");
        if !body.is_empty() {
            self.request
                .extend_from_slice(b"content-type: application/json\r\n");
        }
        self.request.extend_from_slice(b"\r\n");
        self.request.extend_from_slice(&body);
        self.stream
            .write_all(&self.request)
            .await
            .expect("the request is written");
        self.answer(path).await
    }

    /// Reads one answer: its status and its body (by `Content-Length`; none for 204 and 304).
    async fn answer(&mut self, path: &str) -> (StatusCode, Bytes) {
        let head = loop {
            match parse_head(&self.read, path) {
                Some(head) => break head,
                None => self.fill(path).await,
            }
        };
        while self.read.len() < head.len + head.body_len {
            self.fill(path).await;
        }
        self.read.advance(head.len);
        (head.status, self.read.split_to(head.body_len).freeze())
    }

    /// Reads more of the stream into the buffer.
    async fn fill(&mut self, path: &str) {
        self.read.reserve(4096);
        let n = self
            .stream
            .read_buf(&mut self.read)
            .await
            .expect("the answer is read");
        assert!(
            n > 0,
            "{path}: the emulator closed the connection mid-answer"
        );
    }

    /// A call that must answer 2xx with a JSON body, decoded as `T`.
    pub async fn json<T: for<'de> Deserialize<'de>>(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> T {
        let (status, bytes) = self.call(method, path, body).await;
        // Neither message quotes the answer, which may hold tokens or passcodes.
        assert!(
            status.is_success(),
            "{path}: HTTP {status} ({} bytes)",
            bytes.len()
        );
        serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "{path}: undecodable answer ({:?} error at line {}, column {})",
                e.classify(),
                e.line(),
                e.column()
            )
        })
    }
}

/// An answer's head, parsed.
#[derive(Debug, PartialEq, Eq)]
struct Head {
    status: StatusCode,
    /// Bytes of the status line and headers, the blank line included.
    len: usize,
    /// Bytes of the body that follows.
    body_len: usize,
}

/// The head of the answer at the start of `read`, or `None` while it is incomplete; panics on
/// what is not an HTTP/1.1 answer, or on one whose body it cannot delimit (no `Content-Length`
/// besides 204 and 304: the emulator never sends chunked answers).
fn parse_head(read: &[u8], path: &str) -> Option<Head> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(read).expect("an HTTP/1.1 answer") {
        httparse::Status::Complete(len) => len,
        httparse::Status::Partial => return None,
    };
    let status = StatusCode::from_u16(response.code.expect("a status")).expect("a valid status");
    let length = response
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .map(|h| {
            std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .expect("a numeric Content-Length")
        });
    let body_len = match (status.as_u16(), length) {
        (204 | 304, _) => 0,
        (_, Some(length)) => length,
        (_, None) => panic!("{path}: HTTP {status} without a Content-Length"),
    };
    Some(Head {
        status,
        len,
        body_len,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A server that reads one request and answers with `chunks`, written one by one.
    async fn answering(
        chunks: Vec<&'static [u8]>,
    ) -> (SocketAddr, tokio::task::JoinHandle<Vec<u8>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = vec![0u8; 4096];
            let n = stream.read(&mut request).await.unwrap();
            request.truncate(n);
            for chunk in chunks {
                stream.write_all(chunk).await.unwrap();
                stream.flush().await.unwrap();
                tokio::task::yield_now().await;
            }
            request
        });
        (addr, server)
    }

    #[test]
    fn a_head_is_complete_only_once_all_of_it_is_read() {
        let answer = b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 7\r\n\r\n{\"a\":1}";
        let head_len = answer.len() - 7;
        for cut in 0..head_len {
            assert_eq!(parse_head(&answer[..cut], "/x"), None, "cut at {cut}");
        }
        for cut in head_len..=answer.len() {
            assert_eq!(
                parse_head(&answer[..cut], "/x"),
                Some(Head {
                    status: StatusCode::CREATED,
                    len: head_len,
                    body_len: 7
                }),
                "cut at {cut}"
            );
        }
        let no_content = b"HTTP/1.1 204 No Content\r\n\r\n";
        assert_eq!(
            parse_head(no_content, "/x").map(|h| (h.len, h.body_len)),
            Some((no_content.len(), 0))
        );
    }

    #[tokio::test]
    async fn reads_an_answer_in_pieces_and_leaves_the_next_one() {
        let (addr, server) = answering(vec![
            b"HTTP/1.1 201 Created\r\nconte",
            b"nt-length: 7\r\n\r\n{\"a\"",
            b":1}HTTP/1.1 204 No Content\r\n\r\n",
        ])
        .await;
        let mut conn = Conn::connect(addr).await;
        let (status, body) = conn
            .call(Method::POST, "/v1/x", Some(b"{\"id\":2}".to_vec()))
            .await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(&body[..], b"{\"a\":1}");
        let request = String::from_utf8(server.await.unwrap()).unwrap();
        assert!(request.starts_with("POST /v1/x HTTP/1.1\r\n"), "{request}");
        assert!(request.contains("\r\ncontent-length: 8\r\n"), "{request}");
        assert!(
            request.contains("\r\ncontent-type: application/json\r\n"),
            "{request}"
        );
        assert!(request.ends_with("\r\n\r\n{\"id\":2}"), "{request}");
        // The second answer, already read, is the next call's.
        let (status, body) = conn.answer("/next").await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert!(body.is_empty());
    }

    /// A server that answers `answers` requests on one connection, each once it has read the
    /// request, then hangs up (its end of the stream closed for writing, so that the next
    /// request is still read, not refused).
    async fn answering_each(answers: usize) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = vec![0u8; 4096];
            for _ in 0..answers {
                assert!(stream.read(&mut request).await.unwrap() > 0);
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
                    .await
                    .unwrap();
            }
            stream.shutdown().await.unwrap();
            let _ = stream.read(&mut request).await;
        });
        addr
    }

    /// Runs `call` with a watchdog: an answer missed would be waited for forever.
    async fn watched<T>(call: impl std::future::Future<Output = T>) -> T {
        tokio::time::timeout(Duration::from_secs(300), call)
            .await
            .expect("the call waited for an answer that had arrived")
    }

    #[tokio::test]
    async fn a_connection_carries_one_call_after_another() {
        let mut conn = Conn::connect(answering_each(3).await).await;
        for _ in 0..3 {
            let (status, body) = watched(conn.call(Method::GET, "/x", None)).await;
            assert_eq!((status, &body[..]), (StatusCode::OK, &b"{}"[..]));
        }
    }

    #[tokio::test]
    #[should_panic(expected = "closed the connection")]
    async fn a_hang_up_after_an_answer_is_seen_by_the_next_call() {
        let mut conn = Conn::connect(answering_each(1).await).await;
        watched(conn.call(Method::GET, "/x", None)).await;
        watched(conn.call(Method::GET, "/x", None)).await;
    }

    #[tokio::test]
    #[should_panic(expected = "without a Content-Length")]
    async fn refuses_an_answer_it_cannot_delimit() {
        let (addr, _server) = answering(vec![
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
        ])
        .await;
        Conn::connect(addr).await.call(Method::GET, "/", None).await;
    }
}
