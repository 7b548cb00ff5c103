//! The emulator behind its own intercepting proxy (`EmulatorConfig::intercept`): the Auth API as
//! `auth.passage.id`, the Management API as `api.passage.id`, nothing else; the same state, faults
//! and request log as on the emulator's listener.

use passage_conformance::CheckedEmulator;
use passage_emulator::settings::InterceptConfig;
use passage_emulator::{EmulatorConfig, FaultKind, FaultRule, DEFAULT_API_KEY};
use reqwest::StatusCode;
use serde_json::{json, Value};

struct Intercepted {
    dir: tempfile::TempDir,
    emulator: CheckedEmulator,
    client: reqwest::Client,
}

async fn start() -> Intercepted {
    let dir = tempfile::tempdir().unwrap();
    let emulator = CheckedEmulator::start(EmulatorConfig {
        intercept: Some(InterceptConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            state_dir: dir.path().join("state"),
        }),
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator with its proxy starts");
    let ca = std::fs::read(emulator.ca_certificate_path().expect("a CA")).unwrap();
    let client = reqwest::Client::builder()
        .tls_backend_rustls()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()])
        .proxy(reqwest::Proxy::https(emulator.proxy_url().expect("a proxy")).unwrap())
        .build()
        .unwrap();
    Intercepted {
        dir,
        emulator,
        client,
    }
}

impl Intercepted {
    fn app(&self) -> &str {
        self.emulator.default_app_id()
    }

