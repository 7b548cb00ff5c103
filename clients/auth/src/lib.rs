//! # passage-auth-client
//!
//! A typed Rust client for the [Passage by 1Password](https://passage.1password.com)
//! Auth API (`https://auth.passage.id/v1`): passkey (WebAuthn) registration and
//! login, magic links, one-time passcodes, OAuth2 social login, token refresh,
//! and the signed-in user's profile, devices, metadata and social connections.
//!
//! The operations and types are generated from the reviewed OpenAPI spec
//! (`spec/passage-auth.yaml`, see [`SPEC_VERSION`]) into the crate
//! `passage-auth-api`, which this crate re-exports; on top of it, this crate
//! is handwritten: the builder, the extensions, sessions, the token verifier
//! and the server layer. The call pipeline (credentials, retries, redaction)
//! is the shared `passage-runtime` crate.
//!
//! Passage's hosted service was retired in January 2026. The
//! `passage-emulator` crate of this workspace serves the same API on your own
//! machine, and is what the examples and tests run against.
//!
//! ## Quickstart
//!
//! ```no_run
//! use passage_auth_client::{types, ClientBuilder, SecretValue};
//!
//! # async fn demo() -> Result<(), passage_auth_client::Error> {
//! // Point the client at the emulator (or any Passage-compatible server).
//! let client = ClientBuilder::new().base_url("http://127.0.0.1:8787/v1").build()?;
//!
//! // Start a one-time-passcode login; the user receives the code.
//! let otp = client
//!     .login_one_time_passcode()
//!     .app_id("my-app-id")
//!     .body(types::LoginOneTimePasscodeRequest::builder().identifier("ada@example.com"))
//!     .send()
//!     .await?
//!     .into_inner();
//!
//! // Exchange the code the user typed for tokens.
//! let auth = client
//!     .activate_one_time_passcode()
//!     .app_id("my-app-id")
//!     .body(
//!         types::ActivateOneTimePasscodeRequest::builder()
//!             .otp_id(otp.otp_id)
//!             .otp(SecretValue::new("123456")),
//!     )
//!     .send()
//!     .await?
//!     .into_inner();
//!
//! // Act as the user with their auth token.
//! use passage_auth_client::CredentialsExt;
//! let me = client
//!     .with_auth_token(auth.auth_result.auth_token.clone())
//!     .get_currentuser()
//!     .app_id("my-app-id")
//!     .send()
//!     .await?;
//! println!("signed in as {}", me.user.id);
//! # Ok(())
//! # }
//! ```
//!
//! ## What is handwritten
//! - [`ClientBuilder`]: base URL, timeouts, user agent, credentials, [`RetryPolicy`].
//! - [`MagicLinkExt::wait_for_magic_link`]: polls `magic-link/status` with a
//!   [`PollPolicy`] until the link is activated, with a deadline
//!   ([`WaitError::ExceededMaxWait`]) and cancellation.
#![cfg_attr(
    feature = "session",
    doc = " - [`Session`]: the user's tokens in a [`TokenStore`] ([`MemoryStore`],"
)]
#![cfg_attr(
    not(feature = "session"),
    doc = " - `Session`: the user's tokens in a `TokenStore` (`MemoryStore`,"
)]
#![cfg_attr(
    feature = "file-store",
    doc = "   [`FileStore`]), refreshed before they expire, one refresh for any number of"
)]
#![cfg_attr(
    not(feature = "file-store"),
    doc = "   `FileStore`), refreshed before they expire, one refresh for any number of"
)]
//!   concurrent callers, never losing a valid pair on a failed refresh.
#![cfg_attr(
    feature = "verify",
    doc = " - [`TokenVerifier`]: verifies Passage auth tokens (RS256, `kid`, `iss`,"
)]
#![cfg_attr(
    not(feature = "verify"),
    doc = " - `TokenVerifier`: verifies Passage auth tokens (RS256, `kid`, `iss`,"
)]
//!   `aud`, `exp`, `nbf`) against a cached JWKS, for services that receive them.
//! - [`Error`]: the one error type of every call (the generated `send()`s
//!   return it): status, open error code, `Retry-After` and a redacted
//!   message or body; [`RedirectExt`] for the 302 operations.
//!
//! ## Design notes
//! - Every string enum of the spec is an *open* enum ([`open_enums`]): a value a
//!   newer server sends decodes as `Unknown(String)` instead of failing the call.
//!   This includes [`open_enums::ApiErrorCode`], so an unknown error code still gives a
//!   typed [`Error::Api`] with its HTTP status.
//! - Secrets (tokens, passcodes, link secrets) are [`secrets`] types whose
//!   `Debug` prints `[redacted]`; [`Error`] never holds a header map, a URL
//!   query or a whole body, and the values of the secrets a request carried
//!   are scrubbed from whatever its error prints ([`redact`]).
//! - Which operations need the user's bearer token or the API key is read from
//!   the spec ([`operations::OPERATIONS`]), and the call pipeline ([`passage_runtime::pipeline`]) adds the
//!   credential only there.
//! - Redirecting operations (`social/authorize`, the OAuth2 callbacks) answer
//!   `302`; the client never follows redirects, and [`RedirectExt`] turns the
//!   answer into its `Location`.

