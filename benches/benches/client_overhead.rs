//! Per-call overhead of the generated client (hooks, retry wrapper, tracing
//! span, typed decode) against raw reqwest + serde for the same GET to the
//! same loopback server, decoding into the same `GetAppResponse`:
//! a minimal in-process server returning a fixed body, and the emulator.
//! The same for `get_jwks` (`GET /apps/{app_id}/.well-known/jwks.json` into `JwkResponse`).
//! Both sides start from the same inputs (the base URL and the app id): the raw
//! side formats its URL for each call, as a hand-written call would.
//! Reported beside the CPU-time figures of `client_cpu` (which carry the goal): wall time on a
//! shared machine hides the client's own work behind the server's and the scheduler's.

use criterion::{criterion_group, Criterion};
use passage_auth_client::{types, CredentialsExt};
use passage_benches::client_calls::{
    clients, generated_get, generated_jwks, raw_get, raw_jwks, start, Call, Server,
};

/// Rounds of 200 calls per side in each setup of a reported ratio.
const REPORTED_ROUNDS: usize = 41;

/// Setups per reported ratio. The ratio of one process moves by several percent from one run to
/// the next, while its rounds agree with one another: it depends on how that runtime's threads,
/// the server and the connection land on the two cores. Each setup is a fresh runtime, server and
/// client; the figure is the median setup.
const SETUPS: usize = 5;

/// Rounds for the diagnostic comparisons, which are printed, not reported.
const DIAGNOSTIC_ROUNDS: usize = 25;

/// The raw call built as a `Request` and executed, decoded into a `ResponseValue` (status and
/// headers kept) as the generated code does.
async fn raw_like_generated(
    http: &reqwest::Client,
    base: &str,
    app_id: &str,
) -> types::GetAppResponse {
    let request = http
        .get(format!("{base}/apps/{app_id}"))
        .header(reqwest::header::ACCEPT, "application/json")
        .build()
        .expect("request");
    let response = http.execute(request).await.expect("send");
    passage_auth_client::ResponseValue::<types::GetAppResponse>::from_response::<()>(response)
        .await
        .expect("decode")
        .into_inner()
}

/// The multi-threaded runtime of a measurement: two workers, as the machine has two cores.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// One setup's interleaved ratio: a fresh runtime, server and client.
fn setup_ratio(server: Server, call: Call) -> passage_benches::Interleaved {
    let rt = runtime();
    let (base, app_id, emulator) = rt.block_on(start(server));
    let app_id = app_id.as_str();
    let (generated, http) = clients(&base);
    let ratio = match call {
        Call::GetApp => interleave(
            &rt,
            || raw_get(&http, &base, app_id),
            || generated_get(&generated, app_id),
        ),
        Call::GetJwks => interleave(
            &rt,
            || raw_jwks(&http, &base, app_id),
            || generated_jwks(&generated, app_id),
        ),
    };
    drop(emulator);
    ratio
}

/// Checks that both sides return the same value, then times them in interleaved rounds.
fn interleave<T, R, G>(
    rt: &tokio::runtime::Runtime,
    raw: impl Fn() -> R,
    generated: impl Fn() -> G,
) -> passage_benches::Interleaved
where
    T: PartialEq + std::fmt::Debug,
    R: std::future::Future<Output = T>,
    G: std::future::Future<Output = T>,
{
    assert_eq!(rt.block_on(generated()), rt.block_on(raw()));
    passage_benches::interleaved_ratio(
        REPORTED_ROUNDS,
        200,
        || {
            rt.block_on(raw());
        },
        || {
            rt.block_on(generated());
        },
    )
}

