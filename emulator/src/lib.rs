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

pub mod clock;
pub mod config;
pub mod cors;
pub mod error;
pub mod extract;
pub mod faults;
mod redact;
pub mod routes;
pub mod server;
pub mod state;
pub mod tokens;
pub mod ui;
pub mod webauthn;

pub use config::{AppConfig, EmulatorConfig, MetadataFieldConfig, DEFAULT_API_KEY, DEFAULT_APP_ID};
pub use faults::{FaultKind, FaultRule};
pub use server::{Emulator, EmulatorHandle};
pub use state::{LoggedRequest, OutboxMessage};
