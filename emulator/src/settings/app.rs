//! The configuration of one emulated Passage app (an `[[apps]]` table).

use serde::{Deserialize, Serialize};

use crate::base::enums::{LoginMethod, SocialProvider};

/// Id of the ready-made app served when no app is configured.
pub const DEFAULT_APP_ID: &str = "emulator-app";
/// Auth origin of the ready-made app.
pub const DEFAULT_AUTH_ORIGIN: &str = "https://app.passage.test";
/// The API key configured for an app when its configuration names none: the Management API's
/// bearer token and the passkey readiness report's `X-API-KEY`.
pub const DEFAULT_API_KEY: &str = "emulator-api-key";

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

pub(super) fn yes() -> bool {
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
    /// The app's configured API keys (default: [`DEFAULT_API_KEY`]): each is accepted as the
    /// Management API's bearer token and as the passkey readiness report's `X-API-KEY`. Keys made
    /// through the admin API at runtime are kept beside these, as digests.
    pub api_keys: Vec<String>,
}

impl std::fmt::Debug for AppConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppConfig")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("auth_origin", &self.auth_origin)
            .field(
                "api_keys",
                &format_args!("[{} redacted]", self.api_keys.len()),
            )
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
            api_keys: vec![DEFAULT_API_KEY.to_owned()],
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
        for (i, key) in self.api_keys.iter().enumerate() {
            anyhow::ensure!(
                (8..=256).contains(&key.len()) && key.chars().all(|c| c.is_ascii_graphic()),
                "app {}: api_keys[{i}] must have 8 to 256 visible ASCII characters",
                self.id
            );
            anyhow::ensure!(
                !self.api_keys[..i].contains(key),
                "app {}: api_keys[{i}] is listed twice",
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
