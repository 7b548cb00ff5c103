//! The emulator's whole state behind one mutex, plus its JSON snapshot file.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::config::{AppConfig, ServerOptions};
use crate::faults::FaultRegistry;
use crate::identifiers::normalize_identifier;
pub use crate::kinds::{ConnectionType, DeviceKind, OutboxKind, SocialProvider, UserStatus};
use crate::redact::redacted_debug;
use crate::request_log::RequestLog;
use crate::tokens::SigningKey;

/// A user of an app.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserRecord {
    /// User id.
    pub id: String,
    /// E-mail address ("" when none).
    pub email: String,
    /// E.164 phone number ("" when none).
    pub phone: String,
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
    uuid::Uuid::new_v4()
}

/// What a transaction (created through the admin API, standing in for an app backend) is for.
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

/// What a WebAuthn ceremony in progress is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CeremonyPurpose {
    /// Registration of a new user.
    Register,
    /// Adding a device to the signed-in user.
    AddDevice,
    /// Login.
    Login,
    /// A transaction ceremony.
    Transaction(Option<String>),
}

/// Server-side state of a WebAuthn ceremony in progress (not snapshotted).
#[derive(Debug, Clone)]
pub enum Handshake {
    /// A registration.
    Register {
        /// App.
        app_id: String,
        /// User being registered.
        user_id: String,
        /// What for.
        purpose: CeremonyPurpose,
        /// Engine state.
        state: crate::webauthn::RegistrationState,
        /// Expiry.
        expires_at: i64,
    },
    /// A login for a known user.
    Login {
        /// App.
        app_id: String,
        /// User logging in.
        user_id: String,
        /// What for.
        purpose: CeremonyPurpose,
        /// Engine state.
        state: crate::webauthn::LoginState,
        /// Expiry.
        expires_at: i64,
    },
    /// A usernameless login.
    Discoverable {
        /// App.
        app_id: String,
        /// What for.
        purpose: CeremonyPurpose,
        /// Engine state.
        state: crate::webauthn::DiscoverableState,
        /// Expiry.
        expires_at: i64,
    },
}

impl Handshake {
    /// The app of the ceremony.
    pub fn app_id(&self) -> &str {
        match self {
            Self::Register { app_id, .. }
            | Self::Login { app_id, .. }
            | Self::Discoverable { app_id, .. } => app_id,
        }
    }

    /// The user of the ceremony (none for a usernameless login).
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Self::Register { user_id, .. } | Self::Login { user_id, .. } => Some(user_id),
            Self::Discoverable { .. } => None,
        }
    }
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
    /// Secret in the link URL.
    pub secret: String,
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
    /// The code.
    pub code: String,
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
    /// For the reuse grace window: the pair issued when this token was rotated (auth token, refresh token).
    #[serde(default)]
    pub rotated_pair: Option<(String, String)>,
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
    /// Code the fake provider issued, once it "consented".
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

/// A message the emulator "sent" (e-mail or SMS), readable through the outbox.
#[derive(Clone, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// App that sent it.
    pub app_id: String,
    /// Recipient identifier.
    pub identifier: String,
    /// Passcode or magic link.
    pub kind: OutboxKind,
    /// Passcode (kind `otp`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otp: Option<String>,
    /// Passcode id (kind `otp`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otp_id: Option<String>,
    /// Full link (kind `magic_link`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub magic_link_url: Option<String>,
    /// Link secret (kind `magic_link`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub magic_link_secret: Option<String>,
    /// Link id (kind `magic_link`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub magic_link_id: Option<String>,
    /// Sent at (RFC 3339).
    pub created_at: String,
}

