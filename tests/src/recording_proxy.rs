//! A recording reverse proxy on 127.0.0.1: forwards every request to an upstream origin and keeps
//! what it answered (method, path, status, content type, body). For tests that need to see
//! requests the emulator does not log, such as another web site's requests to the admin API.
//! (The spec-conformance check of API answers runs on the emulator's side: `passage_conformance`.)

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;

/// One response that passed through the proxy.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// HTTP method.
    pub method: String,
    /// Request path without the query.
    pub path: String,
    /// Response status.
    pub status: u16,
    /// Response `content-type`, if any.
    pub content_type: Option<String>,
    /// Response body.
    pub body: Bytes,
}

#[derive(Clone)]
struct ProxyState {
    upstream: String,
    http: reqwest::Client,
    log: Arc<Mutex<Vec<Recorded>>>,
}

/// A recording reverse proxy on 127.0.0.1; stops when dropped.
pub struct RecordingProxy {
    origin: String,
    log: Arc<Mutex<Vec<Recorded>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl RecordingProxy {
    /// Starts a proxy that forwards everything to `upstream_origin` (`http://127.0.0.1:PORT`).
    pub async fn start(upstream_origin: &str) -> Self {
        let log = Arc::new(Mutex::new(Vec::new()));
        let state = ProxyState {
            upstream: upstream_origin.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("proxy client"),
            log: log.clone(),
        };
        let app = Router::new().fallback(forward).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind proxy");
        let origin = format!("http://{}", listener.local_addr().expect("proxy address"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Self {
            origin,
            log,
            shutdown: Some(tx),
        }
    }

    /// `http://127.0.0.1:PORT` of the proxy.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Everything recorded so far.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.log.lock().expect("log").clone()
    }

    /// Forgets what was recorded (e.g. before a fault-injection phase).
    pub fn clear(&self) {
        self.log.lock().expect("log").clear();
    }
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

async fn forward(State(state): State<ProxyState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, 16 * 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => return StatusCode::BAD_REQUEST.into_response(),
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let url = format!("{}{}", state.upstream, path_and_query);
    let mut headers = reqwest::header::HeaderMap::new();
    for (name, value) in parts.headers.iter() {
        if name != "host" && name != "content-length" {
            headers.append(name.clone(), value.clone());
        }
    }
    let upstream = state
        .http
        .request(parts.method.clone(), &url)
        .headers(headers)
        .body(body)
        .send()
        .await;
    let upstream = match upstream {
        Ok(r) => r,
        // The emulator dropped the connection (fault injection): answer 502 and record nothing.
        Err(_) => return StatusCode::BAD_GATEWAY.into_response(),
    };
    let status = upstream.status();
    let mut out_headers = HeaderMap::new();
    for (name, value) in upstream.headers() {
        if name != "transfer-encoding" && name != "content-length" && name != "connection" {
            out_headers.append(name.clone(), value.clone());
        }
    }
    let content_type = upstream
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = match upstream.bytes().await {
        Ok(b) => b,
        Err(_) => return StatusCode::BAD_GATEWAY.into_response(),
    };
    state.log.lock().expect("log").push(Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        status: status.as_u16(),
        content_type,
        body: bytes.clone(),
    });
    (status, out_headers, bytes).into_response()
}
