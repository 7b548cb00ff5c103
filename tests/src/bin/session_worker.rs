//! Helper process of `tests/multiprocess_session.rs`: opens a [`Session`] on a
//! shared token file and forces a number of rotations, then prints one line
//! of counts (`rotations=N expired=N failed=N foreign=N`) and exits 0 only when
//! every rotation succeeded.
//!
//! `foreign` counts the rotations that started from a pair the *other*
//! process had written (the file held a pair this worker did not produce):
//! proof that the two processes rotated the same pair in turns, not one after
//! the other. To make sure they do, the worker prints `first` after its first
//! rotation and waits for a line on its standard input before the others: the
//! test releases both workers only when both have rotated once.
//!
//! Usage: `session_worker <base_url> <app_id> <token_file> <rotations>`.

use std::io::BufRead;
use std::time::Duration;

use passage_auth_client::{
    ClientBuilder, FileStore, Session, SessionError, StoredTokens, TokenStore,
};

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
    let observer = FileStore::new(token_file);
    let (mut done, mut expired, mut failed, mut foreign) = (0u32, 0u32, 0u32, 0u32);
    // The pair this worker wrote last.
    let mut mine: Option<StoredTokens> = None;
    for n in 0..rotations {
        if n == 1 {
            // Both workers have rotated once when the test answers.
            println!("first");
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .expect("the test's go-ahead");
        }
        let before = observer.load().await.expect("the token file reads");
        if let (Some(before), Some(mine)) = (&before, &mine) {
            if !before.same_as(mine) {
                foreign += 1;
            }
        }
        match session.auth_token().await {
            Ok(_) => done += 1,
            Err(SessionError::SessionExpired | SessionError::NotSignedIn) => expired += 1,
            Err(e) => {
                eprintln!("refresh failed: {e}");
                failed += 1;
            }
        }
        mine = session.store().load().await.expect("the token file reads");
    }
    println!("rotations={done} expired={expired} failed={failed} foreign={foreign}");
    if done != rotations {
        std::process::exit(1);
    }
}
