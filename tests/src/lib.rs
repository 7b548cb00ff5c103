pub mod authenticator;
pub mod browser;
pub mod capture;
pub mod conformance;
pub mod harness;
pub mod hostile;
pub mod sdk_process;
pub mod skip;
