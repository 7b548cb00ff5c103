//! Emulator throughput against its crypto bound, with the emulator as its own process (the
//! release binary, `--emulator-bin`, which `cargo xtask bench` builds) and this process as the load
//! generator: 64 virtual users, each with its own keep-alive HTTP/1.1 connection (a lean one:
//! the request written at once, the answer parsed with `httparse`, no connection task, no pool;
//! `passage_benches::load`) and its own user, on one thread, repeat complete flows:
//!
//! - OTP login: `POST /login/otp`, the passcode read from the admin API's outbox
//!   (`GET /_emulator/outbox?identifier=`), `POST /otp/activate` (one RS256 signature);
//! - refresh: `POST /tokens` with the current refresh token (one signature);
//! - passkey login: `login/webauthn/start`, a soft authenticator's ECDSA P-256 assertion (here, in
//!   the load generator; its CPU time measured apart), `login/webauthn/finish` (the emulator
//!   verifies the P-256 signature and signs one RS256 token).
//!
//! Bounds, measured in the same rounds with the emulator idle: the rate at which aws-lc-rs signs
//! RS256 tokens on 2 threads with the emulator's own signer (OTP login and refresh each sign once),
//! and for passkey logins the rate of one RS256 signature plus one P-256 verification (RustCrypto
//! `p256`, which the emulator's WebAuthn stack uses) on 2 threads. Each round measures the bounds
//! and the flows for `--secs` seconds each (default 3), in an order that alternates between
//! rounds; `--rounds` rounds (default 3); medians of the per-round ratios are reported, with the
//! CPU time per flow of the emulator process and of the load generator.
//! Goals: OTP login flows/s >= 0.6x the sign rate; passkey login flows/s >= 0.5x its crypto bound.
//!
//! `--flows otp,refresh,passkey` runs only the named flows (to profile one of them; the figures
//! of the others are then not reported, so `cargo xtask bench` never passes it).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use p256::ecdsa::signature::{Signer as _, Verifier as _};
use passage_auth_client::{ClientBuilder, RetryPolicy};
use passage_benches::load::{otp_login, passkey_login, process_cpu, refresh, Conn, Target};
use passage_benches::{
    arg, median, passkey_register, report, sign_cpu_us, sign_rate, thread_cpu, Figure, Goal,
    TestKey,
};
use passage_e2e::authenticator::SoftAuthenticator;

const USERS: usize = 64;

/// The emulator's process, stopped when dropped.
struct EmulatorProcess {
    child: Child,
    addr: SocketAddr,
    base_url: String,
    app_id: String,
}

impl EmulatorProcess {
    /// Starts `bin` on a free loopback port and reads its banner (its base URL and app).
    fn start(bin: &str) -> Self {
        let mut child = Command::new(bin)
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            // Its request log (one line per request at the default level) goes nowhere.
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the emulator {bin}: {e}"));
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let (mut base_url, mut app_id) = (None, None);
        while app_id.is_none() {
            let line = lines
                .next()
                .expect("the emulator's banner")
                .expect("stdout");
            if let Some(url) = line.trim().strip_prefix("Auth API base URL:") {
                base_url = Some(url.trim().to_owned());
            } else if let Some(app) = line.trim().strip_prefix("app:") {
                app_id = Some(app.trim().to_owned());
            }
        }
        // Keep reading its stdout so that it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let base_url = base_url.expect("a base URL in the banner");
        let addr = base_url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .and_then(|a| a.parse().ok())
            .expect("the base URL's address");
        EmulatorProcess {
            child,
            addr,
            base_url,
            app_id: app_id.expect("an app"),
        }
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// P-256 ECDSA verifications (SHA-256 included) per second on `threads` threads, with the
/// RustCrypto `p256` crate the emulator's WebAuthn stack verifies with.
fn p256_verify_rate(threads: usize, window: Duration) -> f64 {
    let key = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).expect("a P-256 scalar");
    // An assertion's signed data: authenticator data (37 bytes) and the client data's hash.
    let message = [0x5au8; 69];
    let signature: p256::ecdsa::Signature = key.sign(&message);
    let der = signature.to_der();
    let verifying = *key.verifying_key();
    let start = Instant::now();
    let total: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut n = 0;
                    while start.elapsed() < window {
                        let signature =
                            p256::ecdsa::Signature::from_der(der.as_bytes()).expect("der");
                        verifying.verify(&message, &signature).expect("verifies");
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("verifier"))
            .sum()
    });
    total as f64 / start.elapsed().as_secs_f64()
}

