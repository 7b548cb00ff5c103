//! The domain layer: what the emulator does, as functions over the model (accounts, sessions,
//! refresh-token rotation, passcodes and magic links, passkey ceremonies and devices, social
//! logins and the fake identity provider, transactions, app administration and API keys, the
//! Management API's user listing, pruning, seeding).
//!
//! Architecture invariant: imports only the base, jwt, relying_party, settings and model layers;
//! no axum, no SQLite, no lock: each function takes the state (or one app) it works on and the
//! current time, and returns an [`ApiError`](crate::base::api_error::ApiError) for the caller to
//! answer.

pub mod accounts;
pub mod api_keys;
pub mod apps;
pub mod devices;
pub mod fake_provider;
pub mod passkeys;
pub mod passwordless;
pub mod pruning;
pub mod refresh_tokens;
pub mod seeding;
pub mod sessions;
pub mod social_login;
pub mod transactions;
pub mod user_listing;
