//! The records of an app (users, devices, passcodes, magic links, refresh tokens, ...) and of the
//! social logins in progress, as kept in memory and in the state file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::base::enums::{ConnectionType, DeviceKind, SocialProvider, UserStatus};
use crate::base::redact::redacted_debug;
use crate::jwt::IssuedToken;

/// A user of an app.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserRecord {
    /// User id.
    pub id: String,
    /// E-mail address ("" when none).
    pub email: String,
    /// E.164 phone number ("" when none).
    pub phone: String,
    /// The app's own id for a user made through a Flex transaction ("" for other users).
    #[serde(default)]
    pub external_id: String,
    /// Whether the e-mail was verified.
    pub email_verified: bool,
    /// Whether the phone was verified.
    pub phone_verified: bool,
    /// Status.
    pub status: UserStatus,
    /// Metadata values.
    pub user_metadata: BTreeMap<String, serde_json::Value>,
    /// Successful logins.
    pub login_count: i64,
    /// Creation time (emulator seconds).
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
    /// Last login.
    pub last_login_at: Option<i64>,
    /// Linked social accounts by provider (`apple`, `github`, `google`).
    pub social: BTreeMap<SocialProvider, SocialLink>,
    /// WebAuthn user handle (a UUID), put in passkeys registered by this user.
    #[serde(default = "new_handle")]
    pub webauthn_handle: uuid::Uuid,
}

fn new_handle() -> uuid::Uuid {
    crate::base::random::random_uuid()
}

/// What a transaction (opened by an app's backend through the Management API) is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionKind {
    /// A passkey registration bound to the transaction.
    Register,
    /// A passkey authentication bound to the transaction.
    Authenticate,
}

/// A transaction for the `*/transactions/webauthn/*` operations.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TransactionRecord {
    /// Transaction id.
    pub id: String,
    /// Register or authenticate.
    pub kind: TransactionKind,
    /// The user it is for.
    pub user_id: String,
    /// Created at.
    pub created_at: i64,
    /// Whether a ceremony completed for it.
    pub completed: bool,
    /// The name a registration's passkey is stored under (the WebAuthn user name and display
    /// name), as the backend gave it.
    #[serde(default)]
    pub passkey_display_name: Option<String>,
}

/// A nonce issued when a transaction ceremony succeeded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NonceRecord {
    /// Transaction it proves.
    pub transaction_id: Option<String>,
    /// User who completed the ceremony.
    pub user_id: String,
    /// Issued at.
    pub issued_at: i64,
}

/// An API key of an app made through the admin API (its configured keys are in its settings). Only
/// its digest is kept: the key itself is shown once, when it is made.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    /// Id of the key (for listing and revoking it).
    pub id: String,
    /// SHA-256 digest (hex) of the key.
    pub digest: String,
    /// The key's last four characters, to recognise it by.
    pub hint: String,
    /// A name given when it was made ("" when none).
    pub name: String,
    /// When it was made (emulator seconds).
    pub created_at: i64,
}

/// A linked social account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SocialLink {
    /// Account id at the provider.
    pub provider_id: String,
    /// E-mail at the provider.
    pub provider_identifier: String,
    /// When linked.
    pub created_at: i64,
    /// When last used.
    pub last_login_at: i64,
}

/// A WebAuthn credential of a user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceRecord {
    /// Passage id of the device.
    pub id: String,
    /// WebAuthn credential id (base64url).
    pub cred_id: String,
    /// Display name.
    pub friendly_name: String,
    /// Owner.
    pub user_id: String,
    /// Kind.
    pub kind: DeviceKind,
    /// Registered at.
    pub created_at: i64,
    /// Changed at.
    pub updated_at: i64,
    /// Last used.
    pub last_login_at: i64,
    /// Logins made with it.
    pub usage_count: i64,
    /// The ceremony engine's stored credential (opaque JSON).
    pub credential: serde_json::Value,
}

/// What activating a magic link does.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LinkPurpose {
    /// Log the user in (registration or login).
    Login,
    /// Switch the user's e-mail to `new_email`.
    ChangeEmail {
        /// The new address.
        new_email: String,
    },
    /// Switch the user's phone to `new_phone`.
    ChangePhone {
        /// The new number.
        new_phone: String,
    },
}

