//! [`RedirectExt`]: the answer of a redirecting operation (`social/authorize`,
//! the OAuth2 callbacks answer `302`) as its [`Redirect`]. The client never
//! follows redirects, and an undeclared 3xx arrives as [`Error::Redirect`],
//! so either form of the answer becomes a `Redirect`.

use passage_runtime::{Error, Redirect, ResponseValue};

/// Converts the result of a redirecting operation into its [`Redirect`].
pub trait RedirectExt<C> {
    /// `Ok(Redirect)` for a 3xx answer with a `Location`, the call's error otherwise.
    fn into_redirect(self) -> Result<Redirect, Error<C>>;
}

impl<T, C> RedirectExt<C> for Result<ResponseValue<T>, Error<C>> {
    fn into_redirect(self) -> Result<Redirect, Error<C>> {
        match self {
            // A success carries no redirect the request's secrets could be in
            // (3xx answers arrive as `Error::Redirect`, redacted already).
            Ok(value) => Redirect::from_answer(value.status(), value.headers()).ok_or_else(|| {
                Error::invalid_request(format!(
                    "HTTP {} answer without a Location header",
                    value.status()
                ))
            }),
            Err(Error::Redirect(redirect)) => Ok(redirect),
            Err(e) => Err(e),
        }
    }
}
