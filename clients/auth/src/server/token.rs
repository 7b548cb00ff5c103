//! Where a request carries its Passage auth token.

use http::header::{AUTHORIZATION, COOKIE};
use http::HeaderMap;

/// The cookie in which Passage's web elements keep the auth token.
pub const AUTH_COOKIE: &str = "psg_auth_token";

/// The request's Passage auth token: the credentials of the first
/// `Authorization` header whose scheme is `Bearer` (in any case, RFC 7235),
/// else the value of the [`AUTH_COOKIE`] cookie. `None` when neither is there
/// or the value is empty.
///
/// ```
/// use http::{header, HeaderMap, HeaderValue};
/// use passage_auth_client::server::bearer_token;
///
/// let mut headers = HeaderMap::new();
/// headers.insert(header::COOKIE, HeaderValue::from_static("theme=dark; psg_auth_token=abc.def.ghi"));
/// assert_eq!(bearer_token(&headers), Some("abc.def.ghi"));
/// headers.insert(header::AUTHORIZATION, HeaderValue::from_static("bearer xyz.uvw.rst"));
/// assert_eq!(bearer_token(&headers), Some("xyz.uvw.rst"));
/// ```
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(AUTHORIZATION)
        .iter()
        .find_map(|value| from_authorization(value.to_str().ok()?))
        .or_else(|| {
            headers
                .get_all(COOKIE)
                .iter()
                .find_map(|value| from_cookie(value.to_str().ok()?))
        })
}

fn from_authorization(value: &str) -> Option<&str> {
    let (scheme, credentials) = value.trim_start().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    non_empty(credentials.trim())
}

fn from_cookie(value: &str) -> Option<&str> {
    value.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        if name.trim() != AUTH_COOKIE {
            return None;
        }
        let value = value.trim();
        // RFC 6265 allows a cookie value in double quotes.
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        non_empty(value)
    })
}

fn non_empty(value: &str) -> Option<&str> {
    (!value.is_empty()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(http::HeaderName, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name.clone(), HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn bearer_scheme_in_any_case() {
        for value in [
            "Bearer t.o.k",
            "bearer t.o.k",
            "BEARER t.o.k",
            "bEaReR   t.o.k  ",
        ] {
            assert_eq!(
                bearer_token(&headers(&[(AUTHORIZATION, value)])),
                Some("t.o.k"),
                "{value}"
            );
        }
    }

    #[test]
    fn other_schemes_and_empty_credentials_are_no_token() {
        for value in [
            "Basic dXNlcjpwYXNz",
            "Bearer",
            "Bearer   ",
            "Bearert.o.k",
            "Token t.o.k",
        ] {
            assert_eq!(
                bearer_token(&headers(&[(AUTHORIZATION, value)])),
                None,
                "{value}"
            );
        }
    }

    #[test]
    fn the_first_bearer_header_wins() {
        let map = headers(&[
            (AUTHORIZATION, "Basic dXNlcjpwYXNz"),
            (AUTHORIZATION, "Bearer first"),
            (AUTHORIZATION, "Bearer second"),
        ]);
        assert_eq!(bearer_token(&map), Some("first"));
    }

    #[test]
    fn the_cookie_when_there_is_no_bearer_header() {
        let map = headers(&[
            (AUTHORIZATION, "Basic dXNlcjpwYXNz"),
            (COOKIE, "a=1"),
            (COOKIE, "theme=dark;  psg_auth_token=c.o.o ; other=2"),
        ]);
        assert_eq!(bearer_token(&map), Some("c.o.o"));
        assert_eq!(
            bearer_token(&headers(&[(COOKIE, "psg_auth_token=\"q.u.o\"")])),
            Some("q.u.o")
        );
    }

    #[test]
    fn the_header_is_preferred_to_the_cookie() {
        let map = headers(&[
            (COOKIE, "psg_auth_token=cookie"),
            (AUTHORIZATION, "Bearer header"),
        ]);
        assert_eq!(bearer_token(&map), Some("header"));
    }

    #[test]
    fn similar_cookie_names_and_empty_values_are_no_token() {
        for value in [
            "xpsg_auth_token=a",
            "psg_auth_token_2=a",
            "psg_auth_token=",
            "psg_auth_token=\"\"",
        ] {
            assert_eq!(bearer_token(&headers(&[(COOKIE, value)])), None, "{value}");
        }
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }
}
