//! Emulator configuration: listen address, snapshot file and the apps it serves.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::kinds::SocialProvider;

/// Id of the ready-made app served when no app is configured.
pub const DEFAULT_APP_ID: &str = "emulator-app";
/// Auth origin of the ready-made app.
pub const DEFAULT_AUTH_ORIGIN: &str = "https://app.passage.test";
/// API key of the ready-made app (used by the passkey readiness report).
pub const DEFAULT_API_KEY: &str = "emulator-api-key";

/// Configuration of a whole emulator instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmulatorConfig {
    /// Address to listen on; `127.0.0.1:0` (any free loopback port) by default.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Optional JSON snapshot file: loaded on start, rewritten atomically after every change.
    #[serde(default)]
    pub state_file: Option<PathBuf>,
    /// Apps to serve; when empty, one ready-made app ([`DEFAULT_APP_ID`]) is served.
    #[serde(default)]
    pub apps: Vec<AppConfig>,
    /// Origins allowed to call the `/v1` API cross-origin, besides every app's auth origin and
    /// (unless [`cors_allow_loopback`](Self::cors_allow_loopback) is off) any loopback origin.
    #[serde(default)]
    pub cors_origins: Vec<String>,
    /// Whether any `http(s)://localhost:*`, `127.0.0.1:*` or `[::1]:*` origin may call the API (default on).
    #[serde(default = "yes")]
    pub cors_allow_loopback: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            state_file: None,
            apps: Vec::new(),
            cors_origins: Vec::new(),
            cors_allow_loopback: true,
        }
    }
}

impl EmulatorConfig {
    /// Parses a TOML configuration (`listen`, `state_file`, `[[apps]]` tables).
    pub fn from_toml_str(text: &str) -> anyhow::Result<Self> {
        Ok(toml::from_str(text)?)
    }

    /// Reads and parses a TOML configuration file.
    pub fn from_toml_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        Self::from_toml_str(&text)
    }

    /// Checks the instance-wide settings and derives the [`ServerOptions`] from them.
    pub fn server_options(&self) -> anyhow::Result<ServerOptions> {
        let mut extra_origins = Vec::new();
        for origin in &self.cors_origins {
            let normalized = crate::cors::normalize_origin(origin).ok_or_else(|| {
                anyhow::anyhow!("cors_origins: {origin:?} is not an http(s) origin")
            })?;
            extra_origins.push(normalized);
        }
        Ok(ServerOptions {
            cors: crate::cors::CorsSettings {
                allow_loopback: self.cors_allow_loopback,
                extra_origins,
            },
        })
    }

    /// The apps to serve: the configured ones, or the ready-made default app.
    pub fn effective_apps(&self) -> Vec<AppConfig> {
        if self.apps.is_empty() {
            vec![AppConfig::default()]
        } else {
            self.apps.clone()
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Instance-wide settings the handlers read (derived from [`EmulatorConfig`]).
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// Cross-origin callers of the `/v1` API.
    pub cors: crate::cors::CorsSettings,
}

/// Which identifiers users of an app may register with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllowedIdentifier {
    /// E-mail addresses only.
    Email,
    /// E.164 phone numbers only.
    Phone,
    /// Either.
    Both,
}

impl AllowedIdentifier {
    /// The wire text used in `App.allowed_identifier`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Both => "both",
        }
    }
}

/// One field of an app's user metadata schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataFieldConfig {
    /// Key under which the value is stored.
    pub field_name: String,
    /// Value type: `string`, `boolean`, `integer`, `date`, `phone` or `email`.
    #[serde(rename = "type", default = "default_field_type")]
    pub field_type: String,
    /// Label shown to users (defaults to the field name).
    #[serde(default)]
    pub friendly_name: Option<String>,
    /// Whether the field appears on the profile form.
    #[serde(default = "yes")]
    pub profile: bool,
    /// Whether the field is asked for at registration.
    #[serde(default)]
    pub registration: bool,
}

fn default_field_type() -> String {
    "string".to_owned()
}

fn yes() -> bool {
    true
}

/// Configuration of one emulated Passage app.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppConfig {
    /// App id used in every `/v1/apps/{app_id}` path.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Origin where the app's login runs (also the `aud` of its tokens).
    pub auth_origin: String,
    /// Where users go after login (`AuthResult.redirect_url`).
    pub redirect_url: String,
    /// Path of the login page, relative to the auth origin (magic links open it).
    pub login_url: String,
    /// Identifiers users may register with.
    pub allowed_identifier: AllowedIdentifier,
    /// Seconds a one-time passcode stays valid.
    pub otp_ttl_seconds: i64,
    /// Wrong passcodes allowed before the passcode is dead (`exceeded_attempts`).
    pub otp_max_attempts: u32,
    /// Seconds a magic link stays valid.
    pub magic_link_ttl_seconds: i64,
    /// Lifetime of auth tokens (JWT `exp - iat`), in seconds.
    pub auth_token_ttl_seconds: i64,
    /// Whether refresh tokens are issued.
    pub refresh_tokens: bool,
    /// Absolute lifetime of a refresh token family, in seconds.
    pub refresh_token_lifetime_seconds: i64,
    /// Seconds after a rotation during which presenting the rotated token again returns the same new pair
    /// (0 = off: any reuse revokes the family).
    pub refresh_reuse_grace_seconds: i64,
    /// Seconds a rotated-out signing key stays published in the JWKS.
    pub key_grace_seconds: i64,
    /// Whether anyone may register.
    pub public_signup: bool,
    /// User metadata fields.
    pub user_metadata_schema: Vec<MetadataFieldConfig>,
    /// Configured social providers (`apple`, `github`, `google`).
    pub social_connections: Vec<SocialProvider>,
    /// Extra redirect URIs accepted by `social/authorize` besides those under the auth origin.
    pub allowed_redirect_uris: Vec<String>,
    /// WebAuthn relying party id (defaults to the auth origin's host).
    pub rp_id: Option<String>,
    /// WebAuthn origin (defaults to the auth origin).
    pub rp_origin: Option<String>,
    /// API key accepted by the passkey readiness report.
    pub api_key: String,
}

