//! [`CheckedEmulator`]: the only way tests start an emulator. It turns the emulator's exchange
//! recorder on, so every request any client sends (the generated clients, raw HTTP, browsers,
//! other languages' SDKs through the intercepting proxy) is recorded on the server side with its
//! whole answer, and checks each answer against its spec ([`Conformance`]) when the test calls
//! [`CheckedEmulator::assert_conformant`] and, in any case, when the emulator is dropped or shut
//! down. A test cannot forget the check, and a client cannot bypass it.
//!
//! `tests/conformance/tests/every_emulator_is_checked.rs` fails when a test starts an emulator any
//! other way.

use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard};

use passage_emulator::model::ExchangeRecorder;
use passage_emulator::{Emulator, EmulatorConfig, EmulatorHandle, Exchange};

use crate::spec::{Conformance, Expectations, Mismatch, Verdict};

/// With this environment variable set, each emulator prints its [`Tally`] to stderr when it stops
/// (`cargo test -- --nocapture` shows them all).
pub const TALLY_VARIABLE: &str = "PASSAGE_CONFORMANCE_TALLY";

/// What the checks of one emulator found so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Answers checked against their operation (including announced unknown routes).
    pub checked: usize,
    /// Answers an injected fault made malformed on purpose (or dropped), left out.
    pub fault_answers: usize,
    /// Announced requests to paths no operation has, whose answers were checked as errors.
    pub expected_no_operation: usize,
}

#[derive(Default)]
struct CheckState {
    expectations: Expectations,
    /// Which announced `(method, path)` pairs were seen.
    seen: Vec<bool>,
    tally: Tally,
    /// Mismatches found by checks whose caller did not panic on them (the final check reports
    /// them again).
    pending: Vec<Mismatch>,
    finished: bool,
    /// Every exchange checked so far, oldest first (for [`CheckedEmulator::exchanges`]).
    history: Vec<Exchange>,
}

/// A running emulator whose every API answer is checked against the specs.
///
/// Dereferences to the [`EmulatorHandle`]. Dropping it (or [`shutdown`](Self::shutdown)) runs the
/// final check: it panics, listing every mismatch, unless all answers conform and every announced
/// request to a path without an operation came. When the test is already panicking the final
/// check only prints what it found.
pub struct CheckedEmulator {
    handle: Option<Arc<EmulatorHandle>>,
    recorder: Arc<ExchangeRecorder>,
    state: Mutex<CheckState>,
}

impl std::fmt::Debug for CheckedEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckedEmulator")
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

impl CheckedEmulator {
    /// Starts an emulator with `config` and its exchange recorder on.
    pub async fn start(config: EmulatorConfig) -> anyhow::Result<Self> {
        let handle = Emulator::start(EmulatorConfig {
            record_exchanges: true,
            ..config
        })
        .await?;
        Ok(Self {
            recorder: handle.exchange_recorder(),
            handle: Some(Arc::new(handle)),
            state: Mutex::new(CheckState::default()),
        })
    }

    /// The emulator, shared (for code that keeps an `Arc<EmulatorHandle>`, such as the examples'
    /// `Target`). The checks still run when this `CheckedEmulator` is dropped.
    pub fn shared(&self) -> Arc<EmulatorHandle> {
        Arc::clone(self.handle.as_ref().expect("running"))
    }

    /// Announces that the test sends `method path` (the path on the listener, no query), which no
    /// operation of the specs has (an unknown route, a wrong method): its answers must be 4xx errors
    /// with the spec's error body, and the final check fails if it never came.
    pub fn expect_no_operation(&self, method: &str, path: &str) {
        let mut state = self.lock();
        if !state.expectations.expects_no_operation(method, path) {
            state.expectations.no_operation(method, path);
            state.seen.push(false);
        }
    }

    /// Allows injected faults to answer `status` where their operation does not declare it (a test
    /// that simulates a gateway's 502 page, say). Answers of the server itself are never allowed an
    /// undeclared status.
    pub fn allow_undeclared_fault_status(&self, status: u16) {
        self.lock().expectations.allow_fault_status(status);
    }

