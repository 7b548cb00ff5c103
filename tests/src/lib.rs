pub mod authenticator;
pub mod conformance;
pub mod harness;
pub mod hostile;
