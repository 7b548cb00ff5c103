//! Two OS processes share one token file (`FileStore`) and rotate its refresh token 100 times
//! between them, against the emulator over real HTTP: the file lock and the re-read before each
//! refresh mean no process ever presents a token the other one spent.
//!
//! The emulator runs without a reuse grace window, so a single spent token presented would be a
//! reuse detection: a 401 in the request log, the whole family revoked, and a worker reporting
//! `SessionExpired`.
//!
//! The workers provably rotate in turns: each waits, after its first rotation, until the test has
//! seen both rotate once, and each reports how many of its rotations started from a pair the other
//! process wrote; both counts must be positive.

use std::io::{BufRead, BufReader, Write};
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

    let mut children: Vec<_> = (0..WORKERS)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_session_worker"))
                .arg(env.emulator.base_url())
                .arg(&env.app_id)
                .arg(&path)
                .arg(ROTATIONS_EACH.to_string())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("the worker starts")
        })
        .collect();
    // Each worker reads the signed-in pair (`ready`), then rotates once (`first`); at each step
    // the test lets them go on only when every worker got there.
    let mut outputs: Vec<BufReader<std::process::ChildStdout>> = children
        .iter_mut()
        .map(|c| BufReader::new(c.stdout.take().expect("piped stdout")))
        .collect();
    for step in ["ready", "first"] {
        let mut next = Vec::new();
        for mut stdout in outputs {
            let (line, stdout) = tokio::task::spawn_blocking(move || {
                let mut line = String::new();
                stdout.read_line(&mut line).map(|_| (line, stdout))
            })
            .await
            .expect("the reading task")
            .expect("the worker's line");
            assert_eq!(line.trim(), step, "the worker reached {step}");
            next.push(stdout);
        }
        outputs = next;
        for child in &mut children {
            writeln!(child.stdin.as_mut().expect("piped stdin"), "go").expect("the go-ahead");
        }
    }
    let mut reports = Vec::new();
    for (child, mut stdout) in children.into_iter().zip(outputs) {
        let (status, report, stderr) = tokio::task::spawn_blocking(move || {
            let mut report = String::new();
            stdout.read_line(&mut report).expect("the report line");
            let out = child.wait_with_output().expect("the worker ends");
            (
                out.status,
                report,
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        })
        .await
        .expect("the waiting task");
        let report = report.trim().to_owned();
        assert!(status.success(), "worker failed: {report} / {stderr}");
        reports.push(report);
    }
    // Each worker rotated pairs the other had written: they took turns on the one file.
    let mut foreign = Vec::new();
    for report in &mut reports {
        let (counts, seen) = report.rsplit_once(" foreign=").expect("a foreign= count");
        foreign.push(seen.parse::<u32>().expect("a number"));
        *report = counts.to_owned();
    }
    assert!(
        foreign.iter().all(|n| *n > 0),
        "each worker rotated a pair the other wrote: {foreign:?}"
    );
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
    println!("{total} rotations across {WORKERS} processes: 0 SessionExpired, {refused} reuse detections, pairs adopted from the other process: {foreign:?}");

    // The pair left in the file is the live one: its refresh token still rotates.
    let last = store.load().await.expect("load").expect("a pair is stored");
    let refreshed = env
        .client
        .clone()
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
