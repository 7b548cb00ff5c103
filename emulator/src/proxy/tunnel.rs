//! The proxy listener: `CONNECT` handling, TLS termination and serving a host's router.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tower::ServiceExt;

use super::{CertificateAuthority, ProxyError};
use crate::http::fault_injection::DropSignal;
use crate::settings::intercept::PassageHost;

/// The only port a tunnel may be opened to.
const HTTPS_PORT: u16 = 443;
/// How long a client may take to send the `CONNECT` request's head, and each request head inside a
/// tunnel.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a client may take to finish the TLS handshake inside a tunnel.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// What the proxy serves for one host: its TLS configuration and its router.
#[derive(Clone)]
struct Intercepted {
    tls: Arc<rustls::ServerConfig>,
    router: axum::Router,
}

/// A running intercepting proxy; dropping it stops it.
///
/// See the [module documentation](super) for what it accepts and refuses.
pub struct InterceptingProxy {
    addr: SocketAddr,
    hosts: Vec<PassageHost>,
    shutdown: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for InterceptingProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InterceptingProxy")
            .field("addr", &self.addr)
            .field("hosts", &self.hosts)
            .finish_non_exhaustive()
    }
}

impl InterceptingProxy {
    /// Binds `addr` and serves each of `hosts` from its router, with a leaf certificate for it
    /// signed by `ca` (issued now, kept in memory for the proxy's lifetime).
    ///
    /// Requests reach a router with their `Host` header as the client sent it, with the
    /// [`PassageHost`] as a request extension, and with the
    /// [`DropSignal`](crate::http::fault_injection::DropSignal) that lets a fault close the tunnel. A request inside a tunnel whose `Host` names
    /// another host gets `421 Misdirected Request`. A host given twice is served by the last
    /// router given for it.
    ///
    /// Keep `addr` on loopback: whoever reaches the proxy reaches the routers.
    pub async fn bind(
        addr: SocketAddr,
        ca: &CertificateAuthority,
        hosts: impl IntoIterator<Item = (PassageHost, axum::Router)>,
    ) -> Result<InterceptingProxy, ProxyError> {
        let mut table = BTreeMap::new();
        for (host, router) in hosts {
            let tls = ca.server_config(host)?;
            table.insert(host, Intercepted { tls, router });
        }
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ProxyError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ProxyError::Bind { addr, source })?;
        let hosts = table.keys().copied().collect();
        let (shutdown, shutdown_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, Arc::new(table), shutdown_rx));
        tracing::info!(%addr, ?hosts, "intercepting HTTPS proxy listening");
        Ok(InterceptingProxy {
            addr,
            hosts,
            shutdown,
            task: Some(task),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, the value for a client's `HTTPS_PROXY`.
    pub fn proxy_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The hosts this proxy intercepts.
    pub fn hosts(&self) -> &[PassageHost] {
        &self.hosts
    }

    /// Stops accepting, closes every open connection and tunnel, and waits for that.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for InterceptingProxy {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

type HostTable = Arc<BTreeMap<PassageHost, Intercepted>>;

async fn accept_loop(listener: TcpListener, hosts: HostTable, mut shutdown: watch::Receiver<bool>) {
    // Connection tasks; dropping the set aborts them.
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "proxy accept failed");
                    continue;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            _ = shutdown.changed() => break,
        };
        connections.spawn(serve_client(stream, hosts.clone()));
    }
    drop(listener);
    connections.shutdown().await;
}

/// What the proxy makes of a request on its listener.
#[derive(Debug, PartialEq, Eq)]
enum Decision {
    /// Open a tunnel to this host.
    Tunnel(PassageHost),
    /// Refuse: not `CONNECT`, or a host or port that is not intercepted.
    Refuse,
}

fn decide(req: &Request<Incoming>, hosts: &HostTable) -> Decision {
    if req.method() != Method::CONNECT {
        return Decision::Refuse;
    }
    let Some(authority) = req.uri().authority() else {
        return Decision::Refuse;
    };
    if authority.port_u16() != Some(HTTPS_PORT) {
        return Decision::Refuse;
    }
    match PassageHost::from_name(authority.host()) {
        Some(host) if hosts.contains_key(&host) => Decision::Tunnel(host),
        _ => Decision::Refuse,
    }
}

