//! The admin API's request and answer shapes (`/_emulator/...`), shared by its handlers and the
//! optional Rust client (`admin_client`, feature `admin-client`). The shapes defined in
//! other modules (an app's configuration, an outbox message, a fault rule, a logged request) are
//! re-exported here, so that this module is the whole wire vocabulary of the admin API. (Users are
//! created, read, changed and deleted through the Management API.)

use serde::{Deserialize, Serialize};

use crate::base::redact::redacted_debug;
pub use crate::model::faults::{FaultKind, FaultRule};
pub use crate::model::outbox::OutboxMessage;
pub use crate::model::request_log::LoggedRequest;
pub use crate::settings::admin_access::ADMIN_TOKEN_HEADER;
pub use crate::settings::app::AppConfig;

/// An app, as `GET /_emulator/apps` shows it.
#[derive(Clone, Serialize, Deserialize)]
pub struct AppSummary {
    /// App id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Auth origin.
    pub auth_origin: String,
    /// WebAuthn relying party id.
    pub rp_id: String,
    /// WebAuthn origin.
    pub rp_origin: String,
    /// Auth API base URL (`.../v1`).
    pub base_url: String,
    /// Management API base URL (`.../management/v1`).
    pub management_base_url: String,
    /// `iss` of the app's tokens.
    pub issuer: String,
    /// Key id that signs new tokens.
    pub active_kid: Option<String>,
    /// The full configuration.
    pub config: AppConfig,
}
redacted_debug!(AppSummary {
    id,
    name,
    auth_origin,
    rp_id,
    rp_origin,
    base_url,
    management_base_url,
    issuer,
    active_kid,
    config
});

/// A session issued without a ceremony (the spec's `AuthResult`).
#[derive(Clone, Serialize, Deserialize)]
pub struct AuthResult {
    /// Signed auth token (JWT).
    pub auth_token: String,
    /// Where the user goes after login.
    pub redirect_url: String,
    /// Refresh token, when the app issues them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Remaining lifetime of the refresh token family, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_expiration: Option<i64>,
}
redacted_debug!(AuthResult {
    redirect_url,
    refresh_token_expiration
});

/// The emulator clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockReading {
    /// Emulator time (Unix seconds).
    pub now: i64,
    /// How far it was moved forward, in seconds.
    pub offset_seconds: i64,
}

/// The answer of a key rotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotatedKey {
    /// The new signing key's id.
    pub kid: String,
    /// The key it replaced.
    pub previous_kid: Option<String>,
}

/// Where an API key comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiKeySource {
    /// The app's configuration (`api_keys`): shown in full, like the rest of the configuration.
    Configured,
    /// Made through `POST /_emulator/apps/{app_id}/api-keys`: shown once, then only its hint.
    Created,
}

/// An API key of an app, as `GET /_emulator/apps/{app_id}/api-keys` lists it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyInfo {
    /// Key id (for revoking it).
    pub id: String,
    /// Configured or made at runtime.
    pub source: ApiKeySource,
    /// The key itself: always for a configured key; for a made one only in the answer that made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The key's last four characters.
    pub hint: String,
    /// The name given when it was made ("" for configured keys and unnamed ones).
    pub name: String,
    /// When it was made (RFC 3339; absent for configured keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}
redacted_debug!(ApiKeyInfo {
    id,
    source,
    hint,
    name,
    created_at
});

/// Body of `POST /_emulator/apps/{app_id}/api-keys` (may be empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// A name to recognise the key by (at most 100 characters).
    #[serde(default)]
    pub name: String,
}
