//! # passage-runtime
//!
//! What the generated Passage clients call, in the role `progenitor-client`
//! plays for progenitor's output (and `aws-smithy-runtime` for the AWS SDK):
//! the transport types every `send()` returns, the call pipeline
//! (credentials per operation, retries with the one [`Backoff`], recording of
//! the secrets a request carried), the one redacting [`Error`], [`SecretValue`]
//! and the [`Clock`].
//!
//! It knows no spec. A generated crate hands it its operation table
//! ([`OperationSpec`] rows) and its error body type ([`ApiErrorBody`]); the
//! client crates (`passage-auth-client`, `passage-management-client`) build
//! clients with [`ClientConfig`] and add their extensions on top.
//!
//! Modules, in the order they build on each other: [`secret`], [`clock`],
//! [`backoff`], [`redact`], [`retry`], [`operation`], [`response`],
//! [`call_error`], [`decode`], [`encoding`], [`hooks`], [`redirect`],
//! [`error`], [`client_state`], [`pipeline`], [`builder`].

#![warn(missing_docs)]

pub mod backoff;
pub mod builder;
pub mod call_error;
pub mod client_state;
pub mod clock;
pub mod decode;
pub mod encoding;
pub mod error;
pub mod hooks;
pub mod operation;
pub mod pipeline;
pub mod redact;
pub mod redirect;
pub mod response;
pub mod retry;
pub mod secret;

pub use backoff::{Backoff, Jitter};
pub use builder::{
    ClientConfig, ClientParts, ErrorOf, GeneratedClient, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT,
};
pub use call_error::CallError;
pub use client_state::ClientState;
pub use clock::{Clock, ManualClock, SystemClock};
pub use decode::JsonAnswer;
pub use encoding::{encode_path, QueryParam, RequestBuilderExt};
pub use error::{finish_call, finish_call_for, finish_json_call_for, ApiErrorBody, Error};
pub use hooks::{ClientHooks, ClientInfo, OperationInfo};
pub use operation::{Auth, OperationSpec};
pub use redact::RedactedBody;
pub use redirect::Redirect;
pub use response::{ByteStream, ResponseValue};
pub use retry::RetryPolicy;
pub use secret::SecretValue;