impl std::fmt::Debug for AppConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppConfig")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("auth_origin", &self.auth_origin)
            .field("api_key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            id: DEFAULT_APP_ID.to_owned(),
            name: "Emulator App".to_owned(),
            auth_origin: DEFAULT_AUTH_ORIGIN.to_owned(),
            redirect_url: "/dashboard".to_owned(),
            login_url: "/login".to_owned(),
            allowed_identifier: AllowedIdentifier::Both,
            otp_ttl_seconds: 300,
            otp_max_attempts: 5,
            magic_link_ttl_seconds: 300,
            auth_token_ttl_seconds: 300,
            refresh_tokens: true,
            refresh_token_lifetime_seconds: 30 * 24 * 3600,
            refresh_reuse_grace_seconds: 0,
            key_grace_seconds: 3600,
            public_signup: true,
            user_metadata_schema: Vec::new(),
            social_connections: SocialProvider::ALL.to_vec(),
            allowed_redirect_uris: Vec::new(),
            rp_id: None,
            rp_origin: None,
            api_key: DEFAULT_API_KEY.to_owned(),
        }
    }
}

impl AppConfig {
    /// The WebAuthn relying-party id: `rp_id`, or the auth origin's host.
    pub fn effective_rp_id(&self) -> String {
        if let Some(id) = &self.rp_id {
            return id.clone();
        }
        url::Url::parse(&self.auth_origin)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "localhost".to_owned())
    }

    /// The WebAuthn origin: `rp_origin`, or the auth origin.
    pub fn effective_rp_origin(&self) -> String {
        self.rp_origin
            .clone()
            .unwrap_or_else(|| self.auth_origin.clone())
    }

    /// Checks the values that would make the app unusable.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(!self.id.is_empty(), "app id must not be empty");
        anyhow::ensure!(
            self.id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "app id {:?} may only contain letters, digits, '-' and '_'",
            self.id
        );
        url::Url::parse(&self.auth_origin)
            .map_err(|e| anyhow::anyhow!("app {}: bad auth_origin: {e}", self.id))?;
        anyhow::ensure!(
            self.otp_ttl_seconds > 0 && self.magic_link_ttl_seconds > 0,
            "app {}: TTLs must be positive",
            self.id
        );
        anyhow::ensure!(
            self.auth_token_ttl_seconds > 0,
            "app {}: auth_token_ttl_seconds must be positive",
            self.id
        );
        anyhow::ensure!(
            self.otp_max_attempts > 0,
            "app {}: otp_max_attempts must be positive",
            self.id
        );
        const TEN_YEARS: i64 = 10 * 365 * 24 * 3600;
        for (name, value) in [
            ("otp_ttl_seconds", self.otp_ttl_seconds),
            ("magic_link_ttl_seconds", self.magic_link_ttl_seconds),
            ("auth_token_ttl_seconds", self.auth_token_ttl_seconds),
            (
                "refresh_token_lifetime_seconds",
                self.refresh_token_lifetime_seconds,
            ),
            (
                "refresh_reuse_grace_seconds",
                self.refresh_reuse_grace_seconds,
            ),
            ("key_grace_seconds", self.key_grace_seconds),
        ] {
            anyhow::ensure!(
                (0..=TEN_YEARS).contains(&value),
                "app {}: {name} must be between 0 and {TEN_YEARS}",
                self.id
            );
        }
        for field in &self.user_metadata_schema {
            anyhow::ensure!(
                matches!(
                    field.field_type.as_str(),
                    "string" | "boolean" | "integer" | "date" | "phone" | "email"
                ),
                "app {}: metadata field {} has unknown type {:?}",
                self.id,
                field.field_name,
                field.field_type
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_toml_with_defaults() {
        let cfg = EmulatorConfig::from_toml_str(
            r#"
            listen = "127.0.0.1:9999"
            [[apps]]
            id = "my-app"
            auth_origin = "http://localhost:3000"
            refresh_reuse_grace_seconds = 10
            [[apps.user_metadata_schema]]
            field_name = "nickname"
            "#,
        )
        .unwrap();
        assert_eq!(cfg.listen.port(), 9999);
        let app = &cfg.apps[0];
        assert_eq!(app.id, "my-app");
        assert_eq!(app.effective_rp_id(), "localhost");
        assert_eq!(app.refresh_reuse_grace_seconds, 10);
        assert_eq!(app.user_metadata_schema[0].field_type, "string");
        app.validate().unwrap();
    }

    #[test]
    fn rejects_unknown_keys() {
        assert!(EmulatorConfig::from_toml_str("[[apps]]\nidd = \"x\"").is_err());
    }

    #[test]
    fn empty_config_serves_default_app() {
        let apps = EmulatorConfig::default().effective_apps();
        assert_eq!(apps.len(), 1);
        assert_eq!(apps[0].id, DEFAULT_APP_ID);
        assert_eq!(apps[0].effective_rp_id(), "app.passage.test");
    }
}
