//! Shared fixtures of the benchmarks: a minimal in-process server that answers
//! every request with one fixed body.

use std::net::SocketAddr;

use axum::http::header::CONTENT_TYPE;
use axum::Router;
use bytes::Bytes;

/// A server on 127.0.0.1 that answers every request with `body` as JSON.
/// Returns its origin (`http://127.0.0.1:PORT`); it runs until the runtime stops.
pub async fn fixed_json_server(body: Bytes) -> String {
    let app = Router::new().fallback(move || {
        let body = body.clone();
        async move { ([(CONTENT_TYPE, "application/json")], body) }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}
