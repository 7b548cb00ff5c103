//! CORS for the `/v1` API, so that a web page on an app's auth origin (or any loopback origin while
//! developing) can call the emulator cross-origin, as the official web SDK calls the hosted service.

use std::time::Duration;

use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::state::AppState;

/// Request headers a page may send (the official web SDK sends the `Passage-*` ones on every call).
pub const ALLOWED_REQUEST_HEADERS: [&str; 5] = [
    "authorization",
    "content-type",
    "passage-version",
    "passage-element-version",
    "x-api-key",
];

/// Methods of the `/v1` API.
pub const ALLOWED_METHODS: [Method; 4] = [Method::GET, Method::POST, Method::PATCH, Method::DELETE];

/// Which cross-origin callers are allowed, besides every app's auth origin.
#[derive(Debug, Clone, Default)]
pub struct CorsSettings {
    /// Allow `http(s)://localhost:*`, `http(s)://127.0.0.1:*` and `http(s)://[::1]:*`.
    pub allow_loopback: bool,
    /// Extra origins (`scheme://host[:port]`), already normalised.
    pub extra_origins: Vec<String>,
}

/// `scheme://host[:port]` of an origin or URL (the default port left out), or `None` when it is not
/// an http(s) origin.
pub fn normalize_origin(text: &str) -> Option<String> {
    let url = url::Url::parse(text.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return None;
    }
    Some(url.origin().ascii_serialization())
}

/// Whether an origin is on the loopback interface.
pub fn is_loopback_origin(origin: &str) -> bool {
    let Ok(url) = url::Url::parse(origin) else {
        return false;
    };
    matches!(url.scheme(), "http" | "https")
        && match url.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
}

/// Whether `origin` may call the API: an app's auth origin, a loopback origin (when allowed) or a
/// configured extra origin.
pub fn origin_allowed(shared: &AppState, origin: &str) -> bool {
    let Some(origin) = normalize_origin(origin) else {
        return false;
    };
    let settings = &shared.options.cors;
    if settings.allow_loopback && is_loopback_origin(&origin) {
        return true;
    }
    if settings.extra_origins.contains(&origin) {
        return true;
    }
    shared
        .lock()
        .apps
        .values()
        .any(|app| normalize_origin(&app.config.auth_origin).as_deref() == Some(origin.as_str()))
}

/// The CORS layer for `/v1`: allowed origins are checked per request (apps can be added at runtime);
/// no credentials (the API uses bearer tokens, not cookies).
pub fn layer(shared: AppState) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(
            move |origin: &HeaderValue, parts: &Parts| {
                parts.uri.path().starts_with("/v1")
                    && origin
                        .to_str()
                        .is_ok_and(|origin| origin_allowed(&shared, origin))
            },
        ))
        .allow_methods(ALLOWED_METHODS)
        .allow_headers(ALLOWED_REQUEST_HEADERS.map(HeaderName::from_static))
        .expose_headers([header::RETRY_AFTER])
        .max_age(Duration::from_secs(600))
}

/// Middleware around the CORS layer: preflights (which the layer answers itself, with 200) get 204.
pub async fn preflight_no_content(req: Request, next: Next) -> Response {
    let preflight = req.method() == Method::OPTIONS;
    let mut resp = next.run(req).await;
    if preflight && resp.status() == StatusCode::OK {
        *resp.status_mut() = StatusCode::NO_CONTENT;
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_origins() {
        for origin in [
            "http://localhost:3000",
            "http://127.0.0.1:5173",
            "http://[::1]:8080",
            "https://localhost",
        ] {
            assert!(is_loopback_origin(origin), "{origin}");
        }
        for origin in [
            "http://example.com",
            "http://localhost.example.com",
            "file:///tmp/x",
            "null",
        ] {
            assert!(!is_loopback_origin(origin), "{origin}");
        }
    }

    #[test]
    fn origins_are_normalised() {
        assert_eq!(
            normalize_origin("https://app.passage.test/").as_deref(),
            Some("https://app.passage.test")
        );
        assert_eq!(
            normalize_origin("https://App.Passage.test:443").as_deref(),
            Some("https://app.passage.test")
        );
        assert_eq!(
            normalize_origin("http://localhost:3000/login").as_deref(),
            Some("http://localhost:3000")
        );
        assert_eq!(normalize_origin("null"), None);
    }
}
