//! The exchange recorder keeps each API request whole (query, headers, body) with its answer, for
//! failure reports that show a client's request and the emulator's answer, without changing what
//! the handlers receive or answer.

use passage_conformance::CheckedEmulator;
use passage_emulator::{EmulatorConfig, DEFAULT_APP_ID};
use reqwest::StatusCode;

#[tokio::test]
async fn requests_are_recorded_whole_with_their_answers() {
    let emulator = CheckedEmulator::start(EmulatorConfig {
        max_body_bytes: 4096,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts");
    let http = reqwest::Client::new();
    let path = format!("/v1/apps/{DEFAULT_APP_ID}/register/otp");
    let body = r#"{"identifier":"recorded@example.com"}"#;
    let resp = http
        .post(format!("{}{path}?probe=1", emulator.root_url()))
        .header("content-type", "application/json")
        .header("user-agent", "recorder-test/1")
        .header("passage-version", "recorder-test")
        .header("cookie", "psg_auth_token=cookie-value")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let answer = resp.text().await.unwrap();
    // Over the limit: the handler's 413, with the recorder reading the body first.
    let too_big = http
        .post(format!("{}{path}", emulator.root_url()))
        .header("content-type", "application/json")
        .body(format!(r#"{{"identifier":"{}"}}"#, "a".repeat(8000)))
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // An operation that reads no body answers as it would without the recorder.
    let get_with_body = http
        .get(format!("{}/v1/apps/{DEFAULT_APP_ID}", emulator.root_url()))
        .body("x".repeat(8000))
        .send()
        .await
        .unwrap();
    assert_eq!(get_with_body.status(), StatusCode::OK);

    let exchanges = emulator.exchanges();
    assert_eq!(exchanges.len(), 3, "{exchanges:?}");
    let first = &exchanges[0];
    assert_eq!(
        (first.method.as_str(), first.path.as_str()),
        ("POST", path.as_str())
    );
    assert_eq!(first.query.as_deref(), Some("probe=1"));
    assert_eq!(
        first.request_header("Content-Type"),
        Some("application/json")
    );
    assert_eq!(first.request_header("user-agent"), Some("recorder-test/1"));
    assert_eq!(
        first.request_header("passage-version"),
        Some("recorder-test")
    );
    assert_eq!(
        first.request_header("cookie"),
        Some("psg_auth_token=cookie-value")
    );
    assert_eq!(first.request_body_text(), body);
    assert_eq!(first.status, Some(201));
    assert_eq!(first.body_text(), answer);
    let shown = format!("{first:?}");
    assert!(
        !shown.contains("cookie-value") && !shown.contains("recorded@example.com"),
        "{shown}"
    );
    assert_eq!(exchanges[1].status, Some(413));
    assert!(exchanges[1].request_body.is_empty());
    // Reading them did not take them from the check, and a second read sees the same.
    assert_eq!(emulator.exchanges(), exchanges);
    assert_eq!(exchanges[2].status, Some(200));
    assert_eq!(emulator.tally().checked, 3);
}
