//! The emulator's whole state behind one mutex, plus its JSON snapshot file.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::base::clock::Clock;
pub use crate::base::enums::{ConnectionType, DeviceKind, OutboxKind, SocialProvider, UserStatus};
use crate::base::identifiers::normalize_identifier;
use crate::base::redact::redacted_debug;
use crate::faults::FaultRegistry;
use crate::jwt::SigningKey;
use crate::request_log::RequestLog;
use crate::settings::app::AppConfig;
use crate::settings::instance::ServerOptions;
use crate::store::{Changes, Commit, CommitFailed, Table, Tracked, Writer};

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
        state: crate::relying_party::RegistrationState,
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
        state: crate::relying_party::LoginState,
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
        state: crate::relying_party::DiscoverableState,
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
    /// For the reuse grace window: the auth token issued when this token was rotated, as its key
    /// id and claims (re-signed on a replay: RS256 signatures are deterministic). The refresh token
    /// issued with it is not stored: it is derived again from the presented one
    /// ([`crate::base::digest::successor_secret`]).
    #[serde(default)]
    pub rotated_pair: Option<crate::jwt::IssuedToken>,
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

/// The sent messages, by recipient: at most [`Outbox::PER_IDENTIFIER`] per identifier (the oldest
/// is dropped), so memory stays bounded and reading one identifier's messages costs O(its messages).
/// Snapshotted as one array, oldest first.
#[derive(Clone, Default)]
pub struct Outbox {
    queues: HashMap<String, VecDeque<(u64, OutboxMessage)>>,
    next_seq: u64,
    len: usize,
}

impl Outbox {
    /// Messages kept per identifier.
    pub const PER_IDENTIFIER: usize = 32;

    /// Adds a message (dropping the identifier's oldest one when it has too many).
    pub fn push(&mut self, message: OutboxMessage) {
        let queue = self.queues.entry(message.identifier.clone()).or_default();
        if queue.len() >= Self::PER_IDENTIFIER {
            queue.pop_front();
        } else {
            self.len += 1;
        }
        queue.push_back((self.next_seq, message));
        self.next_seq += 1;
    }

    /// The messages sent to `identifier` (already normalised), oldest first.
    pub fn for_identifier(
        &self,
        identifier: &str,
    ) -> impl DoubleEndedIterator<Item = &OutboxMessage> {
        self.queues
            .get(identifier)
            .into_iter()
            .flat_map(|q| q.iter().map(|(_, m)| m))
    }

    /// Every message, oldest first.
    pub fn all(&self) -> Vec<&OutboxMessage> {
        let mut all: Vec<&(u64, OutboxMessage)> = self.queues.values().flatten().collect();
        all.sort_unstable_by_key(|(seq, _)| *seq);
        all.into_iter().map(|(_, m)| m).collect()
    }

    /// Every message, oldest first.
    pub fn iter(&self) -> std::vec::IntoIter<&OutboxMessage> {
        self.all().into_iter()
    }

    /// Number of messages kept.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no message is kept.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Keeps the messages for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&OutboxMessage) -> bool) {
        for queue in self.queues.values_mut() {
            queue.retain(|(_, m)| keep(m));
        }
        self.queues.retain(|_, q| !q.is_empty());
        self.len = self.queues.values().map(VecDeque::len).sum();
    }

    /// Forgets every message.
    pub fn clear(&mut self) {
        self.queues.clear();
        self.len = 0;
    }
}

impl std::ops::Index<usize> for Outbox {
    type Output = OutboxMessage;

    /// The `index`-th message, oldest first (O(messages); for tests).
    fn index(&self, index: usize) -> &OutboxMessage {
        self.all()[index]
    }
}

impl Serialize for Outbox {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.all())
    }
}

impl<'de> Deserialize<'de> for Outbox {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let messages = Vec::<OutboxMessage>::deserialize(deserializer)?;
        let mut outbox = Outbox::default();
        for message in messages {
            outbox.push(message);
        }
        Ok(outbox)
    }
}

