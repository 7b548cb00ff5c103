//! The emulator's own URLs: its root (`http://127.0.0.1:PORT`, known once it listens), the API base
//! and the issuer of each app's tokens.

use crate::base::enums::TokenIssuer;

/// Path prefix of the Auth API on the emulator's listener (and on `auth.passage.id`).
pub const AUTH_API_PREFIX: &str = "/v1";
/// Path prefix of the Management API on the emulator's listener. On `api.passage.id` (through the
/// intercepting proxy) it is `/v1`, as on Passage's service; the emulator's listener needs a prefix
/// of its own because the two APIs' paths overlap (`GET /v1/apps/{app_id}` is in both).
pub const MANAGEMENT_API_PREFIX: &str = "/management/v1";

/// Where the emulator is reached, and the URLs derived from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Urls {
    root: String,
    token_issuer: TokenIssuer,
}

impl Urls {
    /// The URLs of an emulator at `root` (`http://127.0.0.1:PORT`, no trailing slash) whose tokens
    /// carry `token_issuer`.
    pub fn new(root: impl Into<String>, token_issuer: TokenIssuer) -> Self {
        Self {
            root: root.into(),
            token_issuer,
        }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn root(&self) -> &str {
        &self.root
    }

    /// `http://127.0.0.1:PORT/v1`, the Auth API's base URL.
    pub fn base_url(&self) -> String {
        format!("{}{AUTH_API_PREFIX}", self.root)
    }

    /// `http://127.0.0.1:PORT/management/v1`, the Management API's base URL.
    pub fn management_base_url(&self) -> String {
        format!("{}{MANAGEMENT_API_PREFIX}", self.root)
    }

    /// Issuer of an app's tokens (the emulator's URL, or the hosted service's with
    /// `token_issuer = "hosted"`).
    pub fn issuer(&self, app_id: &str) -> String {
        match self.token_issuer {
            TokenIssuer::Emulator => format!("{}/apps/{app_id}", self.base_url()),
            TokenIssuer::Hosted => format!("https://auth.passage.id/v1/apps/{app_id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_follow_the_setting() {
        let emulator = Urls::new("http://127.0.0.1:9", TokenIssuer::Emulator);
        assert_eq!(emulator.issuer("a"), "http://127.0.0.1:9/v1/apps/a");
        let hosted = Urls::new("http://127.0.0.1:9", TokenIssuer::Hosted);
        assert_eq!(hosted.issuer("a"), "https://auth.passage.id/v1/apps/a");
        assert_eq!(hosted.base_url(), "http://127.0.0.1:9/v1");
        assert_eq!(
            hosted.management_base_url(),
            "http://127.0.0.1:9/management/v1"
        );
    }
}
