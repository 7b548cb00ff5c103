//! Verifying Passage auth tokens in an HTTP service: [`PassageAuthLayer`]
//! (a tower [`Layer`](tower_layer::Layer) for any service of
//! `http::Request`s) and, with the `axum` feature, [`PassageUser`] as an
//! axum extractor.
//!
//! - The token is read from `Authorization: Bearer <token>` (the scheme in
//!   any case) or, when there is no bearer token, from the `psg_auth_token`
//!   cookie that Passage's web elements set ([`bearer_token`]).
//! - The layer verifies it with a [`TokenVerifier`] and puts the verified
//!   [`PassageUser`] into the request's extensions.
//! - Refusals follow RFC 6750: `401` with `WWW-Authenticate: Bearer` when no
//!   token came, `401` with `WWW-Authenticate: Bearer error="invalid_token"`
//!   when it was refused (whatever the reason: the body is empty and says
//!   nothing about why), and `503` when no signing key can be had.
//! - [`PassageAuthLayer::required`] refuses requests without a valid token;
//!   [`PassageAuthLayer::optional`] lets requests without a token through
//!   (anonymous) and still refuses invalid ones, so routes can choose with
//!   `PassageUser` (required) or `Option<PassageUser>` (optional).
//!
//! ```no_run
//! # #[cfg(feature = "axum")]
//! # async fn demo(verifier: passage_auth_client::TokenVerifier) {
//! use passage_auth_client::server::{PassageAuthLayer, PassageUser};
//!
//! async fn me(user: PassageUser) -> String {
//!     format!("hello {}", user.user_id())
//! }
//! async fn home(user: Option<PassageUser>) -> &'static str {
//!     if user.is_some() { "welcome back" } else { "welcome" }
//! }
//!
//! let app: axum::Router = axum::Router::new()
//!     .route("/api/me", axum::routing::get(me))
//!     .route("/", axum::routing::get(home))
//!     .layer(PassageAuthLayer::optional(verifier));
//! # let _ = app;
//! # }
//! ```

mod layer;
mod rejection;
mod token;
mod user;

#[cfg(feature = "axum")]
mod extract;

pub use layer::{PassageAuth, PassageAuthLayer, PassageAuthMode, ResponseFuture};
pub use rejection::AuthRejection;
pub use token::{bearer_token, AUTH_COOKIE};
pub use user::PassageUser;

use crate::{TokenVerifier, VerifyError};

/// Verifies the request's token (if any) and says what the service should do.
///
/// `Ok(None)`: no token came. `Err`: the refusal to answer with.
pub(crate) async fn authenticate(
    verifier: &TokenVerifier,
    headers: &http::HeaderMap,
) -> Result<Option<PassageUser>, AuthRejection> {
    let Some(token) = bearer_token(headers) else {
        return Ok(None);
    };
    match verifier.verify(token).await {
        Ok(claims) => Ok(Some(PassageUser(claims))),
        Err(VerifyError::JwksUnavailable(_)) => Err(AuthRejection::KeysUnavailable),
        Err(_) => Err(AuthRejection::InvalidToken),
    }
}
