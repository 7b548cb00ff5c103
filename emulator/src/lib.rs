//! A local, stateful emulator of the Passage by 1Password Auth API.
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! use passage_emulator::{Emulator, EmulatorConfig};
//!
//! let emulator = Emulator::start(EmulatorConfig::default()).await?;
//! println!("API at {} (app {})", emulator.base_url(), emulator.default_app_id());
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

pub mod accounts;
pub mod admin;
pub mod bearer;
pub mod clock;
pub mod config;
pub mod cors;
pub mod error;
pub mod extract;
pub mod faults;
pub mod identifiers;
pub mod kinds;
pub mod pipeline;
pub mod proxy;
pub mod prune;
mod redact;
pub mod request_log;
pub mod routes;
pub mod server;
pub mod session;
pub mod state;
pub mod store;
pub mod tokens;
pub mod ui;
pub mod views;
pub mod webauthn;

pub use config::{AppConfig, EmulatorConfig, MetadataFieldConfig, DEFAULT_API_KEY, DEFAULT_APP_ID};
pub use faults::{FaultKind, FaultRule};
pub use request_log::LoggedRequest;
pub use server::{Emulator, EmulatorHandle};
pub use state::OutboxMessage;
