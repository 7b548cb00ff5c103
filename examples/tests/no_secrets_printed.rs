//! The examples narrate every step on stdout: none of it may show a secret. Runs the examples
//! against one in-process emulator, then checks everything they printed (the process-wide
//! [`passage_examples::steps::transcript`]; this file is its own process, so it holds only these
//! runs) against the secrets the emulator sent and the shapes of the tokens it issued.
//!
//! `passkey_login` is left out: it prints the credential id, which is public but is a long
//! base64url string that the token-shape check below would flag.

use passage_e2e::conformance::CheckedEmulator;
use passage_emulator::EmulatorConfig;
use passage_examples::steps::transcript;
use passage_examples::{
    axum_service, long_lived_session, magic_link_login, manage_users, otp_login, Target,
};

/// Auth tokens (JWTs) and refresh tokens (43 base64url characters) are base64url runs at least
/// this long; nothing the examples print on purpose is.
const TOKEN_LIKE_RUN: usize = 40;

fn is_base64url(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_examples_print_no_secret() {
    let checked = CheckedEmulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let target = Target::with_emulator(checked.shared());
    let otp = otp_login::run(&target).await.expect("otp_login runs");
    let link = magic_link_login::run(&target)
        .await
        .expect("magic_link_login runs");
    let session = long_lived_session::run(&target)
        .await
        .expect("long_lived_session runs");
    axum_service::run(&target).await.expect("axum_service runs");
    let managed = manage_users::run(&target).await.expect("manage_users runs");
    assert_eq!(
        session.refreshes_for_concurrent_callers,
        Some(1),
        "the session example refreshed (so refreshed tokens were issued)"
    );

    let printed = transcript();
    assert!(
        printed.contains("got a 6-digit passcode") && printed.contains("user:   link activated"),
        "the transcript holds the examples' narration:\n{printed}"
    );

    // What the emulator sent: passcodes and magic links.
    let emulator = target.emulator().expect("emulated");
    let identifiers = [
        otp.identifier.as_str(),
        link.identifier.as_str(),
        "hopper@example.com",
        "alan@example.com",
        managed.identifier.as_str(),
    ];
    let (mut passcodes, mut links) = (Vec::new(), Vec::new());
    for identifier in identifiers {
        for message in emulator.outbox(identifier) {
            passcodes.extend(message.otp);
            links.extend(message.magic_link_secret);
            links.extend(message.magic_link_url);
        }
    }
    assert_eq!(
        passcodes.len(),
        4,
        "otp_login, long_lived_session, axum_service and manage_users were each sent one passcode"
    );
    assert_eq!(links.len(), 2, "one magic link (secret and URL) was sent");
    // manage_users' back end made a link of its own (not sent): its secret and URL count too.
    links.extend(
        managed
            .magic_link
            .iter()
            .map(|secret| secret.expose_secret().to_owned()),
    );
    assert!(
        !printed.contains(passage_emulator::DEFAULT_API_KEY),
        "the Management API key was printed"
    );

    // A passcode is a run of digits: compare whole digit runs, so that a passcode appearing by
    // chance inside a longer number (a timestamp) is not mistaken for it.
    let digit_runs: Vec<&str> = printed
        .split(|c: char| !c.is_ascii_digit())
        .filter(|run| !run.is_empty())
        .collect();
    for (i, passcode) in passcodes.iter().enumerate() {
        assert!(
            !digit_runs.contains(&passcode.as_str()),
            "passcode #{i} was printed"
        );
    }
    for (i, secret) in links.iter().enumerate() {
        assert!(
            !printed.contains(secret.as_str()),
            "magic-link secret or URL #{i} was printed"
        );
    }

    // Tokens: a JWT's header and claims both start with `eyJ` (base64url of `{"`), and every
    // token is a long base64url run.
    assert!(!printed.contains("eyJ"), "a JWT (auth token) was printed");
    for (line_no, line) in printed.lines().enumerate() {
        let longest = line
            .split(|c: char| !is_base64url(c))
            .map(str::len)
            .max()
            .unwrap_or(0);
        assert!(
            longest < TOKEN_LIKE_RUN,
            "line {line_no} of the transcript holds a token-like run of {longest} characters"
        );
    }
}
