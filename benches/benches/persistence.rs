//! The `--state-file` against the in-memory emulator, and against itself with many stored users.
//! Three emulators run in this process: in memory with 1 000 seeded users, with a state file and
//! 1 000 users, with a state file and 100 000 users. In each round, 64 concurrent clients (per
//! emulator, each with its own user) repeat the OTP login flow against each emulator in turn for
//! `--secs` seconds (default 3); the order alternates (memory, small, large in even rounds, the
//! reverse in odd ones), so that neither side of a ratio always runs first; `--rounds` rounds
//! (default 4), the median ratio reported.
//! Goals: with a state file >= 0.8x without; 100 000 users >= 0.9x 1 000 users (flat).

use std::sync::Arc;
use std::time::{Duration, Instant};

use passage_auth_client::{Client, ClientBuilder, RetryPolicy};
use passage_benches::{arg, flows_per_second, median, otp_sign_in, report, Figure, Goal};
use passage_emulator::settings::{NewUser, SeedUser};
use passage_emulator::{Emulator, EmulatorConfig, EmulatorHandle};

const CLIENTS: usize = 64;

struct Target {
    emulator: Arc<EmulatorHandle>,
    app_id: Arc<str>,
    users: Arc<Vec<(Client, String)>>,
}

fn target(
    rt: &tokio::runtime::Runtime,
    state_file: Option<std::path::PathBuf>,
    seeded: usize,
) -> Target {
    let mut config = EmulatorConfig {
        state_file,
        ..EmulatorConfig::default()
    };
    config.seed.users = (0..seeded)
        .map(|i| SeedUser {
            app_id: None,
            user: NewUser::new(format!("stored{i}@bench.test")),
        })
        .collect();
    let started = Instant::now();
    let emulator = Arc::new(rt.block_on(Emulator::start(config)).expect("emulator"));
    println!(
        "emulator with {seeded} users started in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let app_id: Arc<str> = emulator.default_app_id().into();
    let users = (0..CLIENTS)
        .map(|i| {
            let client = ClientBuilder::new()
                .base_url(emulator.base_url())
                .retry_policy(RetryPolicy::none())
                .build()
                .expect("client");
            let identifier = format!("bench{i}@bench.test");
            rt.block_on(otp_sign_in(&client, &emulator, &app_id, &identifier, true));
            (client, identifier)
        })
        .collect();
    Target {
        emulator,
        app_id,
        users: Arc::new(users),
    }
}

fn otp_rate(rt: &tokio::runtime::Runtime, t: &Target, window: Duration) -> f64 {
    let (emulator, app_id, users) = (t.emulator.clone(), t.app_id.clone(), t.users.clone());
    rt.block_on(flows_per_second(CLIENTS, window, move |k| {
        let (emulator, app_id, users) = (emulator.clone(), app_id.clone(), users.clone());
        async move {
            let (client, identifier) = &users[k];
            otp_sign_in(client, &emulator, &app_id, identifier, false).await;
        }
    }))
}

fn main() {
    let window = Duration::from_secs_f64(arg("--secs").unwrap_or(3.0));
    let rounds: usize = arg("--rounds").unwrap_or(4);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let memory = target(&rt, None, 1_000);
    let small = target(&rt, Some(dir.path().join("small.db")), 1_000);
    let large = target(&rt, Some(dir.path().join("large.db")), 100_000);

    let (mut m, mut s, mut l) = (vec![], vec![], vec![]);
    let (mut file_ratio, mut flat_ratio) = (vec![], vec![]);
    for round in 0..rounds {
        let mut rates = [0.0; 3];
        let mut order = [0, 1, 2];
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            rates[i] = otp_rate(&rt, [&memory, &small, &large][i], window);
        }
        m.push(rates[0]);
        s.push(rates[1]);
        l.push(rates[2]);
        file_ratio.push(s[round] / m[round]);
        flat_ratio.push(l[round] / s[round]);
        println!(
            "round {round} ({}): OTP flows/s in memory {:.0}, state file 1 000 users {:.0}, state file 100 000 users {:.0}",
            if round % 2 == 0 { "memory first" } else { "100 000 users first" },
            m[round], s[round], l[round]
        );
    }
    let (file, flat) = (median(&file_ratio), median(&flat_ratio));
    report(&Figure {
        key: "persistence.state_file",
        what: "OTP login flows/s with `--state-file` (SQLite, 1 000 users) vs in memory (1 000 users), 64 clients, same run",
        measured: format!("{file:.2}x ({:.0} vs {:.0} flows/s)", median(&s), median(&m)),
        value: Some(file),
        bound: "in memory".into(),
        goal: Goal::at_least(0.8),
    });
    report(&Figure {
        key: "persistence.flat",
        what: "Same with a state file holding 100 000 users vs 1 000 users",
        measured: format!(
            "{flat:.2}x ({:.0} vs {:.0} flows/s)",
            median(&l),
            median(&s)
        ),
        value: Some(flat),
        bound: "1 000 users (flat)".into(),
        goal: Goal::at_least(0.9),
    });
}
