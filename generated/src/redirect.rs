//! Redirect answers. `social/authorize` and the OAuth2 callbacks answer `302`
//! with a `Location`; the client never follows redirects, and an undeclared
//! 3xx becomes [`Error::Redirect`], so [`RedirectExt::into_redirect`] turns
//! either form of the answer into a [`Redirect`].

use std::fmt;

use reqwest::StatusCode;

use crate::redact::redact_url;
use crate::{Error, ResponseValue};

/// A redirect the API answered with.
///
/// Its `Debug` and the errors that carry it show the `Location` without its
/// query values or fragment (an OAuth callback's `Location` carries the
/// authorization `code`); read [`Redirect::location`] to follow it.
#[derive(Clone, PartialEq, Eq)]
pub struct Redirect {
    /// The status (302 for the API's redirects).
    pub status: StatusCode,
    /// The `Location` header: where the browser would go next.
    pub location: String,
}

impl fmt::Debug for Redirect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redirect")
            .field("status", &self.status)
            .field("location", &self.redacted_location())
            .finish()
    }
}

impl Redirect {
    /// The `Location` parsed as a URL (relative locations are resolved against `base`).
    pub fn url(&self, base: &url::Url) -> Result<url::Url, url::ParseError> {
        base.join(&self.location)
    }

    /// The `Location` with every query value and the fragment replaced, for logs.
    pub fn redacted_location(&self) -> String {
        redact_url(&self.location)
    }

    /// The redirect an answer's status and headers describe.
    pub(crate) fn from_parts(
        status: StatusCode,
        headers: &reqwest::header::HeaderMap,
    ) -> Result<Redirect, Error> {
        let location = headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                Error::invalid_request(format!("HTTP {status} answer without a Location header"))
            })?;
        Ok(Redirect {
            status,
            location: location.to_string(),
        })
    }
}

/// Converts the result of a redirecting operation into its [`Redirect`].
pub trait RedirectExt {
    /// `Ok(Redirect)` for a 3xx answer with a `Location`, the call's error otherwise.
    fn into_redirect(self) -> Result<Redirect, Error>;
}

impl<T> RedirectExt for Result<ResponseValue<T>, Error> {
    fn into_redirect(self) -> Result<Redirect, Error> {
        match self {
            Ok(value) => Redirect::from_parts(value.status(), value.headers()),
            Err(Error::Redirect(redirect)) => Ok(redirect),
            Err(e) => Err(e),
        }
    }
}
