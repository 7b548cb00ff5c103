//! Per-call overhead of the generated client (hooks, retry wrapper, tracing
//! span, typed decode) against raw reqwest + serde for the same GET to the
//! same loopback server returning the same fixed `GetAppResponse`.
//! Goal: generated / raw <= 1.05.

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use passage_auth_client::{types, ClientBuilder};

const BODY: &str = include_str!("../fixtures/get_app.json");

fn overhead(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let origin = rt.block_on(passage_benches::fixed_json_server(Bytes::from_static(BODY.as_bytes())));
    let base = format!("{origin}/v1");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let generated = ClientBuilder::new()
        .base_url(&base)
        .http_client(http.clone())
        .build()
        .expect("generated client");
    // Both sides decode into the same type: the comparison is the client's overhead.
    rt.block_on(async {
        let app = generated.get_app().app_id("bench-app").send().await.expect("generated call");
        assert_eq!(app.app.id, "bench-app");
    });

    let mut group = c.benchmark_group("get_app_fixed_server");
    group.bench_function("raw_reqwest_serde", |b| {
        b.to_async(&rt).iter(|| async {
            let bytes = http
                .get(format!("{base}/apps/bench-app"))
                .header(reqwest::header::ACCEPT, "application/json")
                .send()
                .await
                .expect("send")
                .bytes()
                .await
                .expect("body");
            let app: types::GetAppResponse = serde_json::from_slice(&bytes).expect("decode");
            app
        })
    });
    group.bench_function("generated_client", |b| {
        b.to_async(&rt).iter(|| async {
            generated
                .get_app()
                .app_id("bench-app")
                .send()
                .await
                .expect("call")
                .into_inner()
        })
    });
    group.finish();
}

criterion_group!(benches, overhead);
criterion_main!(benches);
