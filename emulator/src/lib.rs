//! A local, stateful emulator of the Passage by 1Password Auth API and Management API.
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! use passage_emulator::{Emulator, EmulatorConfig};
//!
//! let emulator = Emulator::start(EmulatorConfig::default()).await?;
//! println!("Auth API at {} (app {})", emulator.base_url(), emulator.default_app_id());
//! println!("Management API at {}", emulator.management_base_url());
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

// The layers, in order: each module imports only the ones above it (see ARCHITECTURE.md).
pub mod base;
// JWT signing.
pub mod jwt;
// WebAuthn verification.
pub mod relying_party;
// Configuration.
pub mod settings;
// The state as plain data.
pub mod model;
// What the emulator does (no axum).
pub mod domain;
// The state file (SQLite).
pub mod store;
// The lock and the mutate-and-commit protocol.
pub mod context;
// The only axum code (routes, middleware, the accept loop).
pub mod http;
// The intercepting HTTPS proxy (serves the http layer's routers as Passage's hosts).
pub mod proxy;
// Starting and stopping an emulator.
pub mod server;

// Not a layer: the admin API's Rust client, which only the admin API's shapes and `base` feed.
#[cfg(feature = "admin-client")]
pub mod admin_client;

pub use model::{Exchange, FaultKind, FaultRule, LoggedRequest, OutboxMessage};
pub use server::{Emulator, EmulatorHandle};
pub use settings::{
    AppConfig, EmulatorConfig, MetadataFieldConfig, DEFAULT_API_KEY, DEFAULT_APP_ID,
};