/// Measures `SETUPS` setups, prints each, reports the median one under `key`.
fn report_setups(key: &str, what: &str, server: Server, call: Call) {
    let mut setups: Vec<passage_benches::Interleaved> =
        (0..SETUPS).map(|_| setup_ratio(server, call)).collect();
    for (i, setup) in setups.iter().enumerate() {
        println!("{key} setup {i}: {setup}");
    }
    setups.sort_by(|a, b| a.ratio.total_cmp(&b.ratio));
    let (low, high) = (setups[0].ratio, setups[SETUPS - 1].ratio);
    let median = &setups[SETUPS / 2];
    passage_benches::report(&passage_benches::Figure {
        key,
        what,
        measured: format!(
            "{:.3}x ({:.1} µs vs {:.1} µs raw; {SETUPS} setups {low:.3}–{high:.3})",
            median.ratio, median.candidate_us, median.baseline_us
        ),
        value: Some(median.ratio),
        bound: "raw reqwest + serde (wall time; the goal is by CPU time: `client_cpu`)".into(),
        goal: None,
    });
}

fn overhead(c: &mut Criterion) {
    let rt = runtime();
    for (group_name, server) in [
        ("get_app_fixed_server", Server::FixedApp),
        ("get_app_emulator", Server::Emulator),
    ] {
        let (base, app_id, emulator) = rt.block_on(start(server));
        let app_id = app_id.as_str();
        let (generated, http) = clients(&base);
        // Both sides decode into the same type: the comparison is the client's overhead.
        rt.block_on(async {
            let a = generated_get(&generated, app_id).await;
            let b = raw_get(&http, &base, app_id).await;
            assert_eq!(a.app.id, app_id);
            assert_eq!(a, b);
        });

        let mut group = c.benchmark_group(group_name);
        group.bench_function("raw_reqwest_serde", |b| {
            b.to_async(&rt).iter(|| raw_get(&http, &base, app_id))
        });
        group.bench_function("generated_client", |b| {
            b.to_async(&rt).iter(|| generated_get(&generated, app_id))
        });
        group.finish();

        let ratio = passage_benches::interleaved_ratio(
            DIAGNOSTIC_ROUNDS,
            200,
            || {
                rt.block_on(raw_get(&http, &base, app_id));
            },
            || {
                rt.block_on(generated_get(&generated, app_id));
            },
        );
        println!("{group_name}: {ratio}");

        // Where the difference comes from: the same comparison without the retry wrapper.
        let no_retry = generated.with_retry_policy(passage_auth_client::RetryPolicy::none());
        let ratio = passage_benches::interleaved_ratio(
            DIAGNOSTIC_ROUNDS,
            200,
            || {
                rt.block_on(raw_get(&http, &base, app_id));
            },
            || {
                rt.block_on(generated_get(&no_retry, app_id));
            },
        );
        println!("{group_name} (generated without retries): {ratio}");
        let ratio = passage_benches::interleaved_ratio(
            DIAGNOSTIC_ROUNDS,
            200,
            || {
                rt.block_on(raw_get(&http, &base, app_id));
            },
            || {
                rt.block_on(raw_like_generated(&http, &base, app_id));
            },
        );
        println!("{group_name} (raw built as a Request, decoded into a ResponseValue): {ratio}");
        let ratio = passage_benches::interleaved_ratio(
            DIAGNOSTIC_ROUNDS,
            200,
            || {
                rt.block_on(raw_like_generated(&http, &base, app_id));
            },
            || {
                rt.block_on(generated_get(&no_retry, app_id));
            },
        );
        println!("{group_name} (generated without retries vs raw like generated): {ratio}");
        drop(emulator);
    }
    drop(rt);

    report_setups(
        "client.get_app.fixed",
        "Generated client vs raw reqwest + serde, `get_app`, fixed in-process server (interleaved time ratio)",
        Server::FixedApp,
        Call::GetApp,
    );
    report_setups(
        "client.get_app.emulator",
        "Same, `get_app` against the emulator",
        Server::Emulator,
        Call::GetApp,
    );
    report_setups(
        "client.get_jwks.fixed",
        "Same, `get_jwks`, fixed in-process server",
        Server::FixedJwks,
        Call::GetJwks,
    );
    report_setups(
        "client.get_jwks.emulator",
        "Same, `get_jwks` against the emulator",
        Server::Emulator,
        Call::GetJwks,
    );
}

criterion_group!(benches, overhead);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
