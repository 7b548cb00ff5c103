//! The intercepting HTTPS proxy's settings (where it listens, where its CA lives) and the Passage
//! hosts it stands in for. The proxy itself is [`crate::proxy`]; the hosts are named here, before
//! the HTTP layer, so that a request served through the proxy can carry its [`PassageHost`] as a
//! request extension that every layer can read.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The `[intercept]` table of a configuration: run the intercepting HTTPS proxy, so that unmodified
/// Passage SDKs (which call `https://auth.passage.id` and `https://api.passage.id`) reach this
/// emulator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterceptConfig {
    /// Address the proxy listens on (keep it on loopback: whoever reaches the proxy reaches the
    /// emulated APIs). Clients use `http://ADDR` as their `HTTPS_PROXY`.
    pub listen: SocketAddr,
    /// Directory holding the proxy's local CA (`intercept-ca.pem`, which clients trust, and its
    /// key, readable by its owner only); created when missing and reused at every start.
    pub state_dir: PathBuf,
}

/// A Passage host the proxy can stand in for.
///
/// Every request the proxy serves carries the host of its tunnel as a request extension (its
/// `Host` header is left as the client sent it): that extension is how a layer tells a proxied
/// request, and which host it was for, from one that reached the emulator's own listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PassageHost {
    /// `auth.passage.id`: the Auth API and each app's JWKS.
    Auth,
    /// `api.passage.id`: the Management API.
    Api,
}

impl PassageHost {
    /// Every host, in a fixed order.
    pub const ALL: [PassageHost; 2] = [PassageHost::Auth, PassageHost::Api];

    /// The DNS name, e.g. `auth.passage.id`.
    pub fn name(self) -> &'static str {
        match self {
            PassageHost::Auth => "auth.passage.id",
            PassageHost::Api => "api.passage.id",
        }
    }

    /// The host named `name` (ASCII case-insensitive, as DNS names compare), or `None`.
    ///
    /// ```
    /// use passage_emulator::settings::intercept::PassageHost;
    /// assert_eq!(PassageHost::from_name("API.passage.id"), Some(PassageHost::Api));
    /// assert_eq!(PassageHost::from_name("passage.id"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<PassageHost> {
        PassageHost::ALL
            .into_iter()
            .find(|host| host.name().eq_ignore_ascii_case(name))
    }
}

impl std::fmt::Display for PassageHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_nothing_else_matches() {
        for host in PassageHost::ALL {
            assert_eq!(PassageHost::from_name(host.name()), Some(host));
            assert_eq!(
                PassageHost::from_name(&host.name().to_uppercase()),
                Some(host)
            );
        }
        for other in [
            "",
            "passage.id",
            "auth.passage.id.",
            "auth.passage.id:443",
            "xauth.passage.id",
            "auth.passage.io",
        ] {
            assert_eq!(PassageHost::from_name(other), None, "{other:?}");
        }
    }
}
