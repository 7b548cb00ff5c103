//! Passage's Rust SDK for Passkey Flex, `passage_flex` 1.0.2 from crates.io, unmodified, against the
//! emulator: the SDK runs in a child process (`tests/sdk/rust`, built by its `setup.sh`) and calls
//! `https://api.passage.id` as it always does, through the emulator's intercepting proxy. Between its
//! calls the test plays the front end (the Auth API's transaction ceremonies with a software
//! authenticator) and hands the SDK the nonces. Every value checked is one the test chose or read
//! itself: from the authenticator, or from the emulator through our own Management client.
//!
//! `passage_flex` 1.0.2 has no "get app" call (its public API is `PassageFlex::{auth, user}`: three
//! transaction and nonce calls, and get user, list devices, revoke device), so there is no such step.
//!
//! Without the built step runner (`bash tests/sdk/rust/setup.sh`) the suite fails, or with
//! `PASSAGE_SKIP_SDK_RUST=1` outside CI reports itself skipped (`passage_e2e::skip`).

use std::path::PathBuf;
use std::time::Instant;

use passage_e2e::authenticator::SoftAuthenticator;
use passage_e2e::flex_ceremony;
use passage_e2e::flex_steps::{self, FlexSdk};
use passage_e2e::harness::TestEnv;
use passage_e2e::skip::missing_requirement;
use passage_emulator::settings::InterceptConfig;
use passage_emulator::{EmulatorConfig, DEFAULT_API_KEY};
use passage_management_client::UsersExt;
use serde_json::json;

const ORIGIN: &str = "https://app.passage.test";

/// An emulator with its intercepting proxy (the CA in `state`), and the clients of `TestEnv`.
async fn start(state: &tempfile::TempDir) -> TestEnv {
    TestEnv::with_config(EmulatorConfig {
        intercept: Some(InterceptConfig {
            listen: "127.0.0.1:0".parse().expect("an address"),
            state_dir: state.path().join("state"),
        }),
        ..EmulatorConfig::default()
    })
    .await
}

/// The built step runner, or `None` when the suite skips ([`missing_requirement`]: only outside
/// CI, with `PASSAGE_SKIP_SDK_RUST=1`).
fn runner() -> Option<PathBuf> {
    flex_steps::executable()
        .map_err(|why| {
            missing_requirement(
                "the passage_flex suite",
                "PASSAGE_SKIP_SDK_RUST",
                &why,
                "`bash .ci/setup` builds it.",
            )
        })
        .ok()
}