//!
//! ## Cargo features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `native-tls` | yes | HTTPS through the platform's TLS library (OpenSSL on Linux) |
//! | `rustls` | no | HTTPS through rustls (aws-lc-rs); no system library needed |
#![cfg_attr(
    feature = "session",
    doc = " | `session` | yes | [`Session`] and [`MemoryStore`]: a user's tokens kept fresh |"
)]
#![cfg_attr(
    not(feature = "session"),
    doc = " | `session` | yes | `Session` and `MemoryStore`: a user's tokens kept fresh |"
)]
#![cfg_attr(
    feature = "file-store",
    doc = " | `file-store` | no | [`FileStore`]: a session kept in a file across restarts |"
)]
#![cfg_attr(
    not(feature = "file-store"),
    doc = " | `file-store` | no | `FileStore`: a session kept in a file across restarts |"
)]
#![cfg_attr(
    feature = "verify",
    doc = " | `verify` | no | [`TokenVerifier`]: Passage auth tokens checked against the app's JWKS |"
)]
#![cfg_attr(
    not(feature = "verify"),
    doc = " | `verify` | no | `TokenVerifier`: Passage auth tokens checked against the app's JWKS |"
)]
#![cfg_attr(
    feature = "tower",
    doc = " | `tower` | no | [`server::PassageAuthLayer`]: token verification for any tower HTTP service |"
)]
#![cfg_attr(
    not(feature = "tower"),
    doc = " | `tower` | no | `server::PassageAuthLayer`: token verification for any tower HTTP service |"
)]
#![cfg_attr(
    feature = "axum",
    doc = " | `axum` | no | [`server::PassageUser`] as an axum extractor (and `Option<PassageUser>`) |"
)]
#![cfg_attr(
    not(feature = "axum"),
    doc = " | `axum` | no | `server::PassageUser` as an axum extractor (and `Option<PassageUser>`) |"
)]
//!
//! With neither TLS feature the client speaks plain HTTP only (enough for the emulator).

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod credentials;
pub mod magic_link;
pub mod poll;
pub mod redirect;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod server;
#[cfg(feature = "session")]
#[cfg_attr(docsrs, doc(cfg(feature = "session")))]
pub mod session;
#[cfg(feature = "verify")]
#[cfg_attr(docsrs, doc(cfg(feature = "verify")))]
pub mod verify;

pub use builder::ClientBuilder;
pub use credentials::CredentialsExt;
pub use magic_link::{AttemptOutcome, MagicLinkExt, MagicLinkWait, WaitError, WaitProgress};
pub use passage_auth_api::{
    open_enums, operations, secrets, types, ByteStream, Client, ClientInfo, ResponseValue,
    DEFAULT_BASE_URL, SPEC_SHA256, SPEC_VERSION,
};
pub use passage_runtime::{
    backoff, redact, retry, Backoff, ClientState, Clock, Jitter, ManualClock, RedactedBody,
    Redirect, RetryPolicy, SecretValue, SystemClock, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT,
};
pub use poll::PollPolicy;
pub use redirect::RedirectExt;
#[cfg(feature = "file-store")]
#[cfg_attr(docsrs, doc(cfg(feature = "file-store")))]
pub use session::FileStore;
#[cfg(feature = "session")]
#[cfg_attr(docsrs, doc(cfg(feature = "session")))]
pub use session::{
    MemoryStore, Session, SessionBuilder, SessionError, StoreError, StoreLock, StoredTokens,
    TokenStore,
};
#[cfg(feature = "verify")]
#[cfg_attr(docsrs, doc(cfg(feature = "verify")))]
pub use verify::{Claims, KeyCacheState, TokenVerifier, VerifierConfig, VerifyError};

/// What every call of this crate fails with: the runtime's one redacting
/// error, with the Auth API's open [`open_enums::ApiErrorCode`].
pub type Error = passage_auth_api::Error;

/// The result type of this crate's APIs.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The error type and the redacted body view it shows.
pub mod error {
    pub use crate::{Error, Result};
    pub use passage_runtime::RedactedBody;
}

/// The workspace README's examples, compiled as doc tests.
#[cfg(all(doctest, feature = "axum", feature = "file-store"))]
#[doc = include_str!("../../../README.md")]
struct WorkspaceReadme;

/// The crate README's examples (its page on the registry), compiled as doc tests.
#[cfg(all(doctest, feature = "axum", feature = "file-store"))]
#[doc = include_str!("../README.md")]
struct CrateReadme;
