pub mod authenticator;
pub mod browser;
pub mod conformance;
pub mod harness;
pub mod hostile;
