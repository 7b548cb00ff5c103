//! The state file's group commit: concurrent mutations all land, and a commit that fails is an
//! error for the requests waiting on it, never a silent loss.

use std::collections::BTreeSet;
use std::path::Path;

use passage_emulator::admin_client::{AdminClient, AdminError, NewUser};
use passage_emulator::{Emulator, EmulatorConfig, EmulatorHandle};

async fn start(path: &Path) -> (EmulatorHandle, AdminClient) {
    let emulator = Emulator::start(EmulatorConfig {
        state_file: Some(path.to_owned()),
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts");
    let admin = AdminClient::connect(emulator.root_url()).expect("admin client");
    (emulator, admin)
}

async fn stored_emails(path: &Path) -> BTreeSet<String> {
    let (emulator, admin) = start(path).await;
    let users = admin.users(emulator.default_app_id()).await.expect("users");
    emulator.shutdown().await;
    users.into_iter().map(|u| u.email).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_mutations_all_land() {
    const USERS: usize = 200;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.db");
    let (emulator, admin) = start(&path).await;
    let app_id = emulator.default_app_id().to_owned();
    let mut creations = tokio::task::JoinSet::new();
    for i in 0..USERS {
        let (admin, app_id) = (admin.clone(), app_id.clone());
        creations.spawn(async move {
            let email = format!("concurrent{i}@commit.test");
            let created = admin
                .create_user(&app_id, &NewUser::new(email.clone()))
                .await
                .expect("user created");
            assert_eq!(created.email, email);
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
    let (emulator, admin) = start(&path).await;
    let app_id = emulator.default_app_id().to_owned();
    let create = |email: &'static str| {
        let (admin, app_id) = (admin.clone(), app_id.clone());
        async move { admin.create_user(&app_id, &NewUser::new(email)).await }
    };
    create("before@commit.test").await.expect("first user");

    // Another connection holds the file's write lock: the emulator's commit times out (SQLite's
    // busy timeout) and fails.
    let other = rusqlite::Connection::open(&path).expect("second connection");
    other
        .execute_batch("BEGIN IMMEDIATE")
        .expect("write lock taken");
    match create("failed@commit.test").await {
        Err(AdminError::Api { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (500, "internal_server_error"));
        }
        other => panic!("expected a 500 while the file is locked, got {other:?}"),
    }
    drop(other); // rolls back and releases the lock

    // The next commit writes the failed mutation's change (kept in memory) with its own.
    create("after@commit.test").await.expect("user after");
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
