//! The model layer: what the emulator knows, as plain data. [`EmulatorState`] (the apps with their
//! record tables, the outbox, social flows, WebAuthn ceremonies in progress), the change tracking
//! that lets the store write only what changed, the armed faults, the request log, the exchange
//! recorder, and the shapes of the admin API.
//!
//! Architecture invariant: imports only the base, jwt, relying_party and settings layers; no axum,
//! no SQLite, no locks around the state (the context layer holds the lock).

pub mod admin_api;
pub mod app;
pub mod changes;
pub mod exchanges;
pub mod faults;
pub mod handshakes;
pub mod outbox;
pub mod records;
pub mod request_log;
pub mod state;
pub mod tracking;

pub use app::{AppHeader, AppRecord};
pub use exchanges::{Exchange, ExchangeRecorder};
pub use faults::{FaultKind, FaultRule};
pub use outbox::{Outbox, OutboxMessage};
pub use request_log::LoggedRequest;
pub use state::EmulatorState;
pub use tracking::{Change, Changes, Table, Tracked};
