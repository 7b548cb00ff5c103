//! Helper process of `tests/multiprocess_session.rs`: opens a [`Session`] on a
//! shared token file and forces a number of rotations, then prints one line
//! of counts (`rotations=N expired=N failed=N foreign=N`) and exits 0 only when
//! every rotation succeeded.
//!
//! `foreign` counts the refreshes for which this worker's session found, under
//! the file's lock, a pair the *other* process had written (the session logs
//! each such adoption at DEBUG; the worker counts those events): proof that the
//! two processes rotated the same pair in turns, not one after the other. To make sure they do, the worker prints
//! `ready` once its session has read the signed-in pair and `first` after its first
//! rotation, and waits for a line on its standard input after each: the test
//! answers only when both workers got there, so both rotate once before either
//! rotates twice.
//!
//! Usage: `session_worker <base_url> <app_id> <token_file> <rotations>`.

use std::io::BufRead;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

use passage_auth_client::{ClientBuilder, FileStore, Session, SessionError};

/// The session's DEBUG message when it finds a pair rotated by someone else.
const ADOPTED: &str = "the store holds a pair rotated elsewhere; using it";

/// Counts the session's adoptions of a pair another process wrote.
struct CountAdoptions(Arc<AtomicU32>);

impl<S: tracing::Subscriber> Layer<S> for CountAdoptions {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        struct Message(bool);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" && format!("{value:?}") == ADOPTED {
                    self.0 = true;
                }
            }
        }
        let mut message = Message(false);
        event.record(&mut message);
        if message.0 {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base_url, app_id, token_file, rotations] = args.as_slice() else {
        eprintln!("usage: session_worker <base_url> <app_id> <token_file> <rotations>");
        std::process::exit(2);
    };
    let rotations: u32 = rotations.parse().expect("rotations is a number");
    let adoptions = Arc::new(AtomicU32::new(0));
    let subscriber = tracing_subscriber::registry().with(
        CountAdoptions(adoptions.clone())
            .with_filter(tracing_subscriber::filter::LevelFilter::DEBUG),
    );
    tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
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
    // The session reads the signed-in pair now, so both workers start from it.
    assert!(session.is_signed_in().await.expect("the token file reads"));
    wait_for_the_test("ready");
    for n in 0..rotations {
        if n == 1 {
            wait_for_the_test("first");
        }
        match session.auth_token().await {
            Ok(_) => done += 1,
            Err(SessionError::SessionExpired | SessionError::NotSignedIn) => expired += 1,
            Err(e) => {
                eprintln!("refresh failed: {e}");
                failed += 1;
            }
        }
    }
    let foreign = adoptions.load(Ordering::Relaxed);
    println!("rotations={done} expired={expired} failed={failed} foreign={foreign}");
    if done != rotations {
        std::process::exit(1);
    }
}

/// Tells the test this worker reached `step` and waits for its go-ahead.
fn wait_for_the_test(step: &str) {
    println!("{step}");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .expect("the test's go-ahead");
}
