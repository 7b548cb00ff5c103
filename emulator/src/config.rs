//! Emulator configuration: listen address, snapshot file and the apps it serves.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::base::enums::{LoginMethod, SocialProvider, TokenIssuer};

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
    /// Token the admin API (`/_emulator`) requires in the `x-emulator-admin-token` header. Without one,
    /// the admin API is open on a loopback listen address and refused (403) on any other.
    #[serde(default)]
    pub admin_token: Option<String>,
    /// `iss` of auth tokens: `emulator` (the emulator's URL, default) or `hosted`
    /// (`https://auth.passage.id/v1/apps/{app_id}`).
    #[serde(default)]
    pub token_issuer: TokenIssuer,
    /// Reproduce the hosted service's known quirks: `status: ""` and no `webauthn_types` on the `user` of
    /// WebAuthn start answers, `status: ""` on the `user` of `POST users` (default off).
    #[serde(default)]
    pub quirks: bool,
    /// Largest request body accepted, in bytes (413 above it; default 1 MiB).
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
    /// Users created at start (`[[seed.users]]`).
    #[serde(default)]
    pub seed: SeedConfig,
}

/// The seed section of a configuration (or the whole of a `--seed` file).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedConfig {
    /// Users to create at start.
    #[serde(default)]
    pub users: Vec<SeedUser>,
}

impl SeedConfig {
    /// Reads a seed file: TOML with `[[users]]` tables (JSON `{"users": [...]}` when it ends in `.json`).
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let parsed = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).map_err(anyhow::Error::from)
        } else {
            toml::from_str(&text).map_err(anyhow::Error::from)
        };
        parsed.map_err(|e| anyhow::anyhow!("seed file {}: {e}", path.display()))
    }
}

/// A user created at start: the fields of `POST /_emulator/apps/{app_id}/users` plus the app.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "serde_json::Map<String, serde_json::Value>")]
pub struct SeedUser {
    /// App of the user (default: the first app).
    #[serde(default)]
    pub app_id: Option<String>,
    /// The user.
    #[serde(flatten)]
    pub user: crate::admin::NewUser,
}

impl TryFrom<serde_json::Map<String, serde_json::Value>> for SeedUser {
    type Error = String;

