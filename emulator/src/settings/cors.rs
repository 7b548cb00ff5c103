//! Which origins may call the `/v1` API cross-origin (the CORS answers are made in
//! [`crate::http`]).

/// Which cross-origin callers are allowed, besides every app's auth origin.
#[derive(Debug, Clone, Default)]
pub struct CorsSettings {
    /// Allow `http(s)://localhost:*`, `http(s)://127.0.0.1:*` and `http(s)://[::1]:*`.
    pub allow_loopback: bool,
    /// Extra origins (`scheme://host[:port]`), already normalised.
    pub extra_origins: Vec<String>,
}

/// `scheme://host[:port]` of an origin or URL (the default port left out), or `None` when it is not
/// an http(s) origin.
pub fn normalize_origin(text: &str) -> Option<String> {
    let url = url::Url::parse(text.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return None;
    }
    Some(url.origin().ascii_serialization())
}

/// Whether an origin is on the loopback interface.
pub fn is_loopback_origin(origin: &str) -> bool {
    let Ok(url) = url::Url::parse(origin) else {
        return false;
    };
    matches!(url.scheme(), "http" | "https")
        && match url.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_origins() {
        for origin in [
            "http://localhost:3000",
            "http://127.0.0.1:5173",
            "http://[::1]:8080",
            "https://localhost",
        ] {
            assert!(is_loopback_origin(origin), "{origin}");
        }
        for origin in [
            "http://example.com",
            "http://localhost.example.com",
            "file:///tmp/x",
            "null",
        ] {
            assert!(!is_loopback_origin(origin), "{origin}");
        }
    }

    #[test]
    fn origins_are_normalised() {
        assert_eq!(
            normalize_origin("https://app.passage.test/").as_deref(),
            Some("https://app.passage.test")
        );
        assert_eq!(
            normalize_origin("https://App.Passage.test:443").as_deref(),
            Some("https://app.passage.test")
        );
        assert_eq!(
            normalize_origin("http://localhost:3000/login").as_deref(),
            Some("http://localhost:3000")
        );
        assert_eq!(normalize_origin("null"), None);
    }
}
