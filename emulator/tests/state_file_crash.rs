//! The state file survives the emulator being killed (SIGKILL) in the middle of a load: every
//! write the emulator acknowledged is there after a restart.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

struct Running {
    child: Child,
    base_url: String,
    app_id: String,
}

/// Starts the emulator binary on a free port with `state_file`; returns once it listens.
fn start(state_file: &Path) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_passage-emulator"))
        .args(["--listen", "127.0.0.1:0", "--state-file"])
        .arg(state_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("emulator starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let (mut base_url, mut app_id) = (None, None);
    while base_url.is_none() || app_id.is_none() {
        let line = lines.next().expect("emulator output").expect("line");
        if let Some(url) = line.trim().strip_prefix("Auth API base URL:") {
            base_url = Some(url.trim().to_owned());
        } else if let Some(app) = line.trim().strip_prefix("app:") {
            app_id = Some(app.trim().to_owned());
        }
    }
    Running {
        child,
        base_url: base_url.expect("base url"),
        app_id: app_id.expect("app id"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_write_survives_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.db");
    let mut emulator = start(&path);
    let users_url = format!("{}/apps/{}/users", emulator.base_url, emulator.app_id);
    let http = reqwest::Client::new();

    // 8 writers create users as fast as they can; each 201 is an acknowledged write.
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let enough = Arc::new(tokio::sync::Notify::new());
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let (http, url) = (http.clone(), users_url.clone());
            let (acknowledged, count, enough) =
                (acknowledged.clone(), count.clone(), enough.clone());
            tokio::spawn(async move {
                for i in 0.. {
                    let identifier = format!("w{w}-{i}@crash.test");
                    let sent = http
                        .post(&url)
                        .json(&serde_json::json!({ "identifier": identifier }))
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status() == 201 => {
                            acknowledged.lock().unwrap().push(identifier);
                            if count.fetch_add(1, Ordering::SeqCst) + 1 == 300 {
                                enough.notify_one();
                            }
                        }
                        Ok(r) => panic!("unexpected status {}", r.status()),
                        // The process was killed: the request was not acknowledged.
                        Err(_) => break,
                    }
                }
            })
        })
        .collect();
    enough.notified().await;
    emulator.child.kill().expect("SIGKILL"); // `Child::kill` sends SIGKILL on Unix
    emulator.child.wait().expect("killed");
    for w in writers {
        w.await.expect("writer");
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 300);

    let mut restarted = start(&path);
    let check_url = format!("{}/apps/{}/users", restarted.base_url, restarted.app_id);
    for identifier in &acknowledged {
        let body: serde_json::Value = http
            .get(&check_url)
            .query(&[("identifier", identifier)])
            .send()
            .await
            .expect("check")
            .json()
            .await
            .expect("json");
        assert!(
            body["user"].is_object(),
            "acknowledged user {identifier} is missing after the restart"
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path)
            .expect("state file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the state file is private");
    }
    restarted.child.kill().expect("stop");
    let _ = restarted.child.wait();
}