/// What a window of flows measured.
#[derive(Default, Clone, Copy)]
struct Window {
    flows_per_s: f64,
    /// CPU µs per flow of the emulator process.
    emulator_us: f64,
    /// CPU µs per flow of this (load generator) thread.
    generator_us: f64,
    /// CPU µs per flow of the soft authenticator (inside `generator_us`).
    authenticator_us: f64,
}

/// Runs `flow` for every user state in its own task for `window`; returns the states and what was
/// measured. `flow` returns the authenticator's CPU time of the flow (zero for other flows).
fn run_window<S, F, Fut>(
    rt: &tokio::runtime::Runtime,
    pid: u32,
    states: Vec<S>,
    window: Duration,
    flow: F,
) -> (Vec<S>, Window)
where
    S: Send + 'static,
    F: Fn(S) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = (S, Duration)> + Send + 'static,
{
    let (emulator_cpu, generator_cpu) = (process_cpu(pid), thread_cpu::now());
    let start = Instant::now();
    let deadline = start + window;
    let results: Vec<(S, usize, Duration)> = rt.block_on(async {
        let tasks: Vec<_> = states
            .into_iter()
            .map(|state| {
                let flow = flow.clone();
                tokio::spawn(async move {
                    let (mut state, mut n, mut signing) = (state, 0, Duration::ZERO);
                    while Instant::now() < deadline {
                        let (next, spent) = flow(state).await;
                        state = next;
                        signing += spent;
                        n += 1;
                    }
                    (state, n, signing)
                })
            })
            .collect();
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.expect("flow task"));
        }
        results
    });
    let elapsed = start.elapsed().as_secs_f64();
    let (emulator_cpu, generator_cpu) = (
        process_cpu(pid) - emulator_cpu,
        thread_cpu::now() - generator_cpu,
    );
    let flows: usize = results.iter().map(|r| r.1).sum();
    let signing: Duration = results.iter().map(|r| r.2).sum();
    let per_flow = |d: Duration| d.as_secs_f64() * 1e6 / flows.max(1) as f64;
    let window = Window {
        flows_per_s: flows as f64 / elapsed,
        emulator_us: per_flow(emulator_cpu),
        generator_us: per_flow(generator_cpu),
        authenticator_us: per_flow(signing),
    };
    (results.into_iter().map(|r| r.0).collect(), window)
}

type OtpUser = (Conn, Arc<Target>, String);
type RefreshUser = (Conn, Arc<Target>, String);
type PasskeyUser = (Conn, Arc<Target>, String, String, SoftAuthenticator);

#[derive(Clone, Copy, Debug)]
enum Step {
    Sign,
    Verify,
    Otp,
    Refresh,
    Passkey,
}

/// The flows, by the names `--flows` takes.
const FLOWS: [&str; 3] = ["otp", "refresh", "passkey"];

impl Step {
    /// The flow this step runs (`None` for the bounds).
    fn flow(self) -> Option<&'static str> {
        match self {
            Step::Otp => Some(FLOWS[0]),
            Step::Refresh => Some(FLOWS[1]),
            Step::Passkey => Some(FLOWS[2]),
            Step::Sign | Step::Verify => None,
        }
    }
}

