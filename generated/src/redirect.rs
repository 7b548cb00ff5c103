//! Redirect answers. `social/authorize` and the OAuth2 callbacks answer `302`
//! with a `Location`; the client never follows redirects, and an undeclared
//! 3xx becomes [`Error::Redirect`], so [`RedirectExt::into_redirect`] turns
//! either form of the answer into a [`Redirect`].

use std::fmt;

use reqwest::StatusCode;

use crate::redact::{redact_url, RequestSecrets};
use crate::{Error, ResponseValue};

/// A redirect the API answered with.
///
/// Its `Debug` and the errors that carry it show the `Location` without its
/// query values or fragment (an OAuth callback's `Location` carries the
/// authorization `code`) and without the secrets the request carried;
/// read [`Redirect::location`] to follow it.
#[derive(Clone)]
pub struct Redirect {
    /// The status (302 for the API's redirects).
    pub status: StatusCode,
    /// The `Location` header: where the browser would go next.
    pub location: String,
    /// The `Location` as it may be shown, redacted when the answer arrived
    /// (when the request's secrets were known).
    shown: String,
}

impl PartialEq for Redirect {
    fn eq(&self, other: &Self) -> bool {
        self.status == other.status && self.location == other.location
    }
}

impl Eq for Redirect {}

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

    /// The `Location` with every query value, the fragment and the secrets
    /// the request carried replaced, for logs.
    pub fn redacted_location(&self) -> String {
        self.shown.clone()
    }

    /// The redirect an answer's status and headers describe; `secrets` are
    /// those the request carried (a server may echo them in the path).
    pub(crate) fn from_parts(
        status: StatusCode,
        headers: &reqwest::header::HeaderMap,
        secrets: &RequestSecrets,
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
            shown: redact_url(&secrets.scrub(location)),
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
            // A success carries no redirect the request's secrets could be in
            // (3xx answers arrive as `Error::Redirect`, redacted already).
            Ok(value) => {
                Redirect::from_parts(value.status(), value.headers(), &RequestSecrets::default())
            }
            Err(Error::Redirect(redirect)) => Ok(redirect),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_secrets_in_a_location_path_are_never_shown() {
        let mut secrets = RequestSecrets::default();
        secrets.add("correcthorsebatterystaple");
        let mut headers = reqwest::header::HeaderMap::new();
        let location = "https://app.example/magic/correcthorsebatterystaple/done?code=abc";
        headers.insert(reqwest::header::LOCATION, location.parse().unwrap());
        let redirect = Redirect::from_parts(StatusCode::FOUND, &headers, &secrets).unwrap();
        assert_eq!(redirect.location, location);
        let shown = format!("{redirect:?} {}", Error::Redirect(redirect.clone()));
        assert!(!shown.contains("correcthorse"), "{shown}");
        assert!(!shown.contains("abc"), "{shown}");
        assert!(shown.contains("https://app.example/magic/"), "{shown}");
    }
}
