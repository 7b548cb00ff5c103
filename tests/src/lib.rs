pub mod authenticator;
pub mod browser;
pub mod capture;
pub mod exchange_report;
pub mod flex_ceremony;
pub mod flex_js;
pub mod flex_steps;
pub mod harness;
pub mod hostile;
pub mod recording_proxy;
pub mod sdk_process;
pub mod server_sdk_steps;
pub mod skip;

/// The spec-conformance check every test's emulator runs under (the `passage-conformance` crate).
pub use passage_conformance as conformance;
