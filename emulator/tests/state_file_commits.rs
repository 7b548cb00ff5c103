//! The state file's group commit: concurrent mutations all land, and a commit that fails is an
//! error for the requests waiting on it, never a silent loss.

use std::collections::BTreeSet;
use std::path::Path;

mod support;

use passage_conformance::CheckedEmulator;
use passage_emulator::EmulatorConfig;
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::Management;

async fn start(path: &Path) -> (CheckedEmulator, Management) {
    let emulator = CheckedEmulator::start(EmulatorConfig {
        state_file: Some(path.to_owned()),
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts");
    let management = Management::new(&emulator);
    (emulator, management)
}

async fn stored_emails(path: &Path) -> BTreeSet<String> {
    let (emulator, management) = start(path).await;
    let users = management.users().await;
    emulator.shutdown().await;
    users
        .into_iter()
        .map(|u| u["email"].as_str().expect("email").to_owned())
        .collect()
}

/// Creates a user with `email` through the Management API: the status and error code.
async fn create(management: &Management, email: &str) -> (StatusCode, String) {
    let (status, body) = management
        .call(Method::POST, "/users", Some(json!({ "email": email })))
        .await;
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_mutations_all_land() {
    const USERS: usize = 200;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.db");
    let (emulator, management) = start(&path).await;
    let mut creations = tokio::task::JoinSet::new();
    for i in 0..USERS {
        let management = management.clone();
        creations.spawn(async move {
            let email = format!("concurrent{i}@commit.test");
            let created = management.create_user(json!({ "email": email })).await;
            assert_eq!(created["email"], email.as_str());
            email
        });
    }
    let mut acknowledged = BTreeSet::new();
    while let Some(email) = creations.join_next().await {
        acknowledged.insert(email.expect("creation task"));
    }
    assert_eq!(acknowledged.len(), USERS);
    emulator.shutdown().await;

    assert_eq!(stored_emails(&path).await, acknowledged);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_is_a_500_and_its_change_is_written_by_the_next_commit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.db");
    let (emulator, management) = start(&path).await;
    assert_eq!(
        create(&management, "before@commit.test").await.0,
        StatusCode::CREATED
    );

    // Another connection holds the file's write lock: the emulator's commit times out (SQLite's
    // busy timeout) and fails.
    let other = rusqlite::Connection::open(&path).expect("second connection");
    other
        .execute_batch("BEGIN IMMEDIATE")
        .expect("write lock taken");
    assert_eq!(
        create(&management, "failed@commit.test").await,
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_server_error".to_owned()
        ),
        "a 500 while the file is locked"
    );
    drop(other); // rolls back and releases the lock

    // The next commit writes the failed mutation's change (kept in memory) with its own.
    assert_eq!(
        create(&management, "after@commit.test").await.0,
        StatusCode::CREATED
    );
    emulator.shutdown().await;
    let stored = stored_emails(&path).await;
    for email in [
        "before@commit.test",
        "failed@commit.test",
        "after@commit.test",
    ] {
        assert!(stored.contains(email), "{email} is missing: {stored:?}");
    }
}