    /// Takes `app_id` out, then reads the rest as a [`NewUser`](crate::admin::NewUser) (so unknown keys
    /// are refused, which `flatten` alone would not do).
    fn try_from(mut map: serde_json::Map<String, serde_json::Value>) -> Result<Self, String> {
        let app_id = match map.remove("app_id") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(id)) => Some(id),
            Some(_) => return Err("app_id must be a string".into()),
        };
        let user = serde_json::from_value(serde_json::Value::Object(map))
            .map_err(|e| crate::base::api_error::json_error_text(&e))?;
        Ok(Self { app_id, user })
    }
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            state_file: None,
            apps: Vec::new(),
            cors_origins: Vec::new(),
            cors_allow_loopback: true,
            seed: SeedConfig::default(),
            admin_token: None,
            token_issuer: TokenIssuer::default(),
            quirks: false,
            max_body_bytes: default_max_body_bytes(),
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
        anyhow::ensure!(
            self.max_body_bytes >= 1024,
            "max_body_bytes must be at least 1024"
        );
        if let Some(token) = &self.admin_token {
            anyhow::ensure!(
                token.len() >= 16,
                "admin_token must have at least 16 characters"
            );
        }
        Ok(ServerOptions {
            cors: crate::cors::CorsSettings {
                allow_loopback: self.cors_allow_loopback,
                extra_origins,
            },
            admin: AdminAccess {
                token: self.admin_token.clone(),
                loopback_bind: self.listen.ip().is_loopback(),
            },
            token_issuer: self.token_issuer,
            quirks: self.quirks,
            max_body_bytes: self.max_body_bytes,
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

fn default_max_body_bytes() -> usize {
    1024 * 1024
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Instance-wide settings the handlers read (derived from [`EmulatorConfig`]).
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Cross-origin callers of the `/v1` API.
    pub cors: crate::cors::CorsSettings,
    /// Who may use the admin API.
    pub admin: AdminAccess,
    /// `iss` of auth tokens.
    pub token_issuer: TokenIssuer,
    /// Whether the hosted service's quirks are reproduced.
    pub quirks: bool,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            cors: crate::cors::CorsSettings {
                allow_loopback: true,
                extra_origins: Vec::new(),
            },
            admin: AdminAccess::default(),
            token_issuer: TokenIssuer::default(),
            quirks: false,
            max_body_bytes: default_max_body_bytes(),
        }
    }
}

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
        (Some(token), Some(given)) if crate::base::digest::secret_eq(token, given) => Ok(()),
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
    /// Login methods offered (`passkeys`, `otp`, `magic_link`; default all): `get_app` lists only
    /// these in `auth_methods`, and starting a login or registration by another answers 403.
    pub login_methods: Vec<LoginMethod>,
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
            login_methods: LoginMethod::ALL.to_vec(),
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
    /// Whether the app offers `method`.
    pub fn offers(&self, method: LoginMethod) -> bool {
        self.login_methods.contains(&method)
    }

    /// 403 `operation_not_allowed` unless the app offers `method`.
    pub fn ensure_offers(
        &self,
        method: LoginMethod,
    ) -> Result<(), crate::base::api_error::ApiError> {
        if self.offers(method) {
            return Ok(());
        }
        Err(crate::base::api_error::ApiError::forbidden(
            "operation_not_allowed",
            format!(
                "this app does not offer {} logins",
                method.as_str().replace('_', " ")
            ),
        ))
    }

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
        anyhow::ensure!(
            !self.login_methods.is_empty(),
            "app {}: login_methods must list at least one method",
            self.id
        );
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
    fn admin_access_rules() {
        let open = AdminAccess::default();
        assert_eq!(admin_allowed(&open, None), Ok(()));
        let exposed = AdminAccess {
            token: None,
            loopback_bind: false,
        };
        assert_eq!(
            admin_allowed(&exposed, Some("anything")),
            Err(AdminRefusal::NotLoopback)
        );
        let guarded = AdminAccess {
            token: Some("0123456789abcdef".into()),
            loopback_bind: false,
        };
        assert_eq!(admin_allowed(&guarded, Some("0123456789abcdef")), Ok(()));
        assert_eq!(
            admin_allowed(&guarded, Some("0123456789abcdeX")),
            Err(AdminRefusal::BadToken)
        );
        assert_eq!(admin_allowed(&guarded, None), Err(AdminRefusal::BadToken));
        assert!(!format!("{guarded:?}").contains("0123456789abcdef"));
        let cfg = EmulatorConfig {
            listen: "0.0.0.0:8787".parse().unwrap(),
            ..EmulatorConfig::default()
        };
        assert!(!cfg.server_options().unwrap().admin.loopback_bind);
    }

    #[test]
    fn seed_section_parses() {
        let cfg = EmulatorConfig::from_toml_str(
            r#"
            [[seed.users]]
            identifier = "ada@example.com"
            email_verified = true
            status = "inactive"
            [seed.users.user_metadata]
            nickname = "ada"
            [[seed.users]]
            app_id = "other"
            identifier = "+15551234567"
            "#,
        )
        .unwrap();
        let users = &cfg.seed.users;
        assert_eq!(users.len(), 2);
        assert_eq!(
            users[0].user.status,
            crate::base::enums::UserStatus::Inactive
        );
        assert!(users[0].user.email_verified);
        assert_eq!(users[1].app_id.as_deref(), Some("other"));
        assert_eq!(users[1].user.status, crate::base::enums::UserStatus::Active);
        assert!(EmulatorConfig::from_toml_str(
            "[[seed.users]]\nidentifier = \"a@b.co\"\nstatuss = \"x\""
        )
        .is_err());
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
