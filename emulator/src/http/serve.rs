//! The accept loop: HTTP/1.1 connections served by hyper, each request carrying the signal that
//! lets a fault drop its connection, and a graceful shutdown.

use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::http::fault_injection::DropSignal;

/// How long a shutdown waits for requests in flight before closing their connections.
pub const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Serves `router` on `listener` (HTTP/1.1) until `shutdown` changes: then stops accepting, lets the
/// requests in flight finish (up to [`DRAIN_TIMEOUT`]) and returns. A fault that drops a connection
/// closes it through the [`DropSignal`] each request carries.
pub async fn serve(listener: TcpListener, router: Router, mut shutdown: watch::Receiver<bool>) {
    // Connection tasks; dropping the set (when the handle is dropped) aborts them.
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            // Reap finished connections so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            _ = shutdown.changed() => break,
        };
        let drop_signal = DropSignal::default();
        let notify = drop_signal.0.clone();
        let svc = router
            .clone()
            .map_request(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(drop_signal.clone());
                req
            });
        let mut conn_shutdown = shutdown.clone();
        connections.spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc));
            tokio::pin!(conn);
            tokio::select! {
                res = conn.as_mut() => {
                    if let Err(e) = res {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                    return;
                }
                _ = notify.notified() => {
                    tracing::debug!("dropping connection (fault injection)");
                    return;
                }
                _ = conn_shutdown.changed() => {}
            }
            // Shutting down: finish the request in flight (if any), then close.
            conn.as_mut().graceful_shutdown();
            let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
                tokio::select! {
                    _ = conn.as_mut() => {}
                    _ = notify.notified() => {}
                }
            })
            .await;
            if drained.is_err() {
                tracing::warn!("a request was still running when the drain timeout ended");
            }
        });
    }
    // Stop accepting, then wait for the connections to drain.
    drop(listener);
    while connections.join_next().await.is_some() {}
}
