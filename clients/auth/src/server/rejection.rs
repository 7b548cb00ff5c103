//! The answers of a refused request (RFC 6750).

use http::header::{HeaderValue, WWW_AUTHENTICATE};
use http::{Response, StatusCode};

/// Why a request was refused. Its response says only what RFC 6750 asks for:
/// never the token, nor why verification failed (that goes to the `debug`
/// log of [`TokenVerifier::verify`](crate::TokenVerifier::verify)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthRejection {
    /// No bearer token: `401` with `WWW-Authenticate: Bearer`.
    #[error("no bearer token")]
    MissingToken,
    /// The token was refused (signature, expiry, issuer, audience, key id,
    /// format): `401` with `WWW-Authenticate: Bearer error="invalid_token"`.
    #[error("invalid token")]
    InvalidToken,
    /// No signing key could be had to check the token: `503`.
    #[error("the signing keys are unavailable")]
    KeysUnavailable,
    /// A [`PassageUser`](super::PassageUser) was extracted from a request
    /// that did not pass through a [`PassageAuthLayer`](super::PassageAuthLayer):
    /// `500`, a mistake in the service's set-up.
    #[error("no PassageAuthLayer in front of this route")]
    LayerMissing,
}

impl AuthRejection {
    /// The status of the answer.
    pub fn status(self) -> StatusCode {
        match self {
            Self::MissingToken | Self::InvalidToken => StatusCode::UNAUTHORIZED,
            Self::KeysUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::LayerMissing => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `WWW-Authenticate` challenge of the answer, for the `401`s.
    pub fn challenge(self) -> Option<HeaderValue> {
        match self {
            Self::MissingToken => Some(HeaderValue::from_static("Bearer")),
            Self::InvalidToken => Some(HeaderValue::from_static(r#"Bearer error="invalid_token""#)),
            Self::KeysUnavailable | Self::LayerMissing => None,
        }
    }

    /// The answer: the [`status`](Self::status), the
    /// [`challenge`](Self::challenge) and an empty body.
    pub fn into_response<B: Default>(self) -> Response<B> {
        let mut response = Response::new(B::default());
        *response.status_mut() = self.status();
        if let Some(challenge) = self.challenge() {
            response.headers_mut().insert(WWW_AUTHENTICATE, challenge);
        }
        response
    }
}
