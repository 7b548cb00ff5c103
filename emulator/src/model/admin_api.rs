//! The admin API's request and answer shapes (`/_emulator/...`), shared by its handlers and the
//! optional Rust client (`admin_client`, feature `admin-client`). The shapes defined in
//! other modules (an app's configuration, a new user, an outbox message, a fault rule, a logged
//! request) are re-exported here, so that this module is the whole wire vocabulary of the admin API.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::base::enums::{DeviceKind, SocialProvider, UserStatus};
use crate::base::redact::redacted_debug;
pub use crate::model::faults::{FaultKind, FaultRule};
pub use crate::model::outbox::OutboxMessage;
pub use crate::model::request_log::LoggedRequest;
pub use crate::settings::admin_access::ADMIN_TOKEN_HEADER;
pub use crate::settings::app::AppConfig;
pub use crate::settings::seed::NewUser;

/// Body of `PATCH /_emulator/apps/{app_id}/users/{user_id}`: only the fields given change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// New status (`inactive` makes every login answer 403 `user_not_active`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<UserStatus>,
    /// New e-mail verification flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// New phone verification flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_verified: Option<bool>,
    /// Metadata changes, checked against the app's schema (`null` removes a field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_metadata: Option<serde_json::Map<String, Value>>,
}

/// A device of a user, as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminDevice {
    /// Device id.
    pub id: String,
    /// WebAuthn credential id (base64url).
    pub cred_id: String,
    /// Display name.
    pub friendly_name: String,
    /// Kind.
    pub kind: DeviceKind,
    /// Registered at (RFC 3339).
    pub created_at: String,
    /// Last used (RFC 3339).
    pub last_login_at: String,
    /// Logins made with it.
    pub usage_count: i64,
}

/// A user, as the admin API shows it (more than the spec's `User`: devices, sessions, timestamps).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminUser {
    /// User id.
    pub id: String,
    /// E-mail address ("" when none).
    pub email: String,
    /// Whether the e-mail was verified.
    pub email_verified: bool,
    /// Phone number ("" when none).
    pub phone: String,
    /// Whether the phone was verified.
    pub phone_verified: bool,
    /// Status.
    pub status: UserStatus,
    /// Metadata.
    pub user_metadata: BTreeMap<String, Value>,
    /// Successful logins.
    pub login_count: i64,
    /// Created at (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
    /// Last login (RFC 3339), if any.
    pub last_login_at: Option<String>,
    /// Devices.
    pub devices: Vec<AdminDevice>,
    /// Linked social providers.
    pub social_connections: Vec<SocialProvider>,
    /// Sessions (refresh token families) neither revoked nor expired.
    pub active_sessions: usize,
}

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
    /// API base URL (`.../v1`).
    pub base_url: String,
    /// `iss` of the app's tokens.
    pub issuer: String,
    /// API key of the passkey readiness report.
    pub api_key: String,
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
