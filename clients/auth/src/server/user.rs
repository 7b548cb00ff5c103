//! The verified user of a request.

use std::ops::Deref;

use crate::Claims;

/// The Passage user of a request whose token was verified: the token's
/// [`Claims`]. [`PassageAuthLayer`](super::PassageAuthLayer) puts it into the
/// request's extensions; with the `axum` feature it is also an extractor
/// (`PassageUser` refuses anonymous requests, `Option<PassageUser>` lets them
/// through).
#[derive(Debug, Clone, PartialEq)]
pub struct PassageUser(pub Claims);

impl PassageUser {
    /// The verified claims.
    pub fn claims(&self) -> &Claims {
        &self.0
    }

    /// The verified claims, by value.
    pub fn into_claims(self) -> Claims {
        self.0
    }
}

impl Deref for PassageUser {
    type Target = Claims;

    fn deref(&self) -> &Claims {
        &self.0
    }
}

/// Put into the extensions of every request that passed a
/// [`PassageAuthLayer`](super::PassageAuthLayer), so extractors can tell an
/// anonymous request from a route without the layer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LayerSeen;
