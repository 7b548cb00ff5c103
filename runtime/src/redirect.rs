//! [`Redirect`]: a redirect an API answered with. The clients never follow
//! redirects (an OAuth callback's `Location` carries the authorization code);
//! an undeclared 3xx becomes [`crate::Error::Redirect`], and a client crate's
//! extension turns a declared one into a `Redirect` too.

use std::fmt;

use reqwest::StatusCode;

use crate::redact::{redact_url, RequestSecrets};

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

    /// The redirect an answer's status and headers describe (`None` without
    /// a readable `Location`); `secrets` are those the request carried (a
    /// server may echo them in the path).
    pub(crate) fn from_parts(
        status: StatusCode,
        headers: &reqwest::header::HeaderMap,
        secrets: &RequestSecrets,
    ) -> Option<Redirect> {
        let location = headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())?;
        Some(Redirect {
            status,
            location: location.to_string(),
            shown: redact_url(&secrets.scrub(location)),
        })
    }

    /// The redirect a successful answer's status and headers describe
    /// (`None` without a readable `Location`).
    pub fn from_answer(
        status: StatusCode,
        headers: &reqwest::header::HeaderMap,
    ) -> Option<Redirect> {
        Self::from_parts(status, headers, &RequestSecrets::default())
    }
}
