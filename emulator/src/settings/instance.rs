//! The configuration of a whole emulator instance (listen address, state file, apps, CORS, admin
//! token, seed users) and the instance-wide options the handlers read.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::base::enums::TokenIssuer;

use super::admin_access::AdminAccess;
use super::app::AppConfig;
use super::hosts::HostSettings;
use super::intercept::InterceptConfig;
use super::seed::SeedConfig;

/// Configuration of a whole emulator instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmulatorConfig {
    /// Address to listen on; `127.0.0.1:0` (any free loopback port) by default.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Optional state file (an SQLite database): loaded at start; every change is committed to it
    /// before its request is answered.
    #[serde(default)]
    pub state_file: Option<PathBuf>,
    /// Apps to serve; when empty, one ready-made app ([`DEFAULT_APP_ID`](crate::settings::app::DEFAULT_APP_ID)) is served.
    #[serde(default)]
    pub apps: Vec<AppConfig>,
    /// Origins allowed to call the `/v1` API cross-origin, besides every app's auth origin and
    /// (unless [`cors_allow_loopback`](Self::cors_allow_loopback) is off) any loopback origin.
    #[serde(default)]
    pub cors_origins: Vec<String>,
    /// Whether any `http(s)://localhost:*`, `127.0.0.1:*` or `[::1]:*` origin may call the API (default on).
    #[serde(default = "super::app::yes")]
    pub cors_allow_loopback: bool,
    /// Host names (or IP addresses) the emulator answers besides loopback ones and its listen
    /// address: every request whose `Host` is none of them gets 403 `host_not_allowed` (DNS
    /// rebinding). Name here what clients reach a non-loopback emulator by (e.g. a container name).
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
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
    /// The intercepting HTTPS proxy (`[intercept]`): when set, [`Emulator::start`](crate::Emulator::start)
    /// also runs a proxy that serves the Auth API as `auth.passage.id` and the Management API as
    /// `api.passage.id`, for unmodified Passage SDKs.
    #[serde(default)]
    pub intercept: Option<InterceptConfig>,
    /// Keep every API request with its whole answer ([`EmulatorHandle::exchanges`]), for test
    /// harnesses that check answers against the spec (default off; not a configuration-file key:
    /// the bodies hold tokens and passcodes, and the list grows until taken).
    ///
    /// [`EmulatorHandle::exchanges`]: crate::EmulatorHandle::exchanges
    #[serde(skip)]
    pub record_exchanges: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            state_file: None,
            apps: Vec::new(),
            cors_origins: Vec::new(),
            cors_allow_loopback: true,
            allowed_hosts: Vec::new(),
            seed: SeedConfig::default(),
            admin_token: None,
            token_issuer: TokenIssuer::default(),
            quirks: false,
            max_body_bytes: default_max_body_bytes(),
            intercept: None,
            record_exchanges: false,
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
            let normalized = super::cors::normalize_origin(origin).ok_or_else(|| {
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
        let hosts =
            HostSettings::new(&self.allowed_hosts, self.listen.ip()).map_err(anyhow::Error::msg)?;
        Ok(ServerOptions {
            hosts,
            cors: super::cors::CorsSettings {
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
            record_exchanges: self.record_exchanges,
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
    /// The `Host`s answered (DNS rebinding defence).
    pub hosts: HostSettings,
    /// Cross-origin callers of the `/v1` API.
    pub cors: super::cors::CorsSettings,
    /// Who may use the admin API.
    pub admin: AdminAccess,
    /// `iss` of auth tokens.
    pub token_issuer: TokenIssuer,
    /// Whether the hosted service's quirks are reproduced.
    pub quirks: bool,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Whether every API exchange is recorded (`Context::exchanges`).
    pub record_exchanges: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            hosts: HostSettings::default(),
            cors: super::cors::CorsSettings {
                allow_loopback: true,
                extra_origins: Vec::new(),
            },
            admin: AdminAccess::default(),
            token_issuer: TokenIssuer::default(),
            quirks: false,
            max_body_bytes: default_max_body_bytes(),
            record_exchanges: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::admin_access::{admin_allowed, AdminRefusal};
    use crate::settings::app::DEFAULT_APP_ID;

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
    fn intercept_section_parses() {
        let cfg = EmulatorConfig::from_toml_str(
            "[intercept]\nlisten = \"127.0.0.1:8443\"\nstate_dir = \"/tmp/emulator-state\"\n",
        )
        .unwrap();
        let intercept = cfg.intercept.expect("intercept");
        assert_eq!(intercept.listen.port(), 8443);
        assert_eq!(intercept.state_dir, Path::new("/tmp/emulator-state"));
        assert!(EmulatorConfig::default().intercept.is_none());
        assert!(EmulatorConfig::from_toml_str("[intercept]\nlisten = \"127.0.0.1:1\"\n").is_err());
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
