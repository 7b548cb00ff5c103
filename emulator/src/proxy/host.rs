//! The host names the proxy can intercept.

use std::fmt;

/// A Passage host the proxy can stand in for.
///
/// The served router receives the host of each request as a request extension too, so that one
/// router can tell the two hosts apart (their `/v1/apps/{app_id}…` paths overlap).
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
    /// use passage_emulator::proxy::PassageHost;
    /// assert_eq!(PassageHost::from_name("API.passage.id"), Some(PassageHost::Api));
    /// assert_eq!(PassageHost::from_name("passage.id"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<PassageHost> {
        PassageHost::ALL
            .into_iter()
            .find(|host| host.name().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for PassageHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
