//! `PassageUser` as an axum extractor.

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;

use super::user::LayerSeen;
use super::{AuthRejection, PassageUser};

/// The user the [`PassageAuthLayer`](super::PassageAuthLayer) verified;
/// `401` for an anonymous request (behind an optional layer).
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl<S: Send + Sync> FromRequestParts<S> for PassageUser {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AuthRejection> {
        match found(parts)? {
            Some(user) => Ok(user),
            None => Err(AuthRejection::MissingToken),
        }
    }
}

/// `Some(user)` when the request's token was verified, `None` for an
/// anonymous request.
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl<S: Send + Sync> OptionalFromRequestParts<S> for PassageUser {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, AuthRejection> {
        found(parts)
    }
}

fn found(parts: &Parts) -> Result<Option<PassageUser>, AuthRejection> {
    if let Some(user) = parts.extensions.get::<PassageUser>() {
        return Ok(Some(user.clone()));
    }
    if parts.extensions.get::<LayerSeen>().is_none() {
        tracing::error!(
            path = parts.uri.path(),
            "PassageUser extracted on a route without a PassageAuthLayer"
        );
        return Err(AuthRejection::LayerMissing);
    }
    Ok(None)
}

#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        AuthRejection::into_response(self)
    }
}