/// Serves one client connection: its `CONNECT` request, then (if accepted) the tunnel.
async fn serve_client(stream: TcpStream, hosts: HostTable) {
    // The accepted tunnel's host and upgrade, handed from the request handler to this task.
    let (accepted_tx, accepted_rx) = oneshot::channel::<(PassageHost, OnUpgrade)>();
    let accepted_tx = Arc::new(Mutex::new(Some(accepted_tx)));
    let table = hosts.clone();
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        let decision = decide(&req, &table);
        let response = match decision {
            Decision::Tunnel(host) => {
                let upgrade = hyper::upgrade::on(&mut req);
                let sender = accepted_tx
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .take();
                match sender.map(|sender| sender.send((host, upgrade))) {
                    Some(Ok(())) => Response::new(Body::empty()),
                    // A second CONNECT on the same connection cannot happen (the first one
                    // upgrades it); refuse rather than guess.
                    _ => refusal(),
                }
            }
            Decision::Refuse => {
                tracing::debug!(method = %req.method(), uri = %req.uri(), "proxy request refused");
                refusal()
            }
        };
        std::future::ready(Ok::<_, std::convert::Infallible>(response))
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    if let Err(e) = connection.await {
        tracing::debug!(error = %e, "proxy connection ended with an error");
        return;
    }
    // No tunnel was accepted (the handler, and so the sender, is gone).
    let Ok((host, upgrade)) = accepted_rx.await else {
        return;
    };
    let Some(intercepted) = hosts.get(&host).cloned() else {
        return;
    };
    match upgrade.await {
        Ok(upgraded) => serve_tunnel(TokioIo::new(upgraded), host, intercepted).await,
        Err(e) => tracing::debug!(error = %e, %host, "proxy tunnel upgrade failed"),
    }
}

/// `403 Forbidden`, closing the connection.
fn refusal() -> Response<Body> {
    let mut response = Response::new(Body::from(
        "passage-emulator proxy: only CONNECT to an intercepted Passage host on port 443 is served\n",
    ));
    *response.status_mut() = StatusCode::FORBIDDEN;
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Terminates TLS on the tunnel and serves HTTP/1.1 from the host's router.
async fn serve_tunnel<Io>(io: Io, host: PassageHost, intercepted: Intercepted)
where
    Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let acceptor = tokio_rustls::TlsAcceptor::from(intercepted.tls);
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(io)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, %host, "proxy TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%host, "proxy TLS handshake timed out");
            return;
        }
    };
    let router = intercepted.router;
    // As on the emulator's listener: a fault that drops the connection notifies this signal, which
    // every request of the tunnel carries.
    let drop_signal = DropSignal::default();
    let dropped = drop_signal.0.clone();
    let service = tower::service_fn(move |mut req: Request<Incoming>| {
        let router = router.clone();
        let drop_signal = drop_signal.clone();
        async move {
            if !host_header_matches(&req, host) {
                let mut response = Response::new(Body::from(format!(
                    "passage-emulator proxy: this tunnel serves {host}\n"
                )));
                *response.status_mut() = StatusCode::MISDIRECTED_REQUEST;
                return Ok::<_, std::convert::Infallible>(response);
            }
            req.extensions_mut().insert(host);
            req.extensions_mut().insert(drop_signal);
            router.oneshot(req).await
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(tls), TowerToHyperService::new(service));
    tokio::select! {
        served = connection => {
            if let Err(e) = served {
                tracing::debug!(error = %e, %host, "proxy tunnel connection ended with an error");
            }
        }
        // Dropping the connection closes the TLS stream and the tunnel without an answer.
        _ = dropped.notified() => {
            tracing::debug!(%host, "dropping proxied connection (fault injection)");
        }
    }
}

/// Whether the request's `Host` header (if any) names `host`, on the default HTTPS port.
fn host_header_matches<B>(req: &Request<B>, host: PassageHost) -> bool {
    let Some(value) = req.headers().get(header::HOST) else {
        // HTTP/1.0 allows no Host; the tunnel already names the host.
        return true;
    };
    let Ok(authority) = value
        .to_str()
        .ok()
        .unwrap_or_default()
        .parse::<axum::http::uri::Authority>()
    else {
        return false;
    };
    PassageHost::from_name(authority.host()) == Some(host)
        && matches!(authority.port_u16(), None | Some(HTTPS_PORT))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_host(value: Option<&str>) -> Request<()> {
        let mut builder = Request::builder().uri("/v1/x");
        if let Some(value) = value {
            builder = builder.header(header::HOST, value);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn host_header_must_name_the_tunnel_host_on_port_443() {
        let auth = PassageHost::Auth;
        assert!(host_header_matches(&with_host(None), auth));
        assert!(host_header_matches(
            &with_host(Some("auth.passage.id")),
            auth
        ));
        assert!(host_header_matches(
            &with_host(Some("AUTH.passage.id:443")),
            auth
        ));
        assert!(!host_header_matches(
            &with_host(Some("auth.passage.id:8443")),
            auth
        ));
        assert!(!host_header_matches(
            &with_host(Some("api.passage.id")),
            auth
        ));
        assert!(!host_header_matches(&with_host(Some("example.com")), auth));
        assert!(!host_header_matches(&with_host(Some("")), auth));
    }
}
