//! The emulator's own URLs: its root (`http://127.0.0.1:PORT`, known once it listens), the API base
//! and the issuer of each app's tokens.

use crate::base::enums::TokenIssuer;

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

    /// `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.root)
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
    }
}
