//! The check can fail: a real emulator's non-conforming answers (a fault's undeclared status, a
//! path no operation has, a wrong body) make `assert_conformant` and the final check at drop
//! panic, and a test that announces what it does passes.

use std::panic::{catch_unwind, AssertUnwindSafe};

use passage_conformance::CheckedEmulator;
use passage_emulator::{EmulatorConfig, Exchange, FaultKind, FaultRule};

async fn start() -> CheckedEmulator {
    CheckedEmulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts")
}

fn gateway_page(app_path: &str) -> FaultRule {
    FaultRule {
        path_prefix: app_path.to_owned(),
        method: Some("GET".into()),
        count: 1,
        kind: FaultKind::NonJsonBody,
        retry_after: None,
        delay_ms: None,
        status: Some(502),
    }
}

/// The message of the panic `f` raised, or `None` when it did not panic.
fn panic_message(f: impl FnOnce()) -> Option<String> {
    let payload = catch_unwind(AssertUnwindSafe(f)).err()?;
    Some(
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default(),
    )
}

#[tokio::test]
async fn an_injected_status_the_operation_does_not_declare_fails_unless_announced() {
    let emulator = start().await;
    let app_path = format!("/v1/apps/{}", emulator.default_app_id());
    emulator.inject_fault(gateway_page(&app_path));
    let status = reqwest::get(format!("{}{app_path}", emulator.root_url()))
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 502);
    let message = panic_message(|| emulator.assert_conformant()).expect("the check fails");
    assert!(
        message.contains("get_app answered 502") && message.contains("injected fault"),
        "{message}"
    );
    // The same fault, announced: a fault answer, left out.
    emulator.allow_undeclared_fault_status(502);
    emulator.inject_fault(gateway_page(&app_path));
    reqwest::get(format!("{}{app_path}", emulator.root_url()))
        .await
        .unwrap();
    emulator.assert_conformant();
    assert_eq!(emulator.tally().fault_answers, 1);
}

#[tokio::test]
async fn the_final_check_fails_on_a_path_no_operation_has_and_on_a_wrong_body() {
    let emulator = start().await;
    let status = reqwest::get(format!("{}/v1/nowhere", emulator.root_url()))
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 404);
    // A wrong body, as a broken handler would send it (the recorder is the server's own).
    emulator.exchange_recorder().record(Exchange::new(
        "GET",
        format!("/v1/apps/{}", emulator.default_app_id()),
        Some(200),
        Some("application/json".into()),
        br#"{"app":{"id":42}}"#.to_vec(),
        None,
    ));
    let message = panic_message(move || drop(emulator)).expect("dropping it fails the test");
    assert!(message.contains("GET /v1/nowhere"), "{message}");
    assert!(message.contains("no operation"), "{message}");
    assert!(
        message.contains("get_app answered 200: at `/app/id`"),
        "{message}"
    );
    // The answers are named by operation, status and place, never by a value of the body.
    assert!(!message.contains("42"), "{message}");
}

#[tokio::test]
async fn an_announced_unknown_route_passes_and_one_never_sent_fails() {
    let emulator = start().await;
    emulator.expect_no_operation("GET", "/v1/nowhere");
    reqwest::get(format!("{}/v1/nowhere", emulator.root_url()))
        .await
        .unwrap();
    emulator.assert_conformant();
    assert_eq!(emulator.tally().expected_no_operation, 1);
    drop(emulator);

    let emulator = start().await;
    emulator.expect_no_operation("GET", "/v1/never-sent");
    let message = panic_message(move || drop(emulator)).expect("an announced request must come");
    assert!(message.contains("never sent"), "{message}");
}
