//! Who may use the admin API (and the UI): a configured token, or a loopback bind without one.

use crate::base::digest::secret_eq;

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

/// Why an admin request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminRefusal {
    /// The token is missing or wrong (401).
    BadToken,
    /// No token is configured and the emulator listens beyond loopback (403).
    NotLoopback,
}
