//! Who may use the admin API (and the UI): a configured token, or a loopback bind without one.

use crate::base::digest::secret_eq;
use crate::settings::cors::{is_loopback_origin, normalize_origin};

/// Header carrying the admin token (when the emulator is configured with one).
pub const ADMIN_TOKEN_HEADER: &str = "x-emulator-admin-token";

/// Who may use the admin API.
#[derive(Clone)]
pub struct AdminAccess {
    /// Required token, when configured.
    pub token: Option<String>,
    /// Whether the emulator listens on a loopback address.
    pub loopback_bind: bool,
}

impl Default for AdminAccess {
    fn default() -> Self {
        Self {
            token: None,
            loopback_bind: true,
        }
    }
}

impl std::fmt::Debug for AdminAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminAccess")
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("loopback_bind", &self.loopback_bind)
            .finish()
    }
}

/// Whether an admin request may proceed: with a configured token it must carry it; without one, only a
/// loopback-bound emulator serves the admin API.
pub fn admin_allowed(access: &AdminAccess, presented: Option<&str>) -> Result<(), AdminRefusal> {
    match (&access.token, presented) {
        (Some(token), Some(given)) if secret_eq(token, given) => Ok(()),
        (Some(_), _) => Err(AdminRefusal::BadToken),
        (None, _) if access.loopback_bind => Ok(()),
        (None, _) => Err(AdminRefusal::NotLoopback),
    }
}

/// Whether a browser request to the admin API or the UI comes from a page that may drive it, by its
/// `Origin` header (`origin`) and the `Host` it was sent to (`host`, already allowed by
/// [`crate::settings::hosts::HostSettings::allows`]):
///
/// - no `Origin` (command-line tools, SDK tests, a browser's top-level navigation): yes;
/// - the emulator's own origin (`http(s)://` + the request's `Host`) or any loopback origin: yes;
/// - any other origin, `null` (sandboxed frames, `file:` pages, some redirects) included: no.
pub fn admin_origin_allowed(origin: Option<&str>, host: Option<&str>) -> bool {
    let Some(origin) = origin else {
        return true;
    };
    let Some(origin) = normalize_origin(origin) else {
        return false;
    };
    if is_loopback_origin(&origin) {
        return true;
    }
    host.is_some_and(|host| {
        ["http", "https"].iter().any(|scheme| {
            normalize_origin(&format!("{scheme}://{host}")).as_deref() == Some(origin.as_str())
        })
    })
}

/// Why an admin request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminRefusal {
    /// The token is missing or wrong (401).
    BadToken,
    /// No token is configured and the emulator listens beyond loopback (403).
    NotLoopback,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_origins() {
        let host = Some("127.0.0.1:8787");
        for ok in [
            None,
            Some("http://127.0.0.1:8787"),
            Some("http://localhost:3000"),
            Some("http://[::1]:1"),
        ] {
            assert!(admin_origin_allowed(ok, host), "{ok:?}");
        }
        for bad in [
            "https://evil.example",
            "null",
            "http://evil.example:8787",
            "file://",
            "",
        ] {
            assert!(!admin_origin_allowed(Some(bad), host), "{bad}");
        }
        // A configured name: the page served from it is the emulator's own origin.
        let named = Some("emulator.internal:8787");
        assert!(admin_origin_allowed(
            Some("http://emulator.internal:8787"),
            named
        ));
        assert!(!admin_origin_allowed(
            Some("http://emulator.internal:9999"),
            named
        ));
        assert!(!admin_origin_allowed(
            Some("http://emulator.internal:8787"),
            None
        ));
    }
}