/// Everything the emulator knows about one app. The collections are [`Table`]s and the settings
/// and keys [`Tracked`] values, which remember what changed so that a state file is updated in
/// O(change).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppRecord {
    /// Configuration.
    pub config: Tracked<AppConfig>,
    /// Signing keys; the last one without `retired_at` signs.
    pub keys: Tracked<Vec<SigningKey>>,
    /// Users by id.
    pub users: Table<UserRecord>,
    /// WebAuthn devices by id.
    pub devices: Table<DeviceRecord>,
    /// Magic links by id.
    pub magic_links: Table<MagicLinkRecord>,
    /// Passcodes by id.
    pub otps: Table<OtpRecord>,
    /// Refresh tokens by digest.
    pub refresh_tokens: Table<RefreshRecord>,
    /// Refresh token families by id.
    pub families: Table<FamilyRecord>,
    /// Passage authorization codes by code.
    pub oauth_codes: Table<OAuthCode>,
    /// Nonces issued by transaction ceremonies, by nonce digest.
    #[serde(default)]
    pub nonces: Table<NonceRecord>,
    /// Transactions by id.
    #[serde(default)]
    pub transactions: Table<TransactionRecord>,
    /// Key of the HMAC that derives a rotated refresh token's successor (set when the app is
    /// created, never changed: it is stored with the settings).
    #[serde(default = "new_refresh_key")]
    pub refresh_key: String,
}

/// The terms the users table is indexed by: e-mail address and phone number.
fn user_identifiers(user: &UserRecord) -> Vec<String> {
    [&user.email, &user.phone]
        .into_iter()
        .filter(|i| !i.is_empty())
        .cloned()
        .collect()
}

fn new_refresh_key() -> String {
    crate::base::random::random_secret(32)
}

/// The app's settings and keys: everything of an [`AppRecord`] that is not in a table.
#[derive(Serialize, Deserialize)]
pub struct AppHeader {
    /// Configuration.
    pub config: AppConfig,
    /// Signing keys.
    pub keys: Vec<SigningKey>,
    /// See [`AppRecord::refresh_key`].
    pub refresh_key: String,
}

impl AppRecord {
    /// A new app with its first signing key.
    pub fn new(config: AppConfig, key: SigningKey) -> Self {
        Self::from_header(AppHeader {
            config,
            keys: vec![key],
            refresh_key: new_refresh_key(),
        })
    }

    /// An app with no records yet.
    pub fn from_header(header: AppHeader) -> Self {
        Self {
            config: header.config.into(),
            keys: header.keys.into(),
            users: Table::default().with_index(user_identifiers),
            devices: Table::default(),
            magic_links: Table::default(),
            otps: Table::default(),
            refresh_tokens: Table::default(),
            families: Table::default(),
            oauth_codes: Table::default(),
            nonces: Table::default(),
            transactions: Table::default(),
            refresh_key: header.refresh_key,
        }
    }

    /// Appends the settings and keys, as stored (an [`AppHeader`]), to `out`.
    fn put_header(&self, app: &str, out: &mut Changes) {
        #[derive(Serialize)]
        struct Header<'a> {
            config: &'a AppConfig,
            keys: &'a [SigningKey],
            refresh_key: &'a str,
        }
        let header = Header {
            config: &self.config,
            keys: &self.keys[..],
            refresh_key: &self.refresh_key,
        };
        out.put(app, "app", "", &header);
    }

    /// The signing key with id `kid`.
    pub fn key(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// The key that signs new tokens.
    pub fn active_key(&self) -> Option<&SigningKey> {
        self.keys.iter().rev().find(|k| k.retired_at.is_none())
    }

    /// Finds a user by e-mail (case-insensitive) or phone, in O(1) (plus the users changed by the
    /// mutation in progress).
    pub fn find_user_by_identifier(&self, identifier: &str) -> Option<&UserRecord> {
        let needle = normalize_identifier(identifier);
        let matches = |u: &UserRecord| {
            (!u.email.is_empty() && u.email == needle) || (!u.phone.is_empty() && u.phone == needle)
        };
        self.users.lookup(&needle, matches)
    }

    /// Rebuilds the identifier index from scratch (after loading).
    pub fn rebuild_index(&mut self) {
        self.users = std::mem::take(&mut self.users).with_index(user_identifiers);
    }

    /// Appends the changes since the last call (see [`Table::drain_changes`]): the settings and
    /// keys when either changed, then the tables' records; keeps the identifier index current.
    fn drain_changes(&mut self, app: &str, serialize: bool, out: &mut Changes) {
        // Both flags are taken (no short circuit).
        let header_changed = self.config.take_changed() | self.keys.take_changed();
        if serialize && header_changed {
            self.put_header(app, out);
        }
        self.users.drain_changes(app, "users", serialize, out);
        self.devices.drain_changes(app, "devices", serialize, out);
        self.magic_links
            .drain_changes(app, "magic_links", serialize, out);
        self.otps.drain_changes(app, "otps", serialize, out);
        self.refresh_tokens
            .drain_changes(app, "refresh_tokens", serialize, out);
        self.families.drain_changes(app, "families", serialize, out);
        self.oauth_codes
            .drain_changes(app, "oauth_codes", serialize, out);
        self.nonces.drain_changes(app, "nonces", serialize, out);
        self.transactions
            .drain_changes(app, "transactions", serialize, out);
    }

    fn all_changes(&self, app: &str, out: &mut Changes) {
        self.put_header(app, out);
        self.users.all_changes(app, "users", out);
        self.devices.all_changes(app, "devices", out);
        self.magic_links.all_changes(app, "magic_links", out);
        self.otps.all_changes(app, "otps", out);
        self.refresh_tokens.all_changes(app, "refresh_tokens", out);
        self.families.all_changes(app, "families", out);
        self.oauth_codes.all_changes(app, "oauth_codes", out);
        self.nonces.all_changes(app, "nonces", out);
        self.transactions.all_changes(app, "transactions", out);
    }

    /// Puts one stored record into its table (when loading a store).
    pub fn load_record(&mut self, kind: &str, key: String, json: &[u8]) -> anyhow::Result<()> {
        fn put<V: serde::de::DeserializeOwned>(
            t: &mut Table<V>,
            key: String,
            json: &[u8],
        ) -> anyhow::Result<()> {
            t.insert(key, serde_json::from_slice(json)?);
            Ok(())
        }
        match kind {
            "users" => put(&mut self.users, key, json),
            "devices" => put(&mut self.devices, key, json),
            "magic_links" => put(&mut self.magic_links, key, json),
            "otps" => put(&mut self.otps, key, json),
            "refresh_tokens" => put(&mut self.refresh_tokens, key, json),
            "families" => put(&mut self.families, key, json),
            "oauth_codes" => put(&mut self.oauth_codes, key, json),
            "nonces" => put(&mut self.nonces, key, json),
            "transactions" => put(&mut self.transactions, key, json),
            other => Err(anyhow::anyhow!("unknown record kind {other:?}")),
        }
    }
}

