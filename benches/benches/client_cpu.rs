//! The generated client's CPU cost per call against raw reqwest + serde, by the CPU time of the
//! one thread that runs both the client and the server.
//!
//! A current-thread tokio runtime runs a fixed in-process server (`get_app`: the fixture body;
//! `get_jwks`: a JWKS) and the two clients: the generated client and, for the raw side, the same
//! GET written by hand on the generated client's own `reqwest::Client` (same pool, same
//! connection settings), decoding into the same types. Everything a call costs, on both ends of
//! the connection, runs on that thread, so its CPU time (`CLOCK_THREAD_CPUTIME_ID`) is the call's
//! CPU cost, undisturbed by what else the machine runs; the wall time of the same rounds is
//! printed beside it. `--rounds` paired rounds (default 41) of `--calls` calls per side (default
//! 1 000: rounds of ~30 ms, long enough that a preemption or another process's cache traffic
//! weighs little in one round), alternating which side goes first; the median round's ratio is
//! reported.
//! Goal: generated / raw <= 1.03 by CPU time, for both calls.
//!
//! `--profile raw|generated --call get_app|get_jwks --calls N`: no rounds, 100 warm-up calls then
//! N calls of one side, for `valgrind --tool=callgrind` (instruction counts of each side).

use passage_benches::client_calls::{
    clients, generated_get, generated_jwks, raw_get, raw_jwks, start, Call, Server,
};
use passage_benches::thread_cpu::{paired_rounds, Paired};
use passage_benches::{arg, report, Figure, Goal};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn server_of(call: Call) -> Server {
    match call {
        Call::GetApp => Server::FixedApp,
        Call::GetJwks => Server::FixedJwks,
    }
}

/// Paired rounds of `call` by hand and through the generated client.
fn measure(call: Call, rounds: usize, calls: usize) -> Paired {
    let rt = runtime();
    let (base, app_id, _emulator) = rt.block_on(start(server_of(call)));
    let (generated, http) = clients(&base);
    let (base, app_id) = (base.as_str(), app_id.as_str());
    match call {
        Call::GetApp => {
            assert_eq!(
                rt.block_on(generated_get(&generated, app_id)),
                rt.block_on(raw_get(&http, base, app_id))
            );
            paired_rounds(
                rounds,
                calls,
                || drop(rt.block_on(raw_get(&http, base, app_id))),
                || drop(rt.block_on(generated_get(&generated, app_id))),
            )
        }
        Call::GetJwks => {
            assert_eq!(
                rt.block_on(generated_jwks(&generated, app_id)),
                rt.block_on(raw_jwks(&http, base, app_id))
            );
            paired_rounds(
                rounds,
                calls,
                || drop(rt.block_on(raw_jwks(&http, base, app_id))),
                || drop(rt.block_on(generated_jwks(&generated, app_id))),
            )
        }
    }
}

/// `--profile`: one side only, for an instruction-level profile.
fn profile(side: &str, call: Call, calls: usize) {
    let rt = runtime();
    let (base, app_id, _emulator) = rt.block_on(start(server_of(call)));
    let (generated, http) = clients(&base);
    let (base, app_id) = (base.as_str(), app_id.as_str());
    eprintln!(
        "future sizes: raw get {} bytes, get_app().send() {} bytes, get_jwks().send() {} bytes",
        std::mem::size_of_val(&raw_get(&http, base, app_id)),
        std::mem::size_of_val(&generated.get_app().app_id(app_id).send()),
        std::mem::size_of_val(&generated.get_jwks().app_id(app_id).send()),
    );
    eprintln!(
        "sizes: Request {}, Response {}, GetAppResponse {}, JwkResponse {}, ResponseValue<GetAppResponse> {}, Error {}",
        std::mem::size_of::<reqwest::Request>(),
        std::mem::size_of::<reqwest::Response>(),
        std::mem::size_of::<passage_auth_client::types::GetAppResponse>(),
        std::mem::size_of::<passage_auth_client::types::JwkResponse>(),
        std::mem::size_of::<passage_auth_client::ResponseValue<passage_auth_client::types::GetAppResponse>>(),
        std::mem::size_of::<passage_auth_client::Error>(),
    );
    rt.block_on(async {
        for _ in 0..calls + 100 {
            match (side, call) {
                ("raw", Call::GetApp) => drop(raw_get(&http, base, app_id).await),
                ("raw", Call::GetJwks) => drop(raw_jwks(&http, base, app_id).await),
                ("generated", Call::GetApp) => drop(generated_get(&generated, app_id).await),
                ("generated", Call::GetJwks) => drop(generated_jwks(&generated, app_id).await),
                (other, _) => panic!("--profile {other:?}: raw or generated"),
            }
        }
    });
}

fn call_named(name: &str) -> Call {
    match name {
        "get_app" => Call::GetApp,
        "get_jwks" => Call::GetJwks,
        other => panic!("--call {other:?}: get_app or get_jwks"),
    }
}

fn main() {
    let calls: usize = arg("--calls").unwrap_or(1000);
    if let Some(side) = arg::<String>("--profile") {
        let call = call_named(&arg::<String>("--call").unwrap_or_else(|| "get_app".into()));
        profile(&side, call, calls);
        return;
    }
    let rounds: usize = arg("--rounds").unwrap_or(41);
    for (key, name, call) in [
        ("client.cpu.get_app", "get_app", Call::GetApp),
        ("client.cpu.get_jwks", "get_jwks", Call::GetJwks),
    ] {
        let m = measure(call, rounds, calls);
        println!(
            "{name}: CPU {:.2} µs raw, {:.2} µs generated per call: {:.4}x (rounds {:.3}–{:.3}); wall {:.4}x ({:.2} µs raw)",
            m.baseline_cpu_us,
            m.candidate_cpu_us,
            m.cpu_ratio,
            m.cpu_range.0,
            m.cpu_range.1,
            m.wall_ratio,
            m.baseline_wall_us
        );
        let what = format!(
            "Generated client vs raw reqwest + serde on its own `reqwest::Client`, `{name}`: CPU time of the one thread running client and fixed server, per call ({rounds} paired rounds of {calls} calls)"
        );
        report(&Figure {
            key,
            what: &what,
            measured: format!(
                "{:.3}x ({:.1} µs vs {:.1} µs of CPU; rounds {:.3}–{:.3}; wall time {:.3}x)",
                m.cpu_ratio,
                m.candidate_cpu_us,
                m.baseline_cpu_us,
                m.cpu_range.0,
                m.cpu_range.1,
                m.wall_ratio
            ),
            value: Some(m.cpu_ratio),
            bound: "raw reqwest + serde".into(),
            goal: Goal::at_most(1.03),
        });
    }
}
