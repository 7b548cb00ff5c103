//! Serving for other people's CI: graceful shutdown, body limits, the command line.

use passage_conformance::CheckedEmulator;
use passage_emulator::{EmulatorConfig, FaultKind, FaultRule, DEFAULT_APP_ID};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn shutdown_finishes_the_request_in_flight() {
    let emulator = CheckedEmulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let path = format!("/v1/apps/{DEFAULT_APP_ID}");
    emulator.inject_fault(FaultRule {
        path_prefix: path.clone(),
        method: Some("GET".into()),
        count: 1,
        kind: FaultKind::Delay,
        retry_after: None,
        delay_ms: Some(400),
        status: None,
    });
    let url = format!("{}/apps/{DEFAULT_APP_ID}", emulator.base_url());
    let in_flight = tokio::spawn(async move { reqwest::get(url).await });
    // The fault is taken when the request reaches the emulator: from then on it is in flight.
    while !emulator.admin().faults().await.unwrap().is_empty() {
        tokio::task::yield_now().await;
    }
    let root = emulator.root_url().to_owned();
    emulator.shutdown().await;
    let resp = in_flight
        .await
        .unwrap()
        .expect("the in-flight request was answered");
    assert_eq!(resp.status(), StatusCode::OK);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["app"]["id"], DEFAULT_APP_ID);
    // After shutdown nothing listens any more.
    assert!(reqwest::get(format!("{root}/_emulator/health"))
        .await
        .is_err());
}

#[tokio::test]
async fn over_size_bodies_get_413() {
    let emulator = CheckedEmulator::start(EmulatorConfig {
        max_body_bytes: 4096,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts");
    let url = format!("{}/apps/{DEFAULT_APP_ID}/login/otp", emulator.base_url());
    let client = reqwest::Client::new();
    let big = json!({ "identifier": "a@example.com", "language": "x".repeat(8192) });
    let resp = client.post(&url).json(&big).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "invalid_request");
    // Just under the limit is read (and refused for its content, not its size).
    let small = json!({ "identifier": "a@example.com", "language": "x".repeat(1024) });
    let resp = client.post(&url).json(&small).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let too_small = EmulatorConfig {
        max_body_bytes: 10,
        ..EmulatorConfig::default()
    };
    assert!(CheckedEmulator::start(too_small).await.is_err());
}

#[test]
fn help_documents_every_flag() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_passage-emulator"))
        .arg("--help")
        .output()
        .expect("the binary runs");
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--listen",
        "--config",
        "--state-file",
        "--seed",
        "--admin-token",
        "--help",
        "--version",
    ] {
        assert!(
            help.contains(flag),
            "--help does not mention {flag}:\n{help}"
        );
    }
    assert!(help.contains("127.0.0.1:8787"), "{help}");
    let version = std::process::Command::new(env!("CARGO_BIN_EXE_passage-emulator"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8(version.stdout)
        .unwrap()
        .contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn binary_serves_the_config_files_listen_address_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};
    // A free port, then released for the binary to bind.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("emulator.toml");
    std::fs::write(&config, format!("listen = \"127.0.0.1:{port}\"\n")).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_passage-emulator"))
        .arg("--config")
        .arg(&config)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let banner: Vec<String> = lines.by_ref().take(2).map(Result::unwrap).collect();
    assert!(
        banner[1].contains(&format!("127.0.0.1:{port}/v1")),
        "{banner:?}"
    );
    let status = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
}