#[tokio::test]
async fn passage_flex_runs_the_flex_flow_through_the_proxy() {
    let Some(runner) = runner() else { return };
    let state = tempfile::tempdir().expect("a state directory");
    let env = start(&state).await;
    let app = env.app_id.clone();
    let started = Instant::now();
    let mut sdk = FlexSdk::start(&runner, &env.emulator, &app, DEFAULT_API_KEY).await;
    let spawned = started.elapsed();
    let mut authenticator = SoftAuthenticator::new(ORIGIN);
    let external_id = "rust-flex-0001";
    let display_name = "ada@rust-flex.example";
    let mut timings = Vec::new();
    macro_rules! timed {
        ($name:expr, $e:expr) => {{
            let t0 = Instant::now();
            let out = $e;
            timings.push(($name, t0.elapsed()));
            out
        }};
    }

    // Registration: the back end (the SDK) opens it, the front end runs the ceremony.
    let transaction = timed!(
        "create_register_transaction",
        sdk.step(
            &env.emulator,
            json!({"step": "create_register_transaction", "external_id": external_id,
                   "passkey_display_name": display_name}),
        )
        .await
    );
    let transaction = transaction.as_str().expect("a transaction id").to_owned();
    assert!(
        env.emulator.requests().iter().any(|r| r.method == "POST"
            && r.path == format!("/management/v1/apps/{app}/transactions/register")
            && r.status == Some(200)),
        "the SDK's call reached the emulator's Management API\n{}",
        sdk.diagnostics(Some((&env.emulator, 0)))
    );
    let pending = env
        .management
        .find_user_by_identifier(&app, external_id)
        .await
        .expect("find")
        .unwrap_or_else(|| {
            panic!(
                "the emulator holds a user with the external id\n{}",
                sdk.diagnostics(Some((&env.emulator, 0)))
            )
        });
    assert_eq!(
        serde_json::to_value(&pending.status).unwrap(),
        "pending",
        "a new Flex user is pending until the ceremony"
    );
    assert!(pending.webauthn_devices.is_empty());
    // The transaction id the SDK returned is one the emulator opened: its ceremony runs.
    let (nonce, user) =
        flex_ceremony::register(&env.client, &app, &mut authenticator, &transaction).await;
    assert_eq!(
        user["name"], display_name,
        "the passkey carries the SDK's display name"
    );

    // Verifying: a nonce never issued is refused, the ceremony's verifies once, to the external id.
    sdk.step_fails(
        &env.emulator,
        json!({"step": "verify_nonce", "nonce": "not-a-nonce-of-this-app"}),
        "InvalidNonce",
    )
    .await;
    let verified = timed!(
        "verify_nonce",
        sdk.step(
            &env.emulator,
            json!({"step": "verify_nonce", "nonce": nonce.expose_secret()}),
        )
        .await
    );
    assert_eq!(verified, external_id);
    // a nonce verifies once
    sdk.step_fails(
        &env.emulator,
        json!({"step": "verify_nonce", "nonce": nonce.expose_secret()}),
        "InvalidNonce",
    )
    .await;

    // The user by external id, as the emulator has them (read with our own client).
    let ours = env
        .management
        .find_user_by_identifier(&app, external_id)
        .await
        .expect("find")
        .expect("the Flex user");
    let theirs = timed!(
        "get_user",
        sdk.step(
            &env.emulator,
            json!({"step": "get_user", "external_id": external_id}),
        )
        .await
    );
    assert_eq!(theirs["id"], ours.id.as_str());
    assert_eq!(theirs["external_id"], ours.external_id.as_str());
    assert_eq!(
        theirs["status"],
        serde_json::to_value(&ours.status).unwrap()
    );
    assert_eq!(theirs["webauthn"], ours.webauthn);
    assert_eq!(theirs["login_count"], ours.login_count);
    assert_eq!(
        theirs["webauthn_devices"][0]["id"],
        ours.webauthn_devices[0].id.as_str()
    );
    assert_eq!(
        theirs["webauthn_devices"][0]["cred_id"],
        authenticator.credential_ids()[0].as_str(),
        "the device is the authenticator's credential"
    );

    // Authentication: the SDK opens it, the front end asserts with the passkey.
    let transaction = timed!(
        "create_authenticate_transaction",
        sdk.step(
            &env.emulator,
            json!({"step": "create_authenticate_transaction", "external_id": external_id}),
        )
        .await
    );
    let transaction = transaction.as_str().expect("a transaction id").to_owned();
    let nonce =
        flex_ceremony::authenticate(&env.client, &app, &mut authenticator, &transaction).await;
    assert_eq!(
        sdk.step(
            &env.emulator,
            json!({"step": "verify_nonce", "nonce": nonce.expose_secret()}),
        )
        .await,
        external_id
    );

    // Devices: listed as the emulator has them, then one revoked.
    let held = env
        .management
        .list_user_devices()
        .app_id(&app)
        .user_id(&ours.id)
        .send()
        .await
        .expect("list_user_devices")
        .into_inner()
        .devices;
    assert_eq!(
        held[0].usage_count,
        ours.webauthn_devices[0].usage_count + 1,
        "the emulator counted the authentication's use of the passkey"
    );
    let devices = timed!(
        "list_devices",
        sdk.step(
            &env.emulator,
            json!({"step": "list_devices", "external_id": external_id}),
        )
        .await
    );
    let devices = devices.as_array().expect("a list").clone();
    assert_eq!(devices.len(), held.len(), "{devices:?}");
    let device_id = devices[0]["id"].as_str().expect("a device id").to_owned();
    assert_eq!(device_id, held[0].id);
    assert_eq!(
        devices[0]["cred_id"],
        authenticator.credential_ids()[0].as_str()
    );
    assert_eq!(devices[0]["usage_count"], held[0].usage_count);
    assert_eq!(devices[0]["friendly_name"], held[0].friendly_name.as_str());
    sdk.step_fails(
        &env.emulator,
        json!({"step": "revoke_device", "external_id": external_id,
                                "device_id": "no-such-device"}),
        "DeviceNotFound",
    )
    .await;
    timed!(
        "revoke_device",
        sdk.step(
            &env.emulator,
            json!({"step": "revoke_device", "external_id": external_id, "device_id": device_id}),
        )
        .await
    );
    let left = env
        .management
        .list_user_devices()
        .app_id(&app)
        .user_id(&ours.id)
        .send()
        .await
        .expect("list_user_devices")
        .into_inner()
        .devices;
    assert!(left.is_empty(), "the device is gone: {left:?}");
    sdk.step_fails(
        &env.emulator,
        json!({"step": "create_authenticate_transaction",
                                "external_id": external_id}),
        "UserHasNoPasskeys",
    )
    .await;
    sdk.step_fails(
        &env.emulator,
        json!({"step": "get_user", "external_id": "nobody-has-this-id"}),
        "UserNotFound",
    )
    .await;

    for (step, took) in &timings {
        eprintln!("passage_flex step {step}: {took:?}");
    }
    eprintln!(
        "passage_flex suite: child started in {spawned:?}, whole flow {:?}",
        started.elapsed()
    );
    env.assert_conformant();
}

#[tokio::test]
async fn passage_flex_with_a_wrong_api_key_is_refused() {
    let Some(runner) = runner() else { return };
    let state = tempfile::tempdir().expect("a state directory");
    let env = start(&state).await;
    let mut sdk = FlexSdk::start(&runner, &env.emulator, &env.app_id, "not-this-apps-key").await;
    sdk.step_fails(
        &env.emulator,
        json!({"step": "create_register_transaction", "external_id": "x",
               "passkey_display_name": "x"}),
        "InvalidAccessToken",
    )
    .await;
    // Nothing was created: the emulator holds no user with that external id.
    assert!(env
        .management
        .find_user_by_identifier(&env.app_id, "x")
        .await
        .expect("find")
        .is_none());
}
