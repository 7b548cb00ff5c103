//! The Management API (`/management/v1` on the emulator's listener, `/v1` on `api.passage.id`
//! through the intercepting proxy): an app's backend reads the app, manages its users, their
//! passkeys and sessions, makes magic links and runs Flex transactions, with the app's API key as
//! bearer token, over the same state as the Auth API.
//!
//! [`access`] checks the API key before anything else (the router puts it in front of every
//! operation), [`views`] holds the answers' shapes; the other modules are the handlers of one
//! resource each.

pub mod access;
pub mod apps;
pub mod devices;
pub mod magic_links;
pub mod transactions;
pub mod users;
pub mod views;