/// Everything the emulator knows about one app.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppRecord {
    /// Configuration.
    pub config: AppConfig,
    /// Signing keys; the last one without `retired_at` signs.
    pub keys: Vec<SigningKey>,
    /// Users by id.
    pub users: BTreeMap<String, UserRecord>,
    /// WebAuthn devices by id.
    pub devices: BTreeMap<String, DeviceRecord>,
    /// Magic links by id.
    pub magic_links: HashMap<String, MagicLinkRecord>,
    /// Passcodes by id.
    pub otps: HashMap<String, OtpRecord>,
    /// Refresh tokens by digest.
    pub refresh_tokens: HashMap<String, RefreshRecord>,
    /// Refresh token families by id.
    pub families: HashMap<String, FamilyRecord>,
    /// Passage authorization codes by code.
    pub oauth_codes: HashMap<String, OAuthCode>,
    /// Nonces issued by transaction ceremonies, by nonce digest.
    #[serde(default)]
    pub nonces: HashMap<String, NonceRecord>,
    /// Transactions by id.
    #[serde(default)]
    pub transactions: HashMap<String, TransactionRecord>,
}

impl AppRecord {
    /// A new app with its first signing key.
    pub fn new(config: AppConfig, key: SigningKey) -> Self {
        Self {
            config,
            keys: vec![key],
            users: BTreeMap::new(),
            devices: BTreeMap::new(),
            magic_links: HashMap::new(),
            otps: HashMap::new(),
            refresh_tokens: HashMap::new(),
            families: HashMap::new(),
            oauth_codes: HashMap::new(),
            nonces: HashMap::new(),
            transactions: HashMap::new(),
        }
    }

    /// The key that signs new tokens.
    pub fn active_key(&self) -> Option<&SigningKey> {
        self.keys.iter().rev().find(|k| k.retired_at.is_none())
    }

    /// Finds a user by e-mail (case-insensitive) or phone.
    pub fn find_user_by_identifier(&self, identifier: &str) -> Option<&UserRecord> {
        let needle = normalize_identifier(identifier);
        self.users.values().find(|u| {
            (!u.email.is_empty() && u.email == needle) || (!u.phone.is_empty() && u.phone == needle)
        })
    }
}

/// The snapshotted state.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct State {
    /// Apps by id.
    pub apps: BTreeMap<String, AppRecord>,
    /// Sent messages.
    pub outbox: Vec<OutboxMessage>,
    /// Unfinished social flows by internal flow id.
    pub social_flows: HashMap<String, SocialFlow>,
    /// Secret of the fake identity provider (signs its HS256 ID tokens).
    #[serde(default)]
    pub fake_provider_secret: String,
    /// WebAuthn ceremonies in progress by handshake id (not snapshotted).
    #[serde(skip)]
    pub handshakes: HashMap<String, Handshake>,
}

impl State {
    /// The app with `id`, or 404 `app_not_found`.
    pub fn app(&self, id: &str) -> Result<&AppRecord, crate::error::ApiError> {
        self.apps
            .get(id)
            .ok_or_else(crate::error::ApiError::app_not_found)
    }

    /// Mutable access to the app with `id`, or 404 `app_not_found`.
    pub fn app_mut(&mut self, id: &str) -> Result<&mut AppRecord, crate::error::ApiError> {
        self.apps
            .get_mut(id)
            .ok_or_else(crate::error::ApiError::app_not_found)
    }
}

/// Shared context of all handlers.
pub struct Shared {
    state: Mutex<State>,
    /// The injectable clock.
    pub clock: Clock,
    /// Armed faults.
    pub faults: FaultRegistry,
    /// Requests that reached the API (not admin calls).
    pub request_log: RequestLog,
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub root_url: String,
    /// Snapshot file.
    pub state_file: Option<PathBuf>,
    /// Instance-wide settings (CORS, ...).
    pub options: ServerOptions,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("root_url", &self.root_url)
            .finish_non_exhaustive()
    }
}

/// Handle used by the handlers.
pub type AppState = Arc<Shared>;

