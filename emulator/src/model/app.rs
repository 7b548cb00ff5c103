//! Everything the emulator knows about one app: its settings, signing keys and record tables.

use serde::{Deserialize, Serialize};

use crate::base::digest::DigestKey;
use crate::base::identifiers::normalize_identifier;
use crate::base::random::{random_id, random_secret};
use crate::jwt::SigningKey;
use crate::model::records::{
    DeviceRecord, FamilyRecord, MagicLinkRecord, NonceRecord, OAuthCode, OtpRecord, RefreshRecord,
    TransactionRecord, UserRecord,
};
use crate::model::tracking::{Table, Tracked};
use crate::settings::app::AppConfig;

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
    /// Passage authorization codes by the code's SHA-256 digest (hex).
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
    /// Key of the passcodes' keyed digests. Made at random for each app when the emulator starts
    /// and never written anywhere: a key stored in the state file beside the digests would let
    /// whoever reads the file try the million six-digit codes again. The price: a passcode issued
    /// before a restart cannot be checked after it (it is answered as expired; passcodes live
    /// minutes, `otp_ttl_seconds`).
    #[serde(skip, default = "PasscodeKey::new")]
    pub passcode_key: PasscodeKey,
}

/// The key of an app's passcode digests, with a (non-secret) id that passcode records carry.
#[derive(Debug, Clone)]
pub struct PasscodeKey {
    /// Random id of this key (not derived from it).
    pub id: String,
    /// The key.
    pub key: DigestKey,
}

impl PasscodeKey {
    /// A new random key.
    pub fn new() -> Self {
        Self {
            id: random_id("pk_"),
            key: DigestKey::random(),
        }
    }
}

impl Default for PasscodeKey {
    fn default() -> Self {
        Self::new()
    }
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
    random_secret(32)
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
            passcode_key: PasscodeKey::new(),
        }
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

    /// The devices of a user.
    pub fn devices_of<'a>(
        &'a self,
        user_id: &'a str,
    ) -> impl Iterator<Item = &'a DeviceRecord> + 'a {
        self.devices.values().filter(move |d| d.user_id == user_id)
    }

    /// Revokes a whole refresh-token family (login session): none of its tokens works any more,
    /// and no pair is kept for the reuse grace window.
    pub fn revoke_family(&mut self, family_id: &str) {
        if let Some(family) = self.families.get_mut(family_id) {
            family.revoked = true;
        }
        // Only the records that change are handed out mutably (so only they are written).
        let keeping_a_pair: Vec<String> = self
            .refresh_tokens
            .iter()
            .filter(|(_, r)| r.family_id == family_id && r.rotated_pair.is_some())
            .map(|(digest, _)| digest.clone())
            .collect();
        for digest in keeping_a_pair {
            if let Some(record) = self.refresh_tokens.get_mut(&digest) {
                record.rotated_pair = None;
            }
        }
    }

    /// Revokes every refresh-token family of `user_id` that is not revoked yet.
    pub fn revoke_families_of(&mut self, user_id: &str) {
        let live: Vec<String> = self
            .families
            .iter()
            .filter(|(_, f)| f.user_id == user_id && !f.revoked)
            .map(|(id, _)| id.clone())
            .collect();
        for family_id in live {
            self.revoke_family(&family_id);
        }
    }

    /// Rebuilds the identifier index from scratch (after loading).
    pub fn rebuild_index(&mut self) {
        self.users = std::mem::take(&mut self.users).with_index(user_identifiers);
    }
}
