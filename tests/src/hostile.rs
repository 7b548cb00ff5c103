//! A hostile HTTP server for leak tests: every connection gets the same [`Answer`], chosen by the
//! test, whatever it asks for. It speaks HTTP/1.1 through hyper on 127.0.0.1 and records every
//! request it reads, so a test can check that the secrets it meant to send really were sent.
//!
//! Besides well-formed answers it can cut a body short of its `Content-Length`, close the
//! connection before reading the request or after reading it, and hold a request unanswered
//! until the server is dropped (for client timeouts).

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// In the body of an [`Answer::Respond`], replaced by the request as the server read it
/// ([`Received::text`]): request line, headers and body, as a debugging proxy's error page shows it.
pub const ECHO_REQUEST: &str = "{{request}}";

/// What the server does with every connection.
#[derive(Clone)]
pub enum Answer {
    /// Answers `status` with these headers and this body.
    Respond {
        /// The status.
        status: u16,
        /// Headers, in order (a name may repeat).
        headers: Vec<(String, String)>,
        /// The body ([`ECHO_REQUEST`] in it is replaced by the request).
        body: Vec<u8>,
    },
    /// Answers `status` with `Content-Length` of the whole `body`, sends its first `sent`
    /// bytes and closes the connection.
    Truncated {
        /// The status.
        status: u16,
        /// The `Content-Type`.
        content_type: String,
        /// The whole body (its length is announced).
        body: Vec<u8>,
        /// How many bytes of it are sent.
        sent: usize,
    },
    /// Closes each connection as soon as it is accepted, before reading a byte.
    DropBeforeRequest,
    /// Reads the whole request, then closes the connection without answering.
    DropAfterRequest,
    /// Reads the whole request and never answers (until the server is dropped).
    Hold,
}

impl fmt::Debug for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Bodies and headers are the test's secrets: only the shape is shown.
        match self {
            Answer::Respond { status, .. } => write!(f, "Respond({status})"),
            Answer::Truncated {
                status, sent, body, ..
            } => {
                write!(f, "Truncated({status}, {sent} of {} bytes)", body.len())
            }
            Answer::DropBeforeRequest => f.write_str("DropBeforeRequest"),
            Answer::DropAfterRequest => f.write_str("DropAfterRequest"),
            Answer::Hold => f.write_str("Hold"),
        }
    }
}

/// A request the server read.
#[derive(Clone)]
pub struct Received {
    /// The method.
    pub method: String,
    /// The path and query, as sent.
    pub target: String,
    /// The headers, values decoded lossily.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
}

impl Received {
    /// Everything the server read, as one text: request line, headers and body.
    pub fn text(&self) -> String {
        let mut text = format!("{} {}\n", self.method, self.target);
        for (name, value) in &self.headers {
            text.push_str(&format!("{name}: {value}\n"));
        }
        text.push('\n');
        text.push_str(&String::from_utf8_lossy(&self.body));
        text
    }
}

impl fmt::Debug for Received {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Received({} {} bytes)", self.method, self.body.len())
    }
}

struct Shared {
    answer: Answer,
    received: Mutex<Vec<Received>>,
    connections: AtomicUsize,
}

/// A running hostile server; it stops (and releases held requests) when dropped.
pub struct HostileServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
}

impl fmt::Debug for HostileServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostileServer")
            .field("addr", &self.addr)
            .field("answer", &self.shared.answer)
            .finish()
    }
}

impl HostileServer {
    /// Starts a server on 127.0.0.1 (a free port) that gives every connection `answer`.
    pub async fn start(answer: Answer) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            answer,
            received: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
        });
        let (shutdown, stop) = watch::channel(false);
        tokio::spawn(accept_loop(listener, shared.clone(), stop));
        Self {
            addr,
            shared,
            shutdown,
        }
    }

    /// The API base URL of this server (`http://127.0.0.1:PORT/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The requests read so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
            _ = stop.changed() => return,
        };
        shared.connections.fetch_add(1, Ordering::SeqCst);
        if matches!(shared.answer, Answer::DropBeforeRequest) {
            drop(stream);
            continue;
        }
        let shared = shared.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn({
                let stop = stop.clone();
                move |request| answer(request, shared.clone(), stop.clone())
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = stop.changed() => {}
            }
        });
    }
}

/// The error a service returns to make hyper close the connection without answering.
#[derive(Debug)]
struct Dropped;

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by the hostile server")
    }
}

impl std::error::Error for Dropped {}

async fn answer(
    request: Request<Incoming>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) -> Result<Response<Body>, Dropped> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(Body::new(body), 16 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let received = Received {
        method: parts.method.to_string(),
        target: parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };
    let echo = received.text();
    shared.received.lock().unwrap().push(received);
    match &shared.answer {
        Answer::Respond {
            status,
            headers,
            body,
        } => {
            let body = String::from_utf8_lossy(body).replace(ECHO_REQUEST, &echo);
            let mut response = Response::new(Body::from(body));
            *response.status_mut() = StatusCode::from_u16(*status).expect("valid status");
            for (name, value) in headers {
                response.headers_mut().append(
                    HeaderName::try_from(name.as_str()).expect("valid header name"),
                    HeaderValue::try_from(value.as_str()).expect("valid header value"),
                );
            }
            Ok(response)
        }
        Answer::Truncated {
            status,
            content_type,
            body,
            sent,
        } => {
            let head = Bytes::copy_from_slice(&body[..*sent]);
            // The first bytes, then (after one pending poll, so that hyper flushes them with
            // the head) an error, on which hyper closes the connection mid-body.
            let chunks = futures::stream::unfold((Some(head), true), |state| async move {
                match state {
                    (Some(head), _) => Some((Ok(head), (None, true))),
                    (None, true) => {
                        tokio::task::yield_now().await;
                        let cut = std::io::Error::new(
                            std::io::ErrorKind::ConnectionAborted,
                            "body cut short",
                        );
                        Some((Err::<Bytes, _>(cut), (None, false)))
                    }
                    (None, false) => None,
                }
            });
            let mut response = Response::new(Body::from_stream(chunks));
            *response.status_mut() = StatusCode::from_u16(*status).expect("valid status");
            let headers = response.headers_mut();
            headers.insert(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::try_from(content_type.as_str()).expect("valid content type"),
            );
            headers.insert(
                axum::http::header::CONTENT_LENGTH,
                HeaderValue::from(body.len()),
            );
            Ok(response)
        }
        Answer::DropAfterRequest => Err(Dropped),
        Answer::Hold => {
            // Released when the server is dropped; the connection task ends first.
            let _ = stop.wait_for(|stopped| *stopped).await;
            Err(Dropped)
        }
        Answer::DropBeforeRequest => unreachable!("closed before the request was read"),
    }
}
