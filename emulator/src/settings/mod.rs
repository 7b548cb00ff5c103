//! The settings layer: what configures an emulator (its apps, the instance options, CORS, who may use
//! the admin API, the users seeded at start) and its own URLs.
//!
//! Architecture invariant: imports only the layers before it (in fact only base); holds no state
//! that changes while the emulator runs.

pub mod admin_access;
pub mod app;
pub mod cors;
pub mod hosts;
pub mod instance;
pub mod seed;
pub mod urls;

pub use admin_access::{AdminAccess, ADMIN_TOKEN_HEADER};
pub use app::{
    AllowedIdentifier, AppConfig, MetadataFieldConfig, DEFAULT_API_KEY, DEFAULT_APP_ID,
    DEFAULT_AUTH_ORIGIN,
};
pub use hosts::HostSettings;
pub use instance::{EmulatorConfig, ServerOptions};
pub use seed::{NewUser, SeedConfig, SeedUser};
pub use urls::Urls;
