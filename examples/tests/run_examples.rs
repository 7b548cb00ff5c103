//! Runs every example against an in-process emulator and checks what it did.

use passage_e2e::conformance::CheckedEmulator;
use passage_emulator::EmulatorConfig;
use passage_examples::{
    axum_service, long_lived_session, magic_link_login, manage_users, otp_login, passkey_login,
    Target,
};
use passage_management_client::open_enums::UserStatus;

/// An emulator whose every answer is checked against the specs (when the checker is dropped, at
/// the end of the test), and the examples' target on it.
async fn emulator() -> (CheckedEmulator, Target) {
    let checked = CheckedEmulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let target = Target::with_emulator(checked.shared());
    (checked, target)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otp_login_registers_signs_in_and_signs_out() {
    let (_checked, target) = emulator().await;
    let outcome = otp_login::run(&target).await.expect("example runs");
    assert!(outcome.registered, "a fresh emulator has no account yet");
    assert_eq!(outcome.email, "ada@example.com");
    assert_eq!(outcome.token_subject, outcome.user_id);
    assert!(outcome.signed_out);
    assert_eq!(target.request_count("DELETE", "/tokens"), Some(1));

    // A second run logs the now-existing user in instead of registering.
    let again = otp_login::run(&target).await.expect("example runs again");
    assert!(!again.registered);
    assert_eq!(again.user_id, outcome.user_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn magic_link_login_waits_while_the_user_activates() {
    let (_checked, target) = emulator().await;
    let outcome = magic_link_login::run(&target).await.expect("example runs");
    assert!(outcome.activated_here);
    assert!(
        outcome.pending_polls >= 1,
        "the waiter saw the link pending before the user opened it"
    );
    assert_eq!(
        target.request_count("PATCH", "/magic-link/activate"),
        Some(1)
    );
    let status_polls = target
        .request_count("POST", "/magic-link/status")
        .expect("emulator");
    assert_eq!(status_polls, outcome.pending_polls as usize + 1);
    assert!(outcome.user_id.starts_with("usr_"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passkey_login_registers_and_signs_in_with_the_passkey() {
    let (_checked, target) = emulator().await;
    let outcome = passkey_login::run(&target).await.expect("example runs");
    assert_eq!(outcome.login_user_id, outcome.user_id);
    assert_eq!(outcome.discoverable_user_id, outcome.user_id);
    assert_eq!(outcome.devices, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_lived_session_refreshes_once_per_expiry() {
    let (_checked, target) = emulator().await;
    let outcome = long_lived_session::run(&target)
        .await
        .expect("example runs");
    assert_eq!(outcome.expired_token_status, Some(401));
    assert!(outcome.refreshed_expiry > outcome.first_expiry);
    assert_eq!(outcome.refreshes_after_first, Some(1));
    assert_eq!(outcome.refreshes_for_concurrent_callers, Some(1));
    assert_eq!(outcome.distinct_tokens_for_concurrent_callers, Some(1));
    assert_eq!(target.request_count("POST", "/tokens"), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_service_protects_its_route_and_stops() {
    let (_checked, target) = emulator().await;
    let outcome = axum_service::run(&target).await.expect("example runs");
    assert_eq!(outcome.without_token.status, 401);
    assert_eq!(outcome.without_token.challenge.as_deref(), Some("Bearer"));
    assert_eq!(outcome.tampered_token.status, 401);
    assert_eq!(
        outcome.tampered_token.challenge.as_deref(),
        Some(r#"Bearer error="invalid_token""#)
    );
    assert_eq!(
        outcome.tampered_token.body,
        serde_json::Value::Null,
        "a refusal says nothing about why"
    );
    assert_eq!(outcome.with_token.len(), 2);
    for answer in outcome.with_token.iter().chain([&outcome.with_cookie]) {
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body["user_id"], outcome.user_id.as_str());
    }
    assert!(outcome.user_id.starts_with("usr_"));
    assert_eq!(
        outcome.jwks_fetches,
        Some(1),
        "the verifier caches the keys"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manage_users_creates_signs_in_manages_and_deletes_a_user() {
    let (_checked, target) = emulator().await;
    let outcome = manage_users::run(&target).await.expect("example runs");
    assert_eq!(outcome.identifier, "katherine@example.com");
    // A user made by the back end waits for their first sign-in (Passage's `pending`).
    assert_eq!(outcome.status_after_create, UserStatus::Pending);
    assert_eq!(outcome.token_user_id, outcome.created_id);
    assert_eq!(outcome.status_after_sign_in, UserStatus::Active);
    // A fresh emulator: the example's user is the only active one.
    assert_eq!(outcome.active_users_listed, 1);
    assert!(outcome.magic_link_signed_in);
    assert_eq!(
        outcome.refresh_after_revoke.as_deref(),
        Some("invalid_refresh_token")
    );
    assert_eq!(
        outcome.currentuser_after_deactivate.as_deref(),
        Some("user_not_active")
    );
    assert!(outcome.gone_after_delete);
    let management = |method: &str, suffix: &str| {
        target
            .emulator()
            .expect("emulated")
            .requests()
            .iter()
            .filter(|r| {
                r.method == method
                    && r.path.starts_with("/management/v1/")
                    && r.path.ends_with(suffix)
            })
            .count()
    };
    assert_eq!(management("POST", "/users"), 1);
    assert_eq!(management("DELETE", "/tokens"), 1);
    assert_eq!(management("PATCH", "/deactivate"), 1);
    assert_eq!(management("POST", "/magic-links"), 1);
}
