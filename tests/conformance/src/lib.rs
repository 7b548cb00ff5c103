//! The spec-conformance check every test's emulator runs under.
//!
//! Tests start emulators with [`CheckedEmulator::start`]: the emulator records every request to
//! its Auth and Management APIs with the whole answer (on the server side, so no client can go
//! around it), and each answer is checked against `spec/passage-auth.yaml` or
//! `spec/passage-management.yaml` ([`Conformance`]): its operation must declare the status, and the
//! body must match the declared schema, formats included ([`schema`]). Requests to paths no
//! operation has are mismatches unless the test announced them
//! ([`CheckedEmulator::expect_no_operation`]); answers an injected fault made malformed on purpose
//! are left out ([`fault_answer_is_left_out`]).
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use passage_conformance::CheckedEmulator;
//! use passage_emulator::EmulatorConfig;
//!
//! let emulator = CheckedEmulator::start(EmulatorConfig::default()).await?;
//! let url = format!("{}/apps/{}", emulator.base_url(), emulator.default_app_id());
//! reqwest::get(url).await?;
//! emulator.assert_conformant(); // and again, in any case, when `emulator` is dropped
//! # Ok(()) }
//! ```

pub mod checked;
pub mod schema;
pub mod spec;

pub use checked::{CheckedEmulator, Tally, TALLY_VARIABLE};
pub use spec::{
    fault_answer_is_left_out, Conformance, Expectations, Mismatch, SpecSchemas, Verdict,
    AUTH_PREFIX, MANAGEMENT_PREFIX,
};
