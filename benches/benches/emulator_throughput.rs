//! Emulator throughput: complete OTP-login flows (`POST /login/otp`, read the
//! passcode from the outbox, `POST /otp/activate`, which signs an RS256 JWT)
//! per second, with 64 concurrent clients, each with its own connection pool
//! and user. Client and emulator share this process and its cores.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use passage_auth_client::{Client, ClientBuilder, RetryPolicy};
use passage_benches::otp_sign_in;
use passage_emulator::{Emulator, EmulatorConfig};

const CLIENTS: usize = 64;

fn throughput(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let emulator = Arc::new(
        rt.block_on(Emulator::start(EmulatorConfig::default()))
            .expect("emulator"),
    );
    let app_id = emulator.default_app_id().to_owned();
    let users: Vec<(Client, String)> = (0..CLIENTS)
        .map(|i| {
            let client = ClientBuilder::new()
                .base_url(emulator.base_url())
                .retry_policy(RetryPolicy::none())
                .build()
                .expect("client");
            let identifier = format!("user{i}@bench.test");
            rt.block_on(otp_sign_in(&client, &emulator, &app_id, &identifier, true));
            (client, identifier)
        })
        .collect();
    let users = Arc::new(users);
    let admin = reqwest::Client::new();
    let outbox_url = format!("{}/outbox", emulator.admin_url());

    let mut group = c.benchmark_group("emulator_throughput");
    group.throughput(Throughput::Elements(1));
    group.bench_function("otp_login_flow_64_clients", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                // Keep the outbox small (reading it scans it); not timed.
                admin
                    .delete(&outbox_url)
                    .send()
                    .await
                    .expect("clear outbox");
                let next = Arc::new(AtomicU64::new(0));
                let start = Instant::now();
                let workers: Vec<_> = (0..CLIENTS)
                    .map(|k| {
                        let users = Arc::clone(&users);
                        let emulator = Arc::clone(&emulator);
                        let next = Arc::clone(&next);
                        let app_id = app_id.clone();
                        tokio::spawn(async move {
                            let (client, identifier) = &users[k];
                            while next.fetch_add(1, Ordering::Relaxed) < iters {
                                otp_sign_in(client, &emulator, &app_id, identifier, false).await;
                            }
                        })
                    })
                    .collect();
                for worker in workers {
                    worker.await.expect("worker");
                }
                start.elapsed()
            })
        })
    });
    group.finish();
    let activations = emulator
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/otp/activate") && r.status == Some(200))
        .count();
    println!("successful activations in the request log (last 10000 requests): {activations}");
}

criterion_group!(benches, throughput);
criterion_main!(benches);