fn main() {
    let window = Duration::from_secs_f64(arg("--secs").unwrap_or(3.0));
    let rounds: usize = arg("--rounds").unwrap_or(3);
    let bin: String = arg("--emulator-bin")
        .or_else(|| std::env::var("PASSAGE_EMULATOR_BIN").ok())
        .expect(
            "--emulator-bin PATH (the emulator's release binary; `cargo xtask bench` passes it)",
        );
    let flows: String = arg("--flows").unwrap_or_else(|| FLOWS.join(","));
    for flow in flows.split(',') {
        assert!(
            FLOWS.contains(&flow),
            "--flows: unknown flow {flow:?} (the flows: {})",
            FLOWS.join(",")
        );
    }
    let runs = |flow: &str| flows.split(',').any(|f| f == flow);
    let emulator = EmulatorProcess::start(&bin);
    let pid = emulator.child.id();
    let target = Arc::new(Target {
        addr: emulator.addr,
        app_id: emulator.app_id.clone(),
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");

    // Set-up (not timed): 64 passcode users, 64 users whose refresh tokens rotate, 64 passkey users.
    let client = ClientBuilder::new()
        .base_url(&emulator.base_url)
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("client");
    let auth_origin = rt.block_on(async {
        client
            .get_app()
            .app_id(&target.app_id)
            .send()
            .await
            .expect("get_app")
            .into_inner()
            .app
            .auth_origin
    });
    let (mut otp_users, mut refresh_users, mut passkey_users) =
        (Vec::new(), Vec::new(), Vec::new());
    rt.block_on(async {
        for i in 0..USERS {
            let mut conn = Conn::connect(target.addr).await;
            let identifier = format!("user{i}@bench.test");
            otp_login(&mut conn, &target, &identifier, true).await;
            otp_users.push((conn, target.clone(), identifier));
            let mut conn = Conn::connect(target.addr).await;
            let auth = otp_login(&mut conn, &target, &format!("refresh{i}@bench.test"), true).await;
            refresh_users.push((
                conn,
                target.clone(),
                auth.refresh_token.expect("refresh token"),
            ));
            let identifier = format!("passkey{i}@bench.test");
            let mut authenticator = SoftAuthenticator::new(&auth_origin);
            let user_id =
                passkey_register(&client, &target.app_id, &identifier, &mut authenticator).await;
            let conn = Conn::connect(target.addr).await;
            passkey_users.push((conn, target.clone(), identifier, user_id, authenticator));
        }
    });
    let clear_outbox = |rt: &tokio::runtime::Runtime| {
        rt.block_on(async {
            let mut conn = Conn::connect(target.addr).await;
            let (status, _) = conn
                .call(http::Method::DELETE, "/_emulator/outbox", None)
                .await;
            assert!(status.is_success(), "clearing the outbox: {status}");
        })
    };
    let signer = TestKey::generate().signer().clone();

    let (mut signs, mut verifies, mut sign_cpu) = (Vec::new(), Vec::new(), Vec::new());
    let (mut otp, mut refreshes, mut passkey) = (Vec::new(), Vec::new(), Vec::new());
    let mut otp_users = Some(otp_users);
    let mut refresh_users = Some(refresh_users);
    let mut passkey_users = Some(passkey_users);
    for round in 0..rounds {
        let mut steps = [
            Step::Sign,
            Step::Verify,
            Step::Otp,
            Step::Refresh,
            Step::Passkey,
        ];
        if round % 2 == 1 {
            steps.reverse();
        }
        for step in steps {
            if step.flow().is_some_and(|flow| !runs(flow)) {
                // Not run: an empty window keeps the rounds aligned; its figure is not reported.
                match step {
                    Step::Otp => otp.push(Window::default()),
                    Step::Refresh => refreshes.push(Window::default()),
                    Step::Passkey => passkey.push(Window::default()),
                    Step::Sign | Step::Verify => {}
                }
                continue;
            }
            match step {
                Step::Sign => {
                    signs.push(sign_rate(&signer, 2, window));
                    sign_cpu.push(sign_cpu_us(&signer, 200));
                }
                Step::Verify => verifies.push(p256_verify_rate(2, window)),
                Step::Otp => {
                    clear_outbox(&rt);
                    let (users, w) = run_window(
                        &rt,
                        pid,
                        otp_users.take().expect("users"),
                        window,
                        |(mut conn, target, identifier): OtpUser| async move {
                            otp_login(&mut conn, &target, &identifier, false).await;
                            ((conn, target, identifier), Duration::ZERO)
                        },
                    );
                    otp_users = Some(users);
                    otp.push(w);
                }
                Step::Refresh => {
                    let (users, w) = run_window(
                        &rt,
                        pid,
                        refresh_users.take().expect("users"),
                        window,
                        |(mut conn, target, token): RefreshUser| async move {
                            let token = refresh(&mut conn, &target, &token).await;
                            ((conn, target, token), Duration::ZERO)
                        },
                    );
                    refresh_users = Some(users);
                    refreshes.push(w);
                }
                Step::Passkey => {
                    let (users, w) = run_window(
                        &rt,
                        pid,
                        passkey_users.take().expect("users"),
                        window,
                        |(mut conn, target, identifier, user_id, mut authenticator): PasskeyUser| async move {
                            let spent = passkey_login(
                                &mut conn,
                                &target,
                                &identifier,
                                &user_id,
                                &mut authenticator,
                            )
                            .await;
                            ((conn, target, identifier, user_id, authenticator), spent)
                        },
                    );
                    passkey_users = Some(users);
                    passkey.push(w);
                }
            }
        }
        let (o, r, p) = (otp[round], refreshes[round], passkey[round]);
        println!(
            "round {round} ({}): sign rate (2 threads) {:.0}/s ({:.0} µs of CPU each), P-256 verify rate {:.0}/s; \
             flows/s (emulator / load generator CPU µs per flow): OTP login {:.0} ({:.0} / {:.0}), \
             refresh {:.0} ({:.0} / {:.0}), passkey login {:.0} ({:.0} / {:.0}, authenticator {:.0})",
            if round % 2 == 0 { "bounds first" } else { "flows first" },
            signs[round],
            sign_cpu[round],
            verifies[round],
            o.flows_per_s,
            o.emulator_us,
            o.generator_us,
            r.flows_per_s,
            r.emulator_us,
            r.generator_us,
            p.flows_per_s,
            p.emulator_us,
            p.generator_us,
            p.authenticator_us,
        );
    }
    // Per round: the passkey bound is one signature plus one verification on the 2 threads.
    let passkey_bounds: Vec<f64> = signs
        .iter()
        .zip(&verifies)
        .map(|(s, v)| 1.0 / (1.0 / s + 1.0 / v))
        .collect();
    let ratio = |flows: &[Window], bounds: &[f64]| {
        median(
            &flows
                .iter()
                .zip(bounds)
                .map(|(w, b)| w.flows_per_s / b)
                .collect::<Vec<_>>(),
        )
    };
    let med =
        |flows: &[Window], f: fn(&Window) -> f64| median(&flows.iter().map(f).collect::<Vec<_>>());
    let sign = median(&signs);
    let cpu = |flows: &[Window]| {
        format!(
            "CPU per flow: emulator {:.0} µs, load generator {:.0} µs; one signature {:.0} µs",
            med(flows, |w| w.emulator_us),
            med(flows, |w| w.generator_us),
            median(&sign_cpu)
        )
    };
    let otp_ratio = ratio(&otp, &signs);
    if runs("otp") {
        report(&Figure {
        key: "emulator.otp",
        what: "Emulator (release binary, own process), 64 users of a load generator in another process: OTP login flows/s (`login/otp`, outbox read over the admin API, `otp/activate`) vs the aws-lc-rs RS256 sign rate on 2 threads, same run",
        measured: format!(
            "{:.0} flows/s = {otp_ratio:.2}x ({})",
            med(&otp, |w| w.flows_per_s),
            cpu(&otp)
        ),
        value: Some(otp_ratio),
        bound: format!("{sign:.0} signs/s"),
        goal: Goal::at_least(0.6),
    });
    }
    let refresh_ratio = ratio(&refreshes, &signs);
    if runs("refresh") {
        report(&Figure {
            key: "emulator.refresh",
            what: "Same, refresh flows/s (`POST /tokens`, rotation)",
            measured: format!(
                "{:.0} flows/s = {refresh_ratio:.2}x ({})",
                med(&refreshes, |w| w.flows_per_s),
                cpu(&refreshes)
            ),
            value: Some(refresh_ratio),
            bound: format!("{sign:.0} signs/s"),
            goal: None,
        });
    }
    let passkey_ratio = ratio(&passkey, &passkey_bounds);
    if runs("passkey") {
        report(&Figure {
        key: "emulator.passkey",
        what: "Same, passkey login flows/s (`login/webauthn/start`, the load generator's soft authenticator signs, `login/webauthn/finish`) vs one RS256 sign + one P-256 verify (RustCrypto, as the emulator) per flow on 2 threads",
        measured: format!(
            "{:.0} flows/s = {passkey_ratio:.2}x ({}, of which the authenticator {:.0} µs)",
            med(&passkey, |w| w.flows_per_s),
            cpu(&passkey),
            med(&passkey, |w| w.authenticator_us)
        ),
        value: Some(passkey_ratio),
        bound: format!(
            "{:.0} flows/s ({:.0} signs/s, {:.0} verifies/s)",
            median(&passkey_bounds),
            sign,
            median(&verifies)
        ),
        goal: Goal::at_least(0.5),
    });
    }
}
