//! CORS on the `/v1` API: preflights and ordinary answers, seen as a browser would see them.

use passage_conformance::CheckedEmulator;
use passage_emulator::{AppConfig, EmulatorConfig, DEFAULT_APP_ID};
use reqwest::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ORIGIN,
};
use reqwest::{Method, StatusCode};

async fn start(config: EmulatorConfig) -> (CheckedEmulator, reqwest::Client) {
    let emulator = CheckedEmulator::start(config)
        .await
        .expect("emulator starts");
    (emulator, reqwest::Client::new())
}

fn header<'a>(resp: &'a reqwest::Response, name: &reqwest::header::HeaderName) -> Option<&'a str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

/// A browser's preflight for a JSON POST with the web SDK's headers.
async fn preflight(
    client: &reqwest::Client,
    url: &str,
    origin: &str,
    method: &str,
) -> reqwest::Response {
    client
        .request(Method::OPTIONS, url)
        .header(ORIGIN, origin)
        .header("access-control-request-method", method)
        .header(
            "access-control-request-headers",
            "authorization,content-type,passage-version,passage-element-version,passage-flex-version",
        )
        .send()
        .await
        .expect("preflight answered")
}

#[tokio::test]
async fn preflight_from_loopback_is_204_with_methods_and_headers() {
    let (emulator, client) = start(EmulatorConfig::default()).await;
    let url = format!("{}/apps/{DEFAULT_APP_ID}/register/otp", emulator.base_url());
    for origin in [
        "http://localhost:3000",
        "http://127.0.0.1:5173",
        "http://[::1]:8080",
    ] {
        let resp = preflight(&client, &url, origin, "POST").await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT, "{origin}");
        assert_eq!(header(&resp, &ACCESS_CONTROL_ALLOW_ORIGIN), Some(origin));
        assert_eq!(header(&resp, &ACCESS_CONTROL_ALLOW_CREDENTIALS), None);
        let methods = header(&resp, &ACCESS_CONTROL_ALLOW_METHODS)
            .unwrap()
            .to_ascii_uppercase();
        for m in ["GET", "POST", "PATCH", "DELETE"] {
            assert!(methods.contains(m), "{methods}");
        }
        let headers = header(&resp, &ACCESS_CONTROL_ALLOW_HEADERS)
            .unwrap()
            .to_ascii_lowercase();
        for h in [
            "authorization",
            "content-type",
            "passage-version",
            "passage-element-version",
            // The Flex web SDK sends it on every call.
            "passage-flex-version",
        ] {
            assert!(headers.contains(h), "{headers}");
        }
    }
    // Preflights are answered before routing: no fault is consumed, nothing is logged.
    assert!(emulator.requests().is_empty());
}

#[tokio::test]
async fn preflight_on_a_patch_route_and_a_bearer_route() {
    let (emulator, client) = start(EmulatorConfig::default()).await;
    for (path, method) in [
        ("magic-link/activate", "PATCH"),
        ("currentuser/devices/dev_x", "DELETE"),
        ("currentuser", "GET"),
    ] {
        let url = format!("{}/apps/{DEFAULT_APP_ID}/{path}", emulator.base_url());
        let resp = preflight(&client, &url, "http://localhost:3000", method).await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT, "{path}");
        assert_eq!(
            header(&resp, &ACCESS_CONTROL_ALLOW_ORIGIN),
            Some("http://localhost:3000")
        );
    }
}

#[tokio::test]
async fn simple_answers_carry_the_origin_including_errors() {
    let (emulator, client) = start(EmulatorConfig::default()).await;
    let base = emulator.base_url();
    let ok = client
        .get(format!("{base}/apps/{DEFAULT_APP_ID}"))
        .header(ORIGIN, "http://localhost:3000")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(
        header(&ok, &ACCESS_CONTROL_ALLOW_ORIGIN),
        Some("http://localhost:3000")
    );
    assert!(header(&ok, &ACCESS_CONTROL_EXPOSE_HEADERS)
        .unwrap()
        .to_ascii_lowercase()
        .contains("retry-after"));
    let unauthorized = client
        .get(format!("{base}/apps/{DEFAULT_APP_ID}/currentuser"))
        .header(ORIGIN, "http://localhost:3000")
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        header(&unauthorized, &ACCESS_CONTROL_ALLOW_ORIGIN),
        Some("http://localhost:3000")
    );
    // An injected fault is readable by the page too.
    emulator.inject_fault(passage_emulator::FaultRule {
        path_prefix: format!("/v1/apps/{DEFAULT_APP_ID}"),
        method: None,
        count: 1,
        kind: passage_emulator::FaultKind::Status503,
        retry_after: Some(2),
        delay_ms: None,
        status: None,
    });
    let faulted = client
        .get(format!("{base}/apps/{DEFAULT_APP_ID}"))
        .header(ORIGIN, "http://localhost:3000")
        .send()
        .await
        .unwrap();
    assert_eq!(faulted.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        header(&faulted, &ACCESS_CONTROL_ALLOW_ORIGIN),
        Some("http://localhost:3000")
    );
    // The admin API is not offered cross-origin.
    let admin = client
        .get(format!("{}/_emulator/apps", emulator.root_url()))
        .header(ORIGIN, "http://localhost:3000")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&admin, &ACCESS_CONTROL_ALLOW_ORIGIN), None);
}

#[tokio::test]
async fn auth_origin_and_configured_origins_are_allowed_others_are_not() {
    let config = EmulatorConfig {
        apps: vec![AppConfig {
            id: "web".into(),
            auth_origin: "https://shop.example.com".into(),
            ..AppConfig::default()
        }],
        cors_origins: vec!["https://staging.example.org/".into()],
        cors_allow_loopback: false,
        ..EmulatorConfig::default()
    };
    let (emulator, client) = start(config).await;
    let url = format!("{}/apps/web", emulator.base_url());
    for (origin, allowed) in [
        ("https://shop.example.com", true),
        ("https://staging.example.org", true),
        ("http://localhost:3000", false),
        ("https://evil.example.net", false),
    ] {
        let pre = preflight(&client, &url, origin, "GET").await;
        let simple = client
            .get(&url)
            .header(ORIGIN, origin)
            .send()
            .await
            .unwrap();
        assert_eq!(simple.status(), StatusCode::OK);
        for resp in [&pre, &simple] {
            assert_eq!(
                header(resp, &ACCESS_CONTROL_ALLOW_ORIGIN),
                allowed.then_some(origin),
                "{origin}"
            );
        }
    }
}

#[tokio::test]
async fn bad_cors_origin_in_config_is_refused() {
    let config = EmulatorConfig {
        cors_origins: vec!["not an origin".into()],
        ..EmulatorConfig::default()
    };
    assert!(CheckedEmulator::start(config).await.is_err());
}