impl Shared {
    /// Builds the shared context.
    pub fn new(state: State, root_url: String, state_file: Option<PathBuf>) -> Self {
        Self {
            state: Mutex::new(state),
            clock: Clock::new(),
            faults: FaultRegistry::default(),
            request_log: RequestLog::default(),
            root_url,
            state_file,
            options: ServerOptions::default(),
        }
    }

    /// Sets the instance-wide settings.
    pub fn with_options(mut self, options: ServerOptions) -> Self {
        self.options = options;
        self
    }

    /// `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.root_url)
    }

    /// Issuer of an app's tokens (the emulator's URL, or the hosted service's with `token_issuer = "hosted"`).
    pub fn issuer(&self, app_id: &str) -> String {
        match self.options.token_issuer {
            crate::kinds::TokenIssuer::Emulator => format!("{}/apps/{app_id}", self.base_url()),
            crate::kinds::TokenIssuer::Hosted => {
                format!("https://auth.passage.id/v1/apps/{app_id}")
            }
        }
    }

    /// Locks the state for reading or a mutation that needs no snapshot.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs a mutation under the lock, then writes the snapshot (still under the lock, so
    /// snapshots are written in mutation order).
    pub fn mutate<T>(
        &self,
        f: impl FnOnce(&mut State) -> Result<T, crate::error::ApiError>,
    ) -> Result<T, crate::error::ApiError> {
        let mut guard = self.lock();
        let out = f(&mut guard);
        if let Some(path) = &self.state_file {
            if let Err(e) = write_snapshot(path, &guard) {
                tracing::error!(error = %e, "could not write the state snapshot");
            }
        }
        out
    }

    /// Writes the snapshot now (if a state file is configured).
    pub fn persist(&self) -> anyhow::Result<()> {
        if let Some(path) = &self.state_file {
            let guard = self.lock();
            write_snapshot(path, &guard)?;
        }
        Ok(())
    }
}

/// Writes `state` to `path` atomically (temporary file in the same directory, then rename).
pub fn write_snapshot(path: &Path, state: &State) -> anyhow::Result<()> {
    let json = serde_json::to_vec_pretty(state)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, json)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Reads a snapshot; `Ok(None)` when the file does not exist.
pub fn read_snapshot(path: &Path) -> anyhow::Result<Option<State>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).map_err(|e| {
            anyhow::anyhow!("state file {} is not a valid snapshot: {e}", path.display())
        })?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
    }
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
redacted_debug!(OutboxMessage {
    app_id,
    identifier,
    kind,
    otp_id,
    magic_link_id,
    created_at
});
redacted_debug!(State { apps, social_flows });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_secrets() {
        let otp = OtpRecord {
            id: "otp_1".into(),
            code: "987654".into(),
            user_id: "u".into(),
            identifier: "a@b.co".into(),
            expires_at: 0,
            failed_attempts: 0,
            used: false,
        };
        let text = format!("{otp:?}");
        assert!(text.contains("otp_1") && !text.contains("987654"), "{text}");
        let state = State {
            fake_provider_secret: "provider-secret-value".into(),
            ..State::default()
        };
        assert!(!format!("{state:?}").contains("provider-secret-value"));
        let app = AppConfig::default();
        assert!(!format!("{app:?}").contains(&app.api_key));
    }

    #[test]
    fn snapshot_roundtrip_is_atomic_and_complete() {
        let path = std::env::temp_dir().join(format!("emu-snapshot-{}.json", std::process::id()));
        let mut state = State::default();
        state.apps.insert(
            "a".into(),
            AppRecord::new(AppConfig::default(), SigningKey::default_key().unwrap()),
        );
        write_snapshot(&path, &state).unwrap();
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        assert!(!PathBuf::from(tmp).exists());
        let loaded = read_snapshot(&path).unwrap().unwrap();
        assert_eq!(loaded.apps["a"].keys[0].kid, state.apps["a"].keys[0].kid);
        std::fs::remove_file(&path).unwrap();
        assert!(read_snapshot(&path).unwrap().is_none());
    }
}
