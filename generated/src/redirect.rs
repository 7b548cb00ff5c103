//! Redirect answers. `social/authorize` and the OAuth2 callbacks answer `302`
//! with a `Location`; the client never follows redirects, and progenitor
//! reports a 3xx as an undeclared status, so [`RedirectExt::into_redirect`]
//! turns that answer into a [`Redirect`].

use reqwest::StatusCode;

use crate::{Error, GeneratedError, ResponseValue};

/// A redirect the API answered with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirect {
    /// The status (302 for the API's redirects).
    pub status: StatusCode,
    /// The `Location` header: where the browser would go next.
    pub location: String,
}

impl Redirect {
    /// The `Location` parsed as a URL (relative locations are resolved against `base`).
    pub fn url(&self, base: &url::Url) -> Result<url::Url, url::ParseError> {
        base.join(&self.location)
    }
}

/// Converts the result of a redirecting operation into its [`Redirect`].
pub trait RedirectExt {
    /// `Ok(Redirect)` for a 3xx answer with a `Location`, the call's error otherwise.
    fn into_redirect(self) -> Result<Redirect, Error>;
}

impl<T> RedirectExt for Result<ResponseValue<T>, GeneratedError> {
    fn into_redirect(self) -> Result<Redirect, Error> {
        match self {
            Ok(value) => from_parts(value.status(), value.headers()),
            Err(progenitor_client::Error::UnexpectedResponse(response))
                if response.status().is_redirection() =>
            {
                from_parts(response.status(), response.headers())
            }
            Err(e) => Err(e.into()),
        }
    }
}

fn from_parts(status: StatusCode, headers: &reqwest::header::HeaderMap) -> Result<Redirect, Error> {
    let location = headers
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            Error::InvalidRequest(format!("HTTP {status} answer without a Location header"))
        })?;
    Ok(Redirect {
        status,
        location: location.to_string(),
    })
}
