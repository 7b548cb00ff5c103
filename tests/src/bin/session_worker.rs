//! Helper process of `tests/multiprocess_session.rs`: opens a [`Session`] on a
//! shared token file and forces a number of rotations, then prints one line
//! of counts (`rotations=N expired=N failed=N`) and exits 0 only when every
//! rotation succeeded.
//!
//! Usage: `session_worker <base_url> <app_id> <token_file> <rotations>`.

use std::time::Duration;

use passage_auth_client::{ClientBuilder, FileStore, Session, SessionError};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base_url, app_id, token_file, rotations] = args.as_slice() else {
        eprintln!("usage: session_worker <base_url> <app_id> <token_file> <rotations>");
        std::process::exit(2);
    };
    let rotations: u32 = rotations.parse().expect("rotations is a number");
    let client = ClientBuilder::new()
        .base_url(base_url)
        .build()
        .expect("client builds");
    // A skew longer than any token's life: every call refreshes, so every
    // call is one forced rotation of the shared pair.
    let session = Session::builder(client, app_id.as_str())
        .store(FileStore::new(token_file))
        .refresh_skew(Duration::from_secs(1_000_000))
        .build();
    let (mut done, mut expired, mut failed) = (0u32, 0u32, 0u32);
    for _ in 0..rotations {
        match session.auth_token().await {
            Ok(_) => done += 1,
            Err(SessionError::SessionExpired | SessionError::NotSignedIn) => expired += 1,
            Err(e) => {
                eprintln!("refresh failed: {e}");
                failed += 1;
            }
        }
    }
    println!("rotations={done} expired={expired} failed={failed}");
    if done != rotations {
        std::process::exit(1);
    }
}