/// A magic link that was sent.
#[derive(Clone, Serialize, Deserialize)]
pub struct MagicLinkRecord {
    /// Id returned to the client, used for status polling.
    pub id: String,
    /// SHA-256 digest (hex) of the secret in the link URL (the secret itself is not kept).
    pub secret_digest: String,
    /// User the link belongs to.
    pub user_id: String,
    /// Which identifier it was sent to.
    pub identifier: String,
    /// What it does.
    pub purpose: LinkPurpose,
    /// Expiry (emulator seconds).
    pub expires_at: i64,
    /// Whether it was activated.
    pub activated: bool,
    /// Whether a status poll has received an auth result (polls keep answering until the link expires).
    pub status_delivered: bool,
    /// Redirect URL given on an identifier change.
    pub redirect_url: Option<String>,
}

/// A one-time passcode that was sent.
#[derive(Clone, Serialize, Deserialize)]
pub struct OtpRecord {
    /// Id returned to the client.
    pub id: String,
    /// HMAC-SHA256 (hex) of the code under the app's passcode key
    /// ([`AppRecord::passcode_key`](crate::model::app::AppRecord::passcode_key), never stored): a plain digest of six digits is
    /// reversed by trying the million codes. Empty for a record written before passcodes were
    /// digested (it never matches).
    #[serde(default)]
    pub code_digest: String,
    /// Id of the passcode key the digest was made with: a passcode issued by an earlier run of the
    /// emulator (another key) is answered as expired.
    #[serde(default)]
    pub key_id: String,
    /// User it logs in.
    pub user_id: String,
    /// Identifier it was sent to.
    pub identifier: String,
    /// Expiry.
    pub expires_at: i64,
    /// Wrong attempts so far.
    pub failed_attempts: u32,
    /// Whether it was redeemed (or killed by too many attempts).
    pub used: bool,
}

/// State of one refresh token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RefreshState {
    /// Current token of its family.
    Active,
    /// Replaced by a newer token.
    Rotated {
        /// When it was rotated.
        at: i64,
        /// Digest of its successor.
        successor: String,
    },
    /// Explicitly revoked.
    Revoked,
}

/// One refresh token (stored by digest).
#[derive(Clone, Serialize, Deserialize)]
pub struct RefreshRecord {
    /// Family (login session) it belongs to.
    pub family_id: String,
    /// User.
    pub user_id: String,
    /// Issued at.
    pub issued_at: i64,
    /// Current state.
    pub state: RefreshState,
    /// For the reuse grace window: the auth token issued when this token was rotated, as its key
    /// id and claims (re-signed on a replay: RS256 signatures are deterministic). The refresh token
    /// issued with it is not stored: it is derived again from the presented one
    /// ([`crate::base::digest::successor_secret`]).
    #[serde(default)]
    pub rotated_pair: Option<IssuedToken>,
}

/// A refresh token family (one login session).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FamilyRecord {
    /// User.
    pub user_id: String,
    /// Created at.
    pub created_at: i64,
    /// Absolute expiry.
    pub expires_at: i64,
    /// Whether the whole family was revoked.
    pub revoked: bool,
}

/// A social login started by `social/authorize` and not finished yet.
#[derive(Clone, Serialize, Deserialize)]
pub struct SocialFlow {
    /// App.
    pub app_id: String,
    /// Where to send the browser at the end.
    pub redirect_uri: String,
    /// The client's `state`.
    pub client_state: Option<String>,
    /// PKCE challenge.
    pub code_challenge: String,
    /// Provider.
    pub connection_type: ConnectionType,
    /// Login hint (e-mail).
    pub login_hint: Option<String>,
    /// Started at.
    pub created_at: i64,
    /// SHA-256 digest (hex) of the code the fake provider issued, once it "consented" (the code
    /// itself is not kept).
    pub provider_code: Option<String>,
    /// E-mail the fake provider reported.
    pub provider_email: Option<String>,
}

/// A Passage authorization code handed to the app's redirect URI.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OAuthCode {
    /// PKCE challenge to check the verifier against.
    pub code_challenge: String,
    /// Provider.
    pub connection_type: ConnectionType,
    /// Account id at the provider.
    pub provider_id: String,
    /// E-mail at the provider.
    pub provider_email: String,
    /// Expiry.
    pub expires_at: i64,
    /// Whether it was exchanged.
    pub used: bool,
}

redacted_debug!(MagicLinkRecord {
    id,
    user_id,
    identifier,
    purpose,
    expires_at,
    activated,
    status_delivered
});
redacted_debug!(OtpRecord {
    id,
    user_id,
    identifier,
    expires_at,
    failed_attempts,
    used
});
redacted_debug!(RefreshRecord {
    family_id,
    user_id,
    issued_at,
    state
});
redacted_debug!(SocialFlow {
    app_id,
    redirect_uri,
    connection_type,
    created_at
});
