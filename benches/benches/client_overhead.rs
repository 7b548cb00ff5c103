//! Per-call overhead of the generated client (hooks, retry wrapper, tracing
//! span, typed decode) against raw reqwest + serde for the same GET to the
//! same loopback server, decoding into the same `GetAppResponse`:
//! a minimal in-process server returning a fixed body, and the emulator.
//! Goal: generated / raw <= 1.05.

use bytes::Bytes;
use criterion::{criterion_group, Criterion};
use passage_auth_client::{types, Client, ClientBuilder};
use passage_emulator::{Emulator, EmulatorConfig};

const BODY: &str = include_str!("../fixtures/get_app.json");

async fn raw_get(http: &reqwest::Client, url: &str) -> types::GetAppResponse {
    let bytes = http
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .expect("send")
        .bytes()
        .await
        .expect("body");
    serde_json::from_slice(&bytes).expect("decode")
}

async fn generated_get(client: &Client, app_id: &str) -> types::GetAppResponse {
    client
        .get_app()
        .app_id(app_id)
        .send()
        .await
        .expect("call")
        .into_inner()
}

fn overhead(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let origin = rt.block_on(passage_benches::fixed_json_server(Bytes::from_static(
        BODY.as_bytes(),
    )));
    let emulator = rt
        .block_on(Emulator::start(EmulatorConfig::default()))
        .expect("emulator");

    let targets = [
        ("get_app_fixed_server", format!("{origin}/v1"), "bench-app"),
        (
            "get_app_emulator",
            emulator.base_url(),
            emulator.default_app_id(),
        ),
    ];
    for (group_name, base, app_id) in targets {
        let generated = ClientBuilder::new()
            .base_url(&base)
            .build()
            .expect("generated client");
        // The raw side uses the generated client's own reqwest::Client (same pool, same settings).
        let http = passage_auth_client::ClientInfo::client(&generated).clone();
        let url = format!("{base}/apps/{app_id}");
        // Both sides decode into the same type: the comparison is the client's overhead.
        rt.block_on(async {
            let a = generated_get(&generated, app_id).await;
            let b = raw_get(&http, &url).await;
            assert_eq!(a.app.id, app_id);
            assert_eq!(a, b);
        });

        let mut group = c.benchmark_group(group_name);
        group.bench_function("raw_reqwest_serde", |b| {
            b.to_async(&rt).iter(|| raw_get(&http, &url))
        });
        group.bench_function("generated_client", |b| {
            b.to_async(&rt).iter(|| generated_get(&generated, app_id))
        });
        group.finish();

        let ratio = passage_benches::interleaved_ratio(
            25,
            200,
            || {
                rt.block_on(raw_get(&http, &url));
            },
            || {
                rt.block_on(generated_get(&generated, app_id));
            },
        );
        println!("{group_name}: {ratio}");

        // Where the difference comes from: the same comparison without the retry wrapper.
        let no_retry = generated.with_retry_policy(passage_auth_client::RetryPolicy::none());
        let ratio = passage_benches::interleaved_ratio(
            25,
            200,
            || {
                rt.block_on(raw_get(&http, &url));
            },
            || {
                rt.block_on(generated_get(&no_retry, app_id));
            },
        );
        println!("{group_name} (generated without retries): {ratio}");
    }
}

/// `OVERHEAD_PROFILE=raw|generated|generated_no_retry cargo bench ... --bench client_overhead`:
/// no criterion, just 100 warm-up calls and `OVERHEAD_CALLS` (default 2000) calls of one variant
/// against the fixed server on a single-threaded runtime, for instruction-level profiles
/// (`valgrind --tool=callgrind`) and CPU-time comparisons of each side.
fn profile_loop(variant: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let origin = rt.block_on(passage_benches::fixed_json_server(Bytes::from_static(
        BODY.as_bytes(),
    )));
    let base = format!("{origin}/v1");
    let url = format!("{base}/apps/bench-app");
    let generated = ClientBuilder::new()
        .base_url(&base)
        .build()
        .expect("generated client");
    let http = passage_auth_client::ClientInfo::client(&generated).clone();
    let no_retry = generated.with_retry_policy(passage_auth_client::RetryPolicy::none());
    eprintln!(
        "future sizes: raw_get {} bytes, generated get_app().send() {} bytes",
        std::mem::size_of_val(&raw_get(&http, &url)),
        std::mem::size_of_val(&generated.get_app().app_id("bench-app").send()),
    );
    let calls: usize = std::env::var("OVERHEAD_CALLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    rt.block_on(async {
        for i in 0..calls + 100 {
            let app = match variant {
                "raw" => raw_get(&http, &url).await,
                "generated" => generated_get(&generated, "bench-app").await,
                "generated_no_retry" => generated_get(&no_retry, "bench-app").await,
                other => panic!("unknown OVERHEAD_PROFILE variant {other:?}"),
            };
            std::hint::black_box(app);
            if i == 99 {
                eprintln!("warm-up done");
            }
        }
    });
}

criterion_group!(benches, overhead);

fn main() {
    if let Ok(variant) = std::env::var("OVERHEAD_PROFILE") {
        profile_loop(&variant);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
