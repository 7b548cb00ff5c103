//! Two OS processes share one token file (`FileStore`) and rotate its refresh token 100 times
//! between them, against the emulator over real HTTP: the file lock and the re-read before each
//! refresh mean no process ever presents a token the other one spent.
//!
//! The emulator runs without a reuse grace window, so a single spent token presented would be a
//! reuse detection: a 401 in the request log, the whole family revoked, and a worker reporting
//! `SessionExpired`.

use std::process::Stdio;

use passage_auth_client::{FileStore, StoredTokens, TokenStore};
use passage_e2e::harness::TestEnv;
use passage_emulator::{AppConfig, EmulatorConfig};

const WORKERS: usize = 2;
const ROTATIONS_EACH: u32 = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_one_token_file_through_100_rotations() {
    let env = TestEnv::with_config(EmulatorConfig {
        apps: vec![AppConfig {
            refresh_reuse_grace_seconds: 0,
            ..AppConfig::default()
        }],
        ..EmulatorConfig::default()
    })
    .await;
    let auth = env.register_by_otp("two-processes@example.com").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tokens.json");
    let store = FileStore::new(&path);
    store
        .save(&StoredTokens::from_auth_result(&auth))
        .await
        .expect("save the signed-in pair");

    let children: Vec<_> = (0..WORKERS)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_session_worker"))
                .arg(env.emulator.base_url())
                .arg(&env.app_id)
                .arg(&path)
                .arg(ROTATIONS_EACH.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("the worker starts")
        })
        .collect();
    let mut reports = Vec::new();
    for child in children {
        let out = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .expect("the waiting task")
            .expect("the worker ends");
        let report = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert!(
            out.status.success(),
            "worker failed: {report} / {}",
            String::from_utf8_lossy(&out.stderr)
        );
        reports.push(report);
    }
    let expected = format!("rotations={ROTATIONS_EACH} expired=0 failed=0");
    assert_eq!(reports, vec![expected; WORKERS], "0 SessionExpired");

    // The emulator saw exactly 100 rotations, every one answered 201: no 401, so no reuse
    // detection and no revoked family.
    let path_tokens = env.api_path("/tokens");
    let statuses: Vec<Option<u16>> = env
        .emulator
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == path_tokens)
        .map(|r| r.status)
        .collect();
    let total = WORKERS * ROTATIONS_EACH as usize;
    assert_eq!(statuses.len(), total, "one POST /tokens per rotation");
    let refused = statuses.iter().filter(|s| **s != Some(201)).count();
    assert_eq!(refused, 0, "reuse detections or failures: {statuses:?}");
    println!("{total} rotations across {WORKERS} processes: 0 SessionExpired, {refused} reuse detections");

    // The pair left in the file is the live one: its refresh token still rotates.
    let last = store.load().await.expect("load").expect("a pair is stored");
    let refreshed = env
        .direct_client()
        .refresh_auth_token()
        .app_id(&env.app_id)
        .body(
            passage_auth_client::types::RefreshAuthTokenRequest::builder().refresh_token(
                passage_auth_client::SecretValue::new(
                    passage_auth_client::SecretValue::expose_secret(
                        last.refresh_token.as_ref().expect("a refresh token"),
                    ),
                ),
            ),
        )
        .send()
        .await;
    assert!(refreshed.is_ok(), "the stored refresh token is live");
}