    /// Checks every answer recorded since the last check; returns the mismatches (also kept for
    /// the final check).
    pub fn check(&self) -> Vec<Mismatch> {
        let exchanges = self.recorder.take();
        let specs = Conformance::shared();
        let mut state = self.lock();
        let mut found = Vec::new();
        for exchange in exchanges {
            let verdict = specs.check(&exchange, &state.expectations);
            state.history.push(exchange.clone());
            match verdict {
                Verdict::Conforms => state.tally.checked += 1,
                Verdict::FaultAnswer(_) => state.tally.fault_answers += 1,
                Verdict::ExpectedNoOperation => {
                    state.tally.checked += 1;
                    state.tally.expected_no_operation += 1;
                    let announced = state.expectations.announced();
                    if let Some(i) = announced.iter().position(|(m, p)| {
                        m.eq_ignore_ascii_case(&exchange.method) && *p == exchange.path
                    }) {
                        state.seen[i] = true;
                    }
                }
                Verdict::Mismatches(mismatches) => {
                    state.tally.checked += 1;
                    found.extend(mismatches);
                }
            }
        }
        state.pending.extend(found.iter().cloned());
        found
    }

    /// Every request the emulator's APIs received since it started, with its answer, oldest first
    /// (checked or not yet: reading them never takes them away from the check). For failure
    /// reports that show a client's request and the emulator's answer.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.check();
        self.lock().history.clone()
    }

    /// Panics, listing every mismatch, unless every answer recorded so far conforms to its spec.
    #[track_caller]
    pub fn assert_conformant(&self) {
        let found = self.check();
        if !found.is_empty() {
            self.lock().pending.clear();
            panic!("{}", report(&found));
        }
    }

    /// What the checks found so far.
    pub fn tally(&self) -> Tally {
        self.lock().tally.clone()
    }

    /// Stops the emulator gracefully (when no one else holds it, see [`shared`](Self::shared)):
    /// the requests in flight are answered; then runs the final check, their answers included.
    pub async fn shutdown(mut self) {
        if let Some(handle) = self.handle.take() {
            if let Ok(handle) = Arc::try_unwrap(handle) {
                handle.shutdown().await;
            }
        }
        self.finish();
    }

    /// The final check: every answer, and every announced request.
    fn finish(&mut self) {
        if std::mem::replace(&mut self.lock().finished, true) {
            return;
        }
        self.check();
        let mut state = self.lock();
        let mut problems = std::mem::take(&mut state.pending);
        for ((method, path), seen) in state.expectations.announced().iter().zip(&state.seen) {
            if !*seen {
                problems.push(Mismatch {
                    operation: format!("{method} {path}"),
                    status: None,
                    json_path: String::new(),
                    message: "announced with `expect_no_operation`, but never sent".into(),
                });
            }
        }
        let tally = state.tally.clone();
        drop(state);
        if std::env::var_os(TALLY_VARIABLE).is_some() {
            eprintln!(
                "conformance tally: {} answers checked ({} to announced unknown routes), {} fault answers left out",
                tally.checked, tally.expected_no_operation, tally.fault_answers
            );
        }
        if problems.is_empty() {
            return;
        }
        if std::thread::panicking() {
            eprintln!("(while the test was failing) {}", report(&problems));
        } else {
            panic!(
                "{} ({} answers checked in all)",
                report(&problems),
                tally.checked
            );
        }
    }

    fn lock(&self) -> MutexGuard<'_, CheckState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Deref for CheckedEmulator {
    type Target = EmulatorHandle;

    fn deref(&self) -> &EmulatorHandle {
        self.handle.as_ref().expect("running")
    }
}

impl Drop for CheckedEmulator {
    fn drop(&mut self) {
        // Stops the server first (unless shared): requests still in flight get no answer, so every
        // answer sent is in the recorder for the final check.
        drop(self.handle.take());
        self.finish();
    }
}

fn report(mismatches: &[Mismatch]) -> String {
    format!(
        "{} answers of the emulator do not conform to the spec:\n{}",
        mismatches.len(),
        mismatches
            .iter()
            .map(|m| format!("  {m}"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}
