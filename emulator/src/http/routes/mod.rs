//! The route modules, one per API area. A route module holds the handlers of its area (request
//! shapes, the lock or mutation around domain calls, the answer's view) and never imports another
//! route module: what two areas share is domain logic ([`crate::domain`]) or an http helper
//! ([`crate::http::extract`], [`crate::http::views`], ...).

pub mod admin;
pub mod admin_api_keys;
pub mod admin_apps;
pub mod admin_sessions;
pub mod apps;
pub mod currentuser;
pub mod fake_provider;
pub mod management;
pub mod passwordless;
pub mod social;
pub mod tokens;
pub mod ui;
pub mod users;
pub mod webauthn;
