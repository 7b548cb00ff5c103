//! Soak: full load on the emulator for `--soak-secs` seconds (default 60), reporting the process's
//! resident memory after the warm-up and at the end. 32 clients repeat OTP logins and 32 repeat
//! refreshes; a background task moves the emulator clock 60 s forward every second, so that in a
//! 10-minute soak every kind of record (passcodes, refresh tokens, sessions) passes its lifetime
//! and the retention after it many times over: with pruning, memory stays flat.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use passage_auth_client::{types, Client, ClientBuilder, RetryPolicy, SecretValue};
use passage_benches::{arg, otp_sign_in, report, Figure, Goal};
use passage_emulator::{Emulator, EmulatorConfig};

const CLIENTS: usize = 64;
/// Emulator seconds the clock moves forward each real second.
const CLOCK_STEP_SECONDS: i64 = 60;

/// Resident set size of this process, in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let secs: f64 = arg("--soak-secs").unwrap_or(60.0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let emulator = Arc::new(
        rt.block_on(Emulator::start(EmulatorConfig::default()))
            .expect("emulator"),
    );
    let app_id: Arc<str> = emulator.default_app_id().into();
    let users: Vec<(Client, String, Mutex<SecretValue>)> = (0..CLIENTS)
        .map(|i| {
            let client = ClientBuilder::new()
                .base_url(emulator.base_url())
                .retry_policy(RetryPolicy::none())
                .build()
                .expect("client");
            let identifier = format!("soak{i}@bench.test");
            let auth = rt.block_on(otp_sign_in(&client, &emulator, &app_id, &identifier, true));
            let refresh = Mutex::new(auth.refresh_token.expect("refresh token"));
            (client, identifier, refresh)
        })
        .collect();
    let users = Arc::new(users);
    let flows = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));

    let run = |until: Instant| {
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|k| {
                let (users, emulator, id, flows) = (
                    users.clone(),
                    emulator.clone(),
                    app_id.clone(),
                    flows.clone(),
                );
                rt.spawn(async move {
                    let (client, identifier, refresh) = &users[k];
                    while Instant::now() < until {
                        if k % 2 == 0 {
                            otp_sign_in(client, &emulator, &id, identifier, false).await;
                        } else {
                            let current = refresh.lock().expect("token").clone();
                            let auth: types::AuthResult = client
                                .refresh_auth_token()
                                .app_id(&*id)
                                .body(
                                    types::RefreshAuthTokenRequest::builder()
                                        .refresh_token(current),
                                )
                                .send()
                                .await
                                .expect("refresh")
                                .into_inner()
                                .auth_result;
                            *refresh.lock().expect("token") = auth.refresh_token.expect("rotated");
                        }
                        flows.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        rt.block_on(async {
            for t in tasks {
                t.await.expect("soak task");
            }
        });
    };
    let ticker = {
        let (emulator, stop) = (emulator.clone(), stop.clone());
        rt.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_secs(1)).await;
                emulator.advance_clock(CLOCK_STEP_SECONDS);
            }
        })
    };

    // Warm-up: 10 % of the soak, and at least two fill times. A record is pruned its lifetime
    // plus the emulator's retention after it was made (the fill time, in soak seconds at the
    // clock's speed): after one fill time the live set is at its steady size, after two the
    // memory freed by the first pruned records has been reused, so the allocator's footprint is
    // steady too, and the start figure measures the steady state rather than the filling.
    let app = passage_emulator::AppConfig::default();
    let longest_lifetime = app
        .otp_ttl_seconds
        .max(app.magic_link_ttl_seconds)
        .max(app.auth_token_ttl_seconds);
    let fill_secs = (longest_lifetime + passage_emulator::domain::pruning::RETENTION_SECONDS)
        as f64
        / CLOCK_STEP_SECONDS as f64;
    let warm_up = (secs / 10.0).max(2.0 * fill_secs + 5.0);
    println!("warm-up {warm_up:.0} s (the live set fills for {fill_secs:.0} s)");
    run(Instant::now() + Duration::from_secs_f64(warm_up));
    let start_rss = rss_kib();
    let start_flows = flows.load(Ordering::Relaxed);
    let start = Instant::now();
    let mut samples = vec![start_rss];
    let step = Duration::from_secs_f64(secs / 10.0);
    for _ in 0..10 {
        run(Instant::now() + step);
        samples.push(rss_kib());
    }
    stop.store(true, Ordering::Relaxed);
    let _ = rt.block_on(ticker);
    let end_rss = rss_kib();
    let done = flows.load(Ordering::Relaxed) - start_flows;
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "soak {elapsed:.0} s: {done} flows ({:.0}/s), emulator clock moved {} s; RSS samples (MiB): {}",
        done as f64 / elapsed,
        CLOCK_STEP_SECONDS * elapsed as i64,
        samples
            .iter()
            .map(|k| format!("{:.1}", *k as f64 / 1024.0))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let growth = end_rss as f64 / start_rss.max(1) as f64;
    report(&Figure {
        key: "soak.rss",
        what: "Soak at full load (64 clients: OTP logins and refreshes; emulator clock +60 s per second), resident memory after warm-up → at the end",
        measured: format!(
            "{:.1} MiB → {:.1} MiB over {elapsed:.0} s ({done} flows)",
            start_rss as f64 / 1024.0,
            end_rss as f64 / 1024.0
        ),
        value: Some(growth),
        bound: "flat: end / start".into(),
        goal: Goal::at_most(1.1),
    });
}
