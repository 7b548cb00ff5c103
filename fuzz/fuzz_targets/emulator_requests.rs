//! Fuzz target: arbitrary requests through the emulator's whole axum router
//! (API routes, extractors, fault middleware), in process with
//! `tower::ServiceExt::oneshot`.
//!
//! Input layout: byte 0 picks the method, byte 1 a route of the Auth or the
//! Management API (or a raw path), byte 2 the `Authorization` header (none,
//! the suffix as a bearer token, or the app's API key); the rest is split at
//! the first newline into a path suffix (query included) and the body.
//!
//! The admin API (`/_emulator`) is not fuzzed: it is the test control surface
//! (it can arm a `delay` fault of any length, which would stall the run).
//!
//! `FUZZ_TRACE=1` prints each request's status and URI.
//!
//! Properties: no panic; no 5xx (a bad request is the client's fault); every
//! 4xx from a routed `/v1` or `/management/v1` path except 404/405 (routing)
//! carries the API's `{code, error}` JSON body.
#![no_main]

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{header, Method, Request};
use http_body_util::BodyExt;
use passage_emulator::base::random::random_secret;
use passage_emulator::context::Context;
use passage_emulator::jwt::SigningKey;
use passage_emulator::model::{AppRecord, EmulatorState};
use passage_emulator::{AppConfig, DEFAULT_API_KEY};
use tower::ServiceExt;

const METHODS: [Method; 6] = [
    Method::GET,
    Method::POST,
    Method::PATCH,
    Method::DELETE,
    Method::PUT,
    Method::OPTIONS,
];

/// API routes, `{app}` standing for the app id and `{x}` for a fuzzed segment.
const ROUTES: &[&str] = &[
    "/v1/apps/{app}",
    "/v1/apps/{app}/.well-known/jwks.json",
    "/v1/apps/{app}/.well-known/openid-configuration",
    "/v1/apps/{app}/currentuser",
    "/v1/apps/{app}/currentuser/devices",
    "/v1/apps/{app}/currentuser/devices/start",
    "/v1/apps/{app}/currentuser/devices/finish",
    "/v1/apps/{app}/currentuser/devices/{x}",
    "/v1/apps/{app}/currentuser/email",
    "/v1/apps/{app}/currentuser/phone",
    "/v1/apps/{app}/currentuser/user-metadata",
    "/v1/apps/{app}/currentuser/social-connections",
    "/v1/apps/{app}/currentuser/social-connections/{x}",
    "/v1/apps/{app}/currentuser/social/link_account",
    "/v1/apps/{app}/users",
    "/v1/apps/{app}/login/otp",
    "/v1/apps/{app}/register/otp",
    "/v1/apps/{app}/otp/activate",
    "/v1/apps/{app}/login/magic-link",
    "/v1/apps/{app}/register/magic-link",
    "/v1/apps/{app}/magic-link/activate",
    "/v1/apps/{app}/magic-link/status",
    "/v1/apps/{app}/login/webauthn/start",
    "/v1/apps/{app}/login/webauthn/finish",
    "/v1/apps/{app}/register/webauthn/start",
    "/v1/apps/{app}/register/webauthn/finish",
    "/v1/apps/{app}/register/transactions/webauthn/start",
    "/v1/apps/{app}/register/transactions/webauthn/finish",
    "/v1/apps/{app}/authenticate/transactions/webauthn/start",
    "/v1/apps/{app}/authenticate/transactions/webauthn/finish",
    "/v1/apps/{app}/tokens",
    "/v1/apps/{app}/social/authorize",
    "/v1/apps/{app}/social/token",
    "/v1/apps/{app}/social/id_token",
    "/v1/apps/{app}/social/oauth2_callback",
    "/v1/social/oauth2_callback",
    "/v1/analytics/passkey-readiness",
    "/v1/apps/{x}",
    "/management/v1/apps/{app}",
    "/management/v1/apps/{app}/magic-links",
    "/management/v1/apps/{app}/users",
    "/management/v1/apps/{app}/users/{x}",
    "/management/v1/apps/{app}/users/{x}/activate",
    "/management/v1/apps/{app}/users/{x}/deactivate",
    "/management/v1/apps/{app}/users/{x}/devices",
    "/management/v1/apps/{app}/users/{x}/devices/{x}",
    "/management/v1/apps/{app}/users/{x}/tokens",
    "/management/v1/apps/{app}/transactions/register",
    "/management/v1/apps/{app}/transactions/authenticate",
    "/management/v1/apps/{app}/authenticate/verify",
];

struct Fixture {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    app_id: String,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let app = AppConfig::default();
        let app_id = app.id.clone();
        let mut state = EmulatorState {
            fake_provider_secret: random_secret(32).into(),
            ..EmulatorState::default()
        };
        let key = SigningKey::default_key().expect("signing key");
        state.apps.insert(app_id.clone(), AppRecord::new(app, key));
        let context = Arc::new(Context::new(state, "http://127.0.0.1:9".into(), None));
        let router = passage_emulator::http::router(context);
        Fixture {
            runtime,
            router,
            app_id,
        }
    })
}

fn path_for(f: &Fixture, route: u8, suffix: &str) -> String {
    let segment: String = suffix
        .chars()
        .take_while(|c| *c != '?' && *c != '/')
        .collect();
    let path = match ROUTES.get(route as usize % (ROUTES.len() + 1)) {
        Some(template) => template
            .replace("{app}", &f.app_id)
            .replace("{x}", &segment),
        // A raw path under /v1.
        None => format!("/v1/{suffix}"),
    };
    let query = suffix.split_once('?').map(|(_, q)| q).unwrap_or_default();
    if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let [method, route, bearer, rest @ ..] = data else {
        return;
    };
    let (suffix, body) = match rest.iter().position(|b| *b == b'\n') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let suffix = String::from_utf8_lossy(suffix);
    let uri = path_for(f, *route, &suffix);
    let mut request = Request::builder()
        .method(METHODS[*method as usize % METHODS.len()].clone())
        .uri(uri.as_str())
        .header(header::CONTENT_TYPE, "application/json");
    match bearer % 3 {
        1 => request = request.header(header::AUTHORIZATION, format!("Bearer {suffix}")),
        2 => request = request.header(header::AUTHORIZATION, format!("Bearer {DEFAULT_API_KEY}")),
        _ => {}
    }
    // An unparsable URI or header is refused before any server code runs.
    let Ok(request) = request.body(Body::from(body.to_vec())) else {
        return;
    };
    f.runtime.block_on(async {
        let response = f
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        if std::env::var_os("FUZZ_TRACE").is_some() {
            eprintln!("{status} {uri}");
        }
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        assert!(
            !status.is_server_error(),
            "{status} for {uri}: {}",
            String::from_utf8_lossy(&bytes)
        );
        if status.is_client_error() && status.as_u16() != 404 && status.as_u16() != 405 {
            let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!(
                    "{status} for {uri} without a JSON body: {}",
                    String::from_utf8_lossy(&bytes)
                )
            });
            assert!(
                value.get("code").is_some_and(|c| c.is_string())
                    && value.get("error").is_some_and(|e| e.is_string()),
                "{status} for {uri} without {{code, error}}: {value}"
            );
        }
    });
});
