//! The calls the client-overhead benches compare: the generated client's `get_app` and
//! `get_jwks` against the same GET written by hand with raw reqwest + serde on the generated
//! client's own `reqwest::Client`, decoding into the same types, and the servers they run against.
//! Both sides start from the same inputs (the base URL and the app id): the raw side formats its
//! URL for each call, as a hand-written call would.

use bytes::Bytes;
use passage_auth_client::{types, Client, ClientBuilder};
use passage_emulator::{Emulator, EmulatorConfig, EmulatorHandle};

/// The body of the fixed server's `get_app` answer.
pub const GET_APP_BODY: &str = include_str!("../fixtures/get_app.json");

/// The body of the fixed server's `get_jwks` answer: one RS256 key, fixed (a generated key would
/// make every run's set-up cost differ, which instruction counts of two run lengths subtract).
pub const JWKS_BODY: &str = include_str!("../fixtures/jwks.json");

/// The hand-written call: GET `url` with `Accept: application/json`, body decoded with serde.
pub async fn raw_json<T: serde::de::DeserializeOwned>(http: &reqwest::Client, url: String) -> T {
    let bytes = http
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .expect("send")
        .bytes()
        .await
        .expect("body");
    serde_json::from_slice(&bytes).expect("decode")
}

/// `GET {base}/apps/{app_id}` by hand.
pub async fn raw_get(http: &reqwest::Client, base: &str, app_id: &str) -> types::GetAppResponse {
    raw_json(http, format!("{base}/apps/{app_id}")).await
}

/// `GET {base}/apps/{app_id}/.well-known/jwks.json` by hand.
pub async fn raw_jwks(http: &reqwest::Client, base: &str, app_id: &str) -> types::JwkResponse {
    raw_json(http, format!("{base}/apps/{app_id}/.well-known/jwks.json")).await
}

/// `get_app` through the generated client.
pub async fn generated_get(client: &Client, app_id: &str) -> types::GetAppResponse {
    client
        .get_app()
        .app_id(app_id)
        .send()
        .await
        .expect("call")
        .into_inner()
}

/// `get_jwks` through the generated client.
pub async fn generated_jwks(client: &Client, app_id: &str) -> types::JwkResponse {
    client
        .get_jwks()
        .app_id(app_id)
        .send()
        .await
        .expect("call")
        .into_inner()
}

/// The server a comparison runs against.
#[derive(Clone, Copy, Debug)]
pub enum Server {
    /// A fixed in-process server answering [`GET_APP_BODY`].
    FixedApp,
    /// A fixed in-process server answering [`JWKS_BODY`].
    FixedJwks,
    /// The emulator, in process.
    Emulator,
}

/// The call a comparison makes.
#[derive(Clone, Copy, Debug)]
pub enum Call {
    /// `GET /apps/{app_id}`.
    GetApp,
    /// `GET /apps/{app_id}/.well-known/jwks.json`.
    GetJwks,
}

/// Starts `server` on the current runtime: its base URL, the app id to ask for, and the emulator
/// (to keep alive) when it is one.
pub async fn start(server: Server) -> (String, String, Option<EmulatorHandle>) {
    match server {
        Server::FixedApp => {
            let origin =
                crate::fixed_json_server(Bytes::from_static(GET_APP_BODY.as_bytes())).await;
            (format!("{origin}/v1"), "bench-app".to_string(), None)
        }
        Server::FixedJwks => {
            let origin = crate::fixed_json_server(Bytes::from_static(JWKS_BODY.as_bytes())).await;
            (format!("{origin}/v1"), "bench-app".to_string(), None)
        }
        Server::Emulator => {
            let emulator = Emulator::start(EmulatorConfig::default())
                .await
                .expect("emulator");
            (
                emulator.base_url(),
                emulator.default_app_id().to_string(),
                Some(emulator),
            )
        }
    }
}

/// The generated client for `base`, and for the raw side the generated client's own
/// `reqwest::Client` (same pool, same settings).
pub fn clients(base: &str) -> (Client, reqwest::Client) {
    let generated = ClientBuilder::new()
        .base_url(base)
        .build()
        .expect("generated client");
    let http = passage_auth_client::ClientInfo::client(&generated).clone();
    (generated, http)
}
