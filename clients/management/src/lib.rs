//! # passage-management-client
//!
//! A typed Rust client for the [Passage by 1Password](https://passage.1password.com)
//! Management API (`https://api.passage.id/v1`): what an app's back end does
//! with its API key. Look up the user a token names, list and search users,
//! create, update, activate, deactivate and delete them, list and revoke their
//! passkeys, revoke their refresh tokens, create magic links to embed in the
//! app's own messages, and, for Passkey Flex, create registration and
//! authentication transactions and verify the nonce a ceremony returns.
//!
//! The operations and types are generated from the reviewed OpenAPI spec
//! (`spec/passage-management.yaml`, see [`SPEC_VERSION`]) into the crate
//! `passage-management-api`, which this crate re-exports; the call pipeline
//! (the API key sent only as the spec says, retries of what the spec calls
//! idempotent, one redacting [`Error`]) is the shared `passage-runtime`. On
//! top of them this crate adds the [`ClientBuilder`] and [`UsersExt`]: every
//! user as one stream across pages, find-by-identifier and "who is this
//! token".
//!
//! Passage's hosted service was retired in January 2026; the
//! `passage-emulator` crate serves this API on your machine
//! (`Emulator::management_base_url`).
//!
//! ```no_run
//! use passage_management_client::{types, ClientBuilder, UsersExt};
//!
//! # async fn demo() -> Result<(), passage_management_client::Error> {
//! let client = ClientBuilder::new()
//!     .base_url("http://127.0.0.1:8787/management/v1")
//!     .api_key("the app's API key")
//!     .build()?;
//! let created = client
//!     .create_user()
//!     .app_id("my-app-id")
//!     .body(types::CreateUserRequest::builder().email(Some("ada@example.com".to_string())))
//!     .send()
//!     .await?
//!     .into_inner();
//! let found = client.find_user_by_identifier("my-app-id", "ada@example.com").await?;
//! assert_eq!(found.map(|u| u.id), Some(created.user.id));
//! # Ok(()) }
//! ```
//!
//! ## Cargo features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `native-tls` | yes | HTTPS through the platform's TLS library (OpenSSL on Linux) |
//! | `rustls` | no | HTTPS through rustls (aws-lc-rs) |
#![cfg_attr(
    feature = "verify",
    doc = " | `verify` | yes | [`UsersExt::user_for_token`], with `passage-auth-client`'s `TokenVerifier` |"
)]
#![cfg_attr(
    not(feature = "verify"),
    doc = " | `verify` | yes | `UsersExt::user_for_token`, with `passage-auth-client`'s `TokenVerifier` |"
)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod credentials;
mod users;

pub use builder::ClientBuilder;
pub use credentials::CredentialsExt;
pub use passage_management_api::{
    open_enums, operations, secrets, types, ByteStream, Client, ClientInfo, ResponseValue,
    DEFAULT_BASE_URL, SPEC_SHA256, SPEC_VERSION,
};
pub use passage_runtime::{
    Backoff, Jitter, RedactedBody, RetryPolicy, SecretValue, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_TIMEOUT,
};
#[cfg(feature = "verify")]
#[cfg_attr(docsrs, doc(cfg(feature = "verify")))]
pub use users::{TokenUser, TokenUserError};
pub use users::{UserPages, UsersExt};

/// What every call of this crate fails with: the runtime's one redacting
/// error, with the Management API's open [`open_enums::ApiErrorCode`].
pub type Error = passage_management_api::Error;

/// The result type of this crate's APIs.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The crate README's examples (its page on the registry), compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct CrateReadme;