/// The snapshotted state.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct State {
    /// Apps by id.
    pub apps: BTreeMap<String, AppRecord>,
    /// Sent messages.
    pub outbox: Outbox,
    /// Unfinished social flows by internal flow id.
    pub social_flows: Table<SocialFlow>,
    /// Secret of the fake identity provider (signs its HS256 ID tokens).
    #[serde(default)]
    pub fake_provider_secret: Tracked<String>,
    /// WebAuthn ceremonies in progress by handshake id (not snapshotted).
    #[serde(skip)]
    pub handshakes: HashMap<String, Handshake>,
}

impl State {
    /// The app with `id`, or 404 `app_not_found`.
    pub fn app(&self, id: &str) -> Result<&AppRecord, crate::base::api_error::ApiError> {
        self.apps
            .get(id)
            .ok_or_else(crate::base::api_error::ApiError::app_not_found)
    }

    /// Changes since the last call, in write order: per app its settings (when they changed) and
    /// records, then the rest. Without `serialize` they are only forgotten. Costs O(apps + changes).
    pub fn drain_changes(&mut self, serialize: bool) -> Changes {
        let mut out = Changes::default();
        self.drain_changes_into(serialize, &mut out);
        out
    }

    /// [`State::drain_changes`], appending to `out`.
    pub fn drain_changes_into(&mut self, serialize: bool, out: &mut Changes) {
        for (id, app) in self.apps.iter_mut() {
            app.drain_changes(id, serialize, out);
        }
        self.social_flows
            .drain_changes("", "social_flows", serialize, out);
        if self.fake_provider_secret.take_changed() && serialize {
            self.put_provider_secret(out);
        }
    }

    fn put_provider_secret(&self, out: &mut Changes) {
        out.put_bytes(
            "",
            "meta",
            "fake_provider_secret",
            self.fake_provider_secret.as_bytes(),
        );
    }

    /// Everything, as changes (the first write of a new store).
    pub fn all_changes(&self) -> Changes {
        let mut out = Changes::default();
        for (id, app) in &self.apps {
            app.all_changes(id, &mut out);
        }
        self.social_flows.all_changes("", "social_flows", &mut out);
        self.put_provider_secret(&mut out);
        out
    }

