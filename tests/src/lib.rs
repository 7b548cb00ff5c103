
pub mod conformance;
pub mod authenticator;
pub mod harness;
