//! The closed sets of wire values as typed enums (serialised in snake case, as on the wire and in
//! the state file).

use serde::{Deserialize, Serialize};

/// Status of a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    /// May log in.
    Active,
    /// Deactivated: every login answers 403 `user_not_active`.
    Inactive,
    /// Registered but never logged in; the first login makes the user active.
    Pending,
}

impl UserStatus {
    /// The wire text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Pending => "pending",
        }
    }
}

/// Kind of a WebAuthn device (`Credential.type`, `webauthn_types`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// A passkey (every device the emulator registers).
    Passkey,
    /// A roaming security key.
    SecurityKey,
    /// A platform authenticator.
    Platform,
}

impl DeviceKind {
    /// The wire text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passkey => "passkey",
            Self::SecurityKey => "security_key",
            Self::Platform => "platform",
        }
    }
}

/// Kind of an outbox message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxKind {
    /// A one-time passcode.
    Otp,
    /// A magic link.
    MagicLink,
}

/// A social login provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SocialProvider {
    /// Sign in with Apple.
    Apple,
    /// GitHub.
    Github,
    /// Google.
    Google,
}

impl SocialProvider {
    /// Every provider.
    pub const ALL: [Self; 3] = [Self::Apple, Self::Github, Self::Google];

    /// The wire text (`connection_type`, keys of `social_connections`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Apple => "apple",
            Self::Github => "github",
            Self::Google => "google",
        }
    }

    /// Parses the wire text.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == text)
    }
}

impl std::fmt::Display for SocialProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A way of logging in an app offers (`auth_methods` of `get_app`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginMethod {
    /// Passkeys (WebAuthn registration and login).
    Passkeys,
    /// One-time passcodes (TTL: the app's `otp_ttl_seconds`).
    Otp,
    /// Magic links (TTL: the app's `magic_link_ttl_seconds`).
    MagicLink,
}

impl LoginMethod {
    /// Every method, the default set.
    pub const ALL: [Self; 3] = [Self::Passkeys, Self::Otp, Self::MagicLink];

    /// The key in `auth_methods`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passkeys => "passkeys",
            Self::Otp => "otp",
            Self::MagicLink => "magic_link",
        }
    }
}

/// Which `iss` an emulator's tokens carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenIssuer {
    /// `http://127.0.0.1:PORT/v1/apps/{app_id}`, the emulator's own URL.
    #[default]
    Emulator,
    /// `https://auth.passage.id/v1/apps/{app_id}`, as the hosted service's tokens.
    Hosted,
}

/// What a social flow logs in with: Passage's own hosted login or a social provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionType {
    /// Passage's hosted login (never linked as a social connection).
    Passage,
    /// Sign in with Apple.
    Apple,
    /// GitHub.
    Github,
    /// Google.
    Google,
}

impl ConnectionType {
    /// Parses the wire text (`connection_type`).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "passage" => Some(Self::Passage),
            other => SocialProvider::parse(other).map(Self::from),
        }
    }

    /// The social provider, or `None` for Passage's own login.
    pub fn provider(self) -> Option<SocialProvider> {
        match self {
            Self::Passage => None,
            Self::Apple => Some(SocialProvider::Apple),
            Self::Github => Some(SocialProvider::Github),
            Self::Google => Some(SocialProvider::Google),
        }
    }

    /// The wire text.
    pub fn as_str(self) -> &'static str {
        self.provider().map_or("passage", SocialProvider::as_str)
    }
}

impl From<SocialProvider> for ConnectionType {
    fn from(p: SocialProvider) -> Self {
        match p {
            SocialProvider::Apple => Self::Apple,
            SocialProvider::Github => Self::Github,
            SocialProvider::Google => Self::Google,
        }
    }
}

/// How a magic link made through the Management API reaches its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MagicLinkChannel {
    /// By e-mail.
    Email,
    /// By text message.
    Phone,
}

/// What redeeming a magic link made through the Management API does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MagicLinkType {
    /// Log the user in.
    #[default]
    Login,
    /// Verify the identifier the link was sent to (the user is logged in too).
    VerifyIdentifier,
}

/// Language of a delivered message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageLanguage {
    /// German.
    De,
    /// English.
    En,
    /// Spanish.
    Es,
    /// Italian.
    It,
    /// Polish.
    Pl,
    /// Portuguese.
    Pt,
    /// Chinese.
    Zh,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_text_matches_serde() {
        for s in [
            UserStatus::Active,
            UserStatus::Inactive,
            UserStatus::Pending,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for k in [
            DeviceKind::Passkey,
            DeviceKind::SecurityKey,
            DeviceKind::Platform,
        ] {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for p in SocialProvider::ALL {
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
            assert_eq!(SocialProvider::parse(p.as_str()), Some(p));
        }
        for c in ["passage", "apple", "github", "google"] {
            let parsed = ConnectionType::parse(c).unwrap();
            assert_eq!(parsed.as_str(), c);
            assert_eq!(serde_json::to_value(parsed).unwrap(), c);
        }
        assert_eq!(
            serde_json::to_value(OutboxKind::MagicLink).unwrap(),
            "magic_link"
        );
    }
}