    /// Mutable access to the app with `id`, or 404 `app_not_found`.
    pub fn app_mut(
        &mut self,
        id: &str,
    ) -> Result<&mut AppRecord, crate::base::api_error::ApiError> {
        self.apps
            .get_mut(id)
            .ok_or_else(crate::base::api_error::ApiError::app_not_found)
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
    /// When to forget expired records.
    pruner: crate::prune::Pruner,
    /// The thread writing the open state file (set by [`Shared::persist`]).
    writer: std::sync::OnceLock<Writer>,
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
            pruner: crate::prune::Pruner::default(),
            writer: std::sync::OnceLock::new(),
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
            crate::base::enums::TokenIssuer::Emulator => {
                format!("{}/apps/{app_id}", self.base_url())
            }
            crate::base::enums::TokenIssuer::Hosted => {
                format!("https://auth.passage.id/v1/apps/{app_id}")
            }
        }
    }

    /// Locks the state for reading or a mutation that needs no snapshot.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs a mutation under the lock; with a state file, returns only once what it changed is
    /// committed (a 500 `internal_server_error` when that commit failed).
    ///
    /// The changes (the changed records' JSON) are taken and queued for the [`Writer`] under the
    /// state lock, so they are committed in mutation order; the commit and the wait run after the
    /// lock is released, and the writer commits every mutation queued meanwhile in one
    /// transaction. A mutation that changed nothing still waits for the changes queued before it,
    /// so no answer depends on a change that is not in the file yet.
    pub async fn mutate<T>(
        &self,
        f: impl FnOnce(&mut State) -> Result<T, crate::base::api_error::ApiError>,
    ) -> Result<T, crate::base::api_error::ApiError> {
        let (out, commit) = self.apply(f);
        if let Some(commit) = commit {
            commit.wait().await.map_err(|CommitFailed| {
                crate::base::api_error::ApiError::internal("could not write the state file")
            })?;
        }
        out
    }

    /// The in-memory half of [`Shared::mutate`]: runs `f`, then queues its changes.
    fn apply<T>(
        &self,
        f: impl FnOnce(&mut State) -> Result<T, crate::base::api_error::ApiError>,
    ) -> (Result<T, crate::base::api_error::ApiError>, Option<Commit>) {
        // The buffer is taken before the state lock (it has a lock of its own).
        let writer = self.writer.get().map(|w| (w, w.buffer()));
        let mut guard = self.lock();
        let out = f(&mut guard);
        self.pruner.after_mutation(&mut guard, self.clock.now());
        let commit = match writer {
            Some((writer, mut changes)) => {
                guard.drain_changes_into(true, &mut changes);
                Some(writer.submit(changes))
            }
            None => {
                guard.drain_changes(false);
                None
            }
        };
        drop(guard);
        (out, commit)
    }

    /// Opens the state file (if one is configured), writes the state's changes to it (only the
    /// changed settings when it was loaded from that file, everything when the file is new) and
    /// starts its [`Writer`].
    pub fn persist(&self) -> anyhow::Result<()> {
        let Some(path) = &self.state_file else {
            return Ok(());
        };
        let mut guard = self.lock();
        let mut store = crate::store::Store::open(path)?;
        if store.has_apps()? {
            store.apply(guard.drain_changes(true).iter())?;
        } else {
            store.replace_all(&guard)?;
            guard.drain_changes(false);
        }
        self.writer
            .set(Writer::start(store)?)
            .map_err(|_| anyhow::anyhow!("the state file is already open"))?;
        Ok(())
    }
}

/// Reads the state file; `Ok(None)` when it does not exist or holds no app yet.
pub fn read_snapshot(path: &Path) -> anyhow::Result<Option<State>> {
    if !path.exists() {
        return Ok(None);
    }
    crate::store::Store::open(path)?.load()
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
            fake_provider_secret: String::from("provider-secret-value").into(),
            ..State::default()
        };
        assert!(!format!("{state:?}").contains("provider-secret-value"));
        let app = AppConfig::default();
        assert!(!format!("{app:?}").contains(&app.api_key));
    }

    #[tokio::test]
    async fn state_file_roundtrip_is_complete_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        assert!(read_snapshot(&path).unwrap().is_none());
        let mut state = State::default();
        let mut app = AppRecord::new(AppConfig::default(), SigningKey::default_key().unwrap());
        let mut user = crate::accounts::new_user(
            crate::base::identifiers::IdentifierKind::Email,
            "ada@example.com",
            UserStatus::Active,
            1,
        );
        user.id = "u1".into();
        app.users.insert(user.id.clone(), user);
        *state.fake_provider_secret = "provider".into();
        state.apps.insert("a".into(), app);
        let shared = Shared::new(state, "http://127.0.0.1:1".into(), Some(path.clone()));
        shared.persist().unwrap();
        shared
            .mutate(|s| {
                let app = s.app_mut("a")?;
                app.users.get_mut("u1").unwrap().login_count = 7;
                Ok(())
            })
            .await
            .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let loaded = read_snapshot(&path).unwrap().unwrap();
        let app = &loaded.apps["a"];
        assert_eq!(app.keys[0].kid, shared.lock().apps["a"].keys[0].kid);
        assert_eq!(app.users["u1"].login_count, 7);
        assert_eq!(*loaded.fake_provider_secret, "provider");
        assert_eq!(
            app.find_user_by_identifier("Ada@Example.com")
                .map(|u| u.id.as_str()),
            Some("u1")
        );
    }
}