    /// `GET https://{host}{path}` (with the API key on `api.passage.id`): status and JSON body.
    async fn get(&self, host: &str, path: &str) -> (StatusCode, Value) {
        let mut req = self.client.get(format!("https://{host}{path}"));
        if host == "api.passage.id" {
            req = req.bearer_auth(DEFAULT_API_KEY);
        }
        let resp = req.send().await.expect("an answer through the proxy");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn both_apis_are_served_as_passages_hosts_over_one_state() {
    let fx = start().await;
    let app = fx.app().to_owned();
    assert!(fx
        .emulator
        .proxy_url()
        .unwrap()
        .starts_with("http://127.0.0.1:"));

    // The same path answers each API's own `get_app`.
    let (status, auth_app) = fx.get("auth.passage.id", &format!("/v1/apps/{app}")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, management_app) = fx.get("api.passage.id", &format!("/v1/apps/{app}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(management_app["app"]["type"], "complete");
    assert!(auth_app["app"].get("type").is_none(), "{auth_app}");

    // A user made through api.passage.id is found through auth.passage.id.
    let resp = fx
        .client
        .post(format!("https://api.passage.id/v1/apps/{app}/users"))
        .bearer_auth(DEFAULT_API_KEY)
        .json(&json!({"email": "proxied@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let created: Value = resp.json().await.unwrap();
    let (status, found) = fx
        .get(
            "auth.passage.id",
            &format!("/v1/apps/{app}/users?identifier=proxied%40example.com"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["user"]["id"], created["user"]["id"]);

    // The list's links name the host and prefix the request came through.
    let (_, page) = fx
        .get("api.passage.id", &format!("/v1/apps/{app}/users?limit=1"))
        .await;
    let href = page["_links"]["self"]["href"].as_str().unwrap();
    assert!(
        href.starts_with(&format!("api.passage.id/v1/apps/{app}/users?")),
        "{href}"
    );

    // The request log names proxied requests by their path on the emulator's listener.
    let paths: Vec<String> = fx.emulator.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        [
            format!("/v1/apps/{app}"),
            format!("/management/v1/apps/{app}"),
            format!("/management/v1/apps/{app}/users"),
            format!("/v1/apps/{app}/users"),
            format!("/management/v1/apps/{app}/users"),
        ]
    );
    // The exchange recorder keeps them the same way, so the conformance check sees each against
    // its own API's spec, with the request as the client sent it.
    let exchanges = fx.emulator.exchanges();
    let recorded: Vec<&str> = exchanges.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(recorded, paths);
    assert!(exchanges[1]
        .request_header("host")
        .is_some_and(|h| h.starts_with("api.passage.id")));
    assert_eq!(fx.emulator.tally().checked, paths.len());
}

#[tokio::test]
async fn the_admin_api_the_ui_and_the_other_prefix_are_not_served() {
    let fx = start().await;
    let app = fx.app().to_owned();
    for host in ["auth.passage.id", "api.passage.id"] {
        for path in [
            "/_emulator/health".to_owned(),
            "/_emulator/apps".to_owned(),
            "/_emulator/ui".to_owned(),
            format!("/management/v1/apps/{app}/users"),
        ] {
            let (status, body) = fx.get(host, &path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{host}{path}");
            assert_eq!(
                body["code"], "invalid_request",
                "{host}{path}: a JSON error"
            );
        }
    }
    // Without the key, api.passage.id refuses as the Management API does.
    let resp = fx
        .client
        .get(format!("https://api.passage.id/v1/apps/{app}/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn faults_behave_the_same_through_the_proxy() {
    let fx = start().await;
    let app = fx.app().to_owned();
    for (prefix, host) in [
        (format!("/v1/apps/{app}"), "auth.passage.id"),
        (format!("/management/v1/apps/{app}"), "api.passage.id"),
    ] {
        fx.emulator.inject_fault(FaultRule {
            path_prefix: prefix.clone(),
            method: None,
            count: 1,
            kind: FaultKind::DropConnection,
            retry_after: None,
            delay_ms: None,
            status: None,
        });
        // The connection closes without an answer (not a 500).
        let dropped = fx
            .client
            .get(format!("https://{host}/v1/apps/{app}"))
            .send()
            .await;
        assert!(
            dropped.is_err(),
            "{host}: {:?}",
            dropped.map(|r| r.status())
        );
        let (status, _) = fx.get(host, &format!("/v1/apps/{app}")).await;
        assert_eq!(status, StatusCode::OK, "{host}: the fault was used once");
        fx.emulator.inject_fault(FaultRule {
            path_prefix: prefix,
            method: None,
            count: 1,
            kind: FaultKind::Status429,
            retry_after: Some(3),
            delay_ms: None,
            status: None,
        });
        let resp = fx
            .client
            .get(format!("https://{host}/v1/apps/{app}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS, "{host}");
        assert_eq!(resp.headers()["retry-after"], "3");
    }
    let statuses: Vec<Option<u16>> = fx
        .emulator
        .requests()
        .into_iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(
        statuses,
        [None, Some(200), Some(429), None, Some(200), Some(429)]
    );
}

#[tokio::test]
async fn shutting_the_emulator_down_stops_its_proxy() {
    let fx = start().await;
    let addr = fx
        .emulator
        .proxy_url()
        .unwrap()
        .trim_start_matches("http://")
        .to_owned();
    fx.emulator.shutdown().await;
    let error = tokio::net::TcpStream::connect(addr).await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused);
}

/// Every file under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[tokio::test]
async fn another_host_is_refused_and_the_ca_key_stays_private_in_the_state_dir() {
    let fx = start().await;
    let before = fx.emulator.requests().len();
    for url in [
        "https://example.com/",
        "https://passage.id/v1/apps",
        "https://auth.passage.id:8443/v1/apps",
    ] {
        let refused = fx.client.get(url).send().await;
        assert!(
            refused.is_err(),
            "{url} must not be served through the proxy"
        );
    }
    assert_eq!(
        fx.emulator.requests().len(),
        before,
        "no refused request reached an API"
    );
    // A Passage host is still served, which makes a leaf certificate: no file appears for it.
    let (status, _) = fx
        .get("auth.passage.id", &format!("/v1/apps/{}", fx.app()))
        .await;
    assert_eq!(status, StatusCode::OK);

    let state_dir = fx.dir.path().join("state");
    let mut files = files_under(fx.dir.path());
    files.sort();
    let key_path = state_dir.join("intercept-ca-key.pem");
    let certificate_path = state_dir.join("intercept-ca.pem");
    assert_eq!(files, vec![key_path.clone(), certificate_path.clone()]);
    assert_eq!(
        fx.emulator.ca_certificate_path(),
        Some(certificate_path.as_path()),
        "clients are handed the certificate, never the key"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode =
            |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode(&key_path),
            0o600,
            "the CA key is readable by its owner only"
        );
        assert_eq!(mode(&state_dir), 0o700);
    }
}
