//! Verifying Passage auth tokens: [`TokenVerifier`] checks an RS256 JWT
//! against the app's JWKS (fetched with `get_jwks` and cached) and returns its
//! [`Claims`], or a [`VerifyError`] naming what was wrong.
//!
//! - **One pass over the token**: it is split at its two dots once; the header
//!   is decoded once (only `alg` and `kid` are read: only RS256 is accepted,
//!   so `none`, `HS*` and every other algorithm are refused before any key is
//!   touched, and a `kid` is required); the signature over `header.payload`
//!   is checked with the key's already parsed aws-lc-rs public key; then the
//!   claims are decoded straight into [`Claims`]. `iss`, `aud`, `sub` and
//!   `exp` are required; `exp` and `nbf` are compared, with
//!   [`VerifierConfig::leeway`], against the verifier's [`Clock`].
//! - Each JWKS key is parsed into an aws-lc-rs public key once, when the
//!   JWKS is fetched; keys that are not RS256 signing keys, or whose `n`/`e`
//!   do not make an RSA public key, are left out of the set.
//! - **Never blocks a verification it can serve**: a key set younger than
//!   [`VerifierConfig::jwks_ttl`] is used as it is. An older one keeps
//!   verifying the tokens whose key it holds while *one* background fetch
//!   replaces it (stale-while-revalidate), for at most
//!   [`VerifierConfig::max_staleness`] past the TTL: after that, while the
//!   JWKS cannot be fetched, tokens are refused with
//!   [`VerifyError::JwksUnavailable`].
//! - A token with an unknown `kid` triggers a refetch at most once per
//!   [`VerifierConfig::unknown_kid_refetch_interval`]; after a failed fetch
//!   no fetch is made for the same interval. Only the callers that need a
//!   fetch wait for it.
//! - [`TokenVerifier::preload`] fetches the keys at start-up.
//! - The hot path (a cached key) takes no lock: the key set is behind an
//!   `ArcSwap`. It allocates only for the claims it returns (the parts of a
//!   token of ordinary size are decoded into buffers on the stack).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use aws_lc_rs::signature::{ParsedPublicKey, RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use passage_runtime::backoff::time_after;
use passage_runtime::clock::{numeric_date, unix_seconds};
use passage_runtime::{Clock, SystemClock};

use crate::{Client, ClientInfo, Error};

/// Tokens longer than this are refused without parsing (8 KiB).
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Settings of a [`TokenVerifier`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierConfig {
    /// The expected `iss`; `None` means `<base URL>/apps/<app id>` (Passage's issuer).
    pub issuer: Option<String>,
    /// How long a fetched key set is used before it is fetched again (default 1 h).
    pub jwks_ttl: Duration,
    /// How long past [`Self::jwks_ttl`] a key set keeps verifying while it
    /// cannot be replaced (default 6 h). Within it, a stale set is refreshed
    /// in the background; beyond it, it is no longer trusted.
    pub max_staleness: Duration,
    /// The least time between two refetches caused by unknown `kid`s, and
    /// between a failed fetch and the next one (default 30 s).
    pub unknown_kid_refetch_interval: Duration,
    /// Tolerance for `exp` and `nbf` (default 5 s).
    pub leeway: Duration,
}

impl Default for VerifierConfig {
    fn default() -> Self {
        Self {
            issuer: None,
            jwks_ttl: Duration::from_secs(3600),
            max_staleness: Duration::from_secs(6 * 3600),
            unknown_kid_refetch_interval: Duration::from_secs(30),
            leeway: Duration::from_secs(5),
        }
    }
}

/// The claims of a verified token.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Claims {
    /// `sub`: the Passage user id.
    pub sub: String,
    /// `iss`: the issuer.
    pub iss: String,
    /// `aud`: the audiences (one or more).
    pub aud: Vec<String>,
    /// `exp`: expiry, Unix seconds.
    pub exp: i64,
    /// `iat`: issue time, Unix seconds, when present.
    pub iat: Option<i64>,
    /// `nbf`: not-before time, Unix seconds, when present.
    pub nbf: Option<i64>,
    /// Every other claim.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Claims {
    /// The user id (`sub`).
    pub fn user_id(&self) -> &str {
        &self.sub
    }

    /// The expiry as a time.
    pub fn expires_at(&self) -> SystemTime {
        from_unix(self.exp)
    }

    /// The issue time, when present.
    pub fn issued_at(&self) -> Option<SystemTime> {
        self.iat.map(from_unix)
    }
}

fn from_unix(seconds: i64) -> SystemTime {
    if seconds >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds.unsigned_abs())
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_secs(seconds.unsigned_abs())
    }
}

/// Why a token was refused. No variant carries the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The token is not a JWS compact serialization with JSON header and claims.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The token is longer than [`MAX_TOKEN_LEN`].
    #[error("token too long ({len} bytes, at most {max})")]
    Oversized {
        /// The token's length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The header has no `kid`.
    #[error("the token header names no key id (kid)")]
    MissingKid,
    /// No key of the app's JWKS has the token's `kid`, even after a refetch.
    #[error("no signing key with id {0:?}")]
    UnknownKid(String),
    /// The header's `alg` is not RS256.
    #[error("algorithm {0:?} is not allowed (only RS256)")]
    DisallowedAlgorithm(String),
    /// The signature does not match the key.
    #[error("bad signature")]
    BadSignature,
    /// A required claim is absent or has the wrong type.
    #[error("claim {0} is missing or invalid")]
    MissingClaim(&'static str),
    /// `iss` is not the app's issuer.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `aud` does not contain the app id.
    #[error("wrong audience")]
    WrongAudience,
    /// `exp` has passed (beyond the leeway).
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("token not yet valid")]
    NotYetValid,
    /// The app's JWKS could not be fetched and no cached key fits.
    #[error("the signing keys could not be fetched: {0}")]
    JwksUnavailable(String),
}

/// A snapshot of a [`TokenVerifier`]'s key cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyCacheState {
    /// Usable RS256 keys cached.
    pub keys: usize,
    /// When the cached key set was fetched (on the verifier's clock), if ever.
    pub fetched_at: Option<SystemTime>,
    /// A background refresh of a stale key set is in flight.
    pub revalidating: bool,
}

/// Verifies Passage auth tokens of one app. Cheap to clone (clones share the key cache).
///
/// ```no_run
/// use passage_auth_client::{ClientBuilder, TokenVerifier, VerifierConfig};
///
/// # async fn demo(token: &str) -> Result<(), Box<dyn std::error::Error>> {
/// let client = ClientBuilder::new().base_url("http://127.0.0.1:8787/v1").build()?;
/// let verifier = TokenVerifier::new(client, "my-app-id", VerifierConfig::default());
/// let claims = verifier.verify(token).await?;
/// println!("user {}", claims.user_id());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct TokenVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    app_id: String,
    issuer: String,
    config: VerifierConfig,
    clock: Arc<dyn Clock>,
    /// The current key set: read without a lock, replaced whole.
    keys: ArcSwap<KeySet>,
    /// Held while fetching: one fetch at a time.
    fetch: tokio::sync::Mutex<FetchState>,
    /// A background refresh of a stale key set is in flight.
    refreshing: AtomicBool,
    /// No background refresh starts before this (set after a failed fetch).
    background_not_before: Mutex<Option<SystemTime>>,
}

#[derive(Default)]
struct KeySet {
    /// The RS256 signing keys by `kid`, each parsed once.
    keys: HashMap<String, ParsedPublicKey>,
    fetched_at: Option<SystemTime>,
}

/// How usable a key set is at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Age {
    /// Younger than the TTL.
    Fresh,
    /// Past the TTL but within the maximum staleness: serve and revalidate.
    Stale,
    /// Never fetched, or past the maximum staleness: not trusted.
    Expired,
}

#[derive(Default)]
struct FetchState {
    /// When the last unknown-kid refetch was made.
    last_refetch: Option<SystemTime>,
    /// When the last fetch failed, and why.
    last_failure: Option<(SystemTime, String)>,
}

impl fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cached = self.inner.keys.load().keys.len();
        f.debug_struct("TokenVerifier")
            .field("app_id", &self.inner.app_id)
            .field("issuer", &self.inner.issuer)
            .field("config", &self.inner.config)
            .field("cached_keys", &cached)
            .finish()
    }
}

impl Inner {
    fn new(
        client: Client,
        app_id: String,
        issuer: String,
        config: VerifierConfig,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            client,
            app_id,
            issuer,
            config,
            clock,
            keys: ArcSwap::from_pointee(KeySet::default()),
            fetch: tokio::sync::Mutex::new(FetchState::default()),
            refreshing: AtomicBool::new(false),
            background_not_before: Mutex::new(None),
        }
    }
}

impl TokenVerifier {
    /// A verifier for tokens of `app_id`, fetching keys with `client`.
    pub fn new(client: Client, app_id: impl Into<String>, config: VerifierConfig) -> Self {
        let app_id = app_id.into();
        let issuer = config.issuer.clone().unwrap_or_else(|| {
            format!("{}/apps/{}", client.baseurl().trim_end_matches('/'), app_id)
        });
        Self {
            inner: Arc::new(Inner::new(
                client,
                app_id,
                issuer,
                config,
                Arc::new(SystemClock),
            )),
        }
    }

    /// The same verifier with `clock` deciding expiry and cache ages (a fresh cache).
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        let inner = &self.inner;
        Self {
            inner: Arc::new(Inner::new(
                inner.client.clone(),
                inner.app_id.clone(),
                inner.issuer.clone(),
                inner.config.clone(),
                clock,
            )),
        }
    }

    /// What the key cache holds now (for health checks and monitoring).
    pub fn cache_state(&self) -> KeyCacheState {
        let set = self.inner.keys.load();
        KeyCacheState {
            keys: set.keys.len(),
            fetched_at: set.fetched_at,
            revalidating: self.inner.refreshing.load(Ordering::Acquire),
        }
    }

    /// Fetches the app's keys now (for start-up: the first verifications
    /// then find them cached); returns how many usable keys there are.
    pub async fn preload(&self) -> Result<usize, VerifyError> {
        let mut fetch = self.inner.fetch.lock().await;
        let set = self.inner.fetch_into(&mut fetch).await?;
        Ok(set.keys.len())
    }

    /// The issuer tokens must carry.
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// Verifies `token` and returns its claims.
    pub async fn verify(&self, token: &str) -> Result<Claims, VerifyError> {
        let result = self.verify_inner(token).await;
        if let Err(e) = &result {
            tracing::debug!(error = %e, "token refused");
        }
        result
    }

    async fn verify_inner(&self, token: &str) -> Result<Claims, VerifyError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(VerifyError::Oversized {
                len: token.len(),
                max: MAX_TOKEN_LEN,
            });
        }
        let parts = Parts::split(token)?;
        let mut header_buf = [0; HEADER_BUF];
        let mut header_spill = Vec::new();
        let header = Header::decode(parts.header, &mut header_buf, &mut header_spill)?;
        let kid = header.kid.as_ref();
        let inner = &self.inner;
        // Hot path: the key is in a set that may be used now.
        {
            let set = inner.keys.load();
            if let Some(key) = set.keys.get(kid) {
                match inner.age(&set, inner.clock.now()) {
                    Age::Fresh => return inner.check(&parts, key),
                    Age::Stale => {
                        inner.revalidate_in_background(&self.inner);
                        return inner.check(&parts, key);
                    }
                    Age::Expired => {}
                }
            }
        }
        let set = inner.key_set_with(kid).await?;
        match set.keys.get(kid) {
            Some(key) => inner.check(&parts, key),
            None => Err(VerifyError::UnknownKid(shown_kid(kid))),
        }
    }
}

/// The three base64url parts of a JWS compact serialization, borrowed from the token.
struct Parts<'t> {
    header: &'t str,
    payload: &'t str,
    /// `header.payload`: what the signature is over.
    signed: &'t str,
    signature: &'t str,
}

impl<'t> Parts<'t> {
    fn split(token: &'t str) -> Result<Self, VerifyError> {
        let malformed = || VerifyError::Malformed("not three dot-separated parts");
        let first = token.find('.').ok_or_else(malformed)?;
        let (signed, signature) = token.rsplit_once('.').ok_or_else(malformed)?;
        if signed.len() == first {
            return Err(malformed());
        }
        let (header, payload) = (&signed[..first], &signed[first + 1..]);
        if payload.contains('.') {
            return Err(malformed());
        }
        // An empty signature (`alg: none`) is refused later, by algorithm.
        if header.is_empty() || payload.is_empty() {
            return Err(VerifyError::Malformed("an empty part"));
        }
        Ok(Self {
            header,
            payload,
            signed,
            signature,
        })
    }
}

/// What the verifier reads of a token's header, borrowed from the decoded
/// bytes where no JSON escape is in the way. Other members are ignored.
#[derive(Deserialize)]
struct RawHeader<'h> {
    #[serde(borrow, default)]
    alg: Option<Text<'h>>,
    #[serde(borrow, default)]
    kid: Option<Text<'h>>,
}

/// A checked header: RS256 with a non-empty `kid`.
struct Header<'b> {
    kid: Cow<'b, str>,
}

impl<'b> Header<'b> {
    /// Decodes and checks the header, borrowing the `kid` from `buf` (or
    /// from `spill`, for a header too long for `buf`).
    fn decode(
        encoded: &str,
        buf: &'b mut [u8],
        spill: &'b mut Vec<u8>,
    ) -> Result<Self, VerifyError> {
        let bytes = decode_part(encoded, buf, spill)
            .ok_or(VerifyError::Malformed("the header is not base64url"))?;
        let raw: RawHeader<'b> = serde_json::from_slice(bytes)
            .map_err(|_| VerifyError::Malformed("the header is not a JSON object"))?;
        match raw.alg.as_ref().map(|alg| alg.0.as_ref()) {
            Some("RS256") => {}
            // Attacker-chosen: named, cut, in the error.
            alg => {
                return Err(VerifyError::DisallowedAlgorithm(
                    alg.unwrap_or_default().chars().take(32).collect(),
                ))
            }
        }
        match raw.kid {
            Some(Text(kid)) if !kid.is_empty() => Ok(Self { kid }),
            _ => Err(VerifyError::MissingKid),
        }
    }
}

/// Room on the stack for a decoded header (a longer one goes to the heap).
const HEADER_BUF: usize = 512;
/// Room on the stack for a decoded signature: an 8192-bit RSA signature,
/// the largest RS256 key the verifier accepts.
const SIGNATURE_BUF: usize = 1024;
/// Room on the stack for decoded claims.
const PAYLOAD_BUF: usize = 2048;

/// Decodes the base64url `encoded` into `buf` when it fits, else into
/// `spill`; `None` when it is not base64url (unpadded, canonical).
fn decode_part<'b>(encoded: &str, buf: &'b mut [u8], spill: &'b mut Vec<u8>) -> Option<&'b [u8]> {
    if base64::decoded_len_estimate(encoded.len()) <= buf.len() {
        let len = URL_SAFE_NO_PAD.decode_slice(encoded, buf).ok()?;
        Some(&buf[..len])
    } else {
        URL_SAFE_NO_PAD.decode_vec(encoded, spill).ok()?;
        Some(spill.as_slice())
    }
}

/// A JSON string, borrowed when it has no escapes (serde's own `Cow<str>`
/// always copies).
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(TextVisitor(std::marker::PhantomData))
    }
}

/// The payload's members as decoded, before any check: the registered
/// claims the verifier reads kept apart (of any JSON type: a wrong type is a
/// claim error, not a malformed token), every other member in `extra`.
#[derive(Default)]
struct RawClaims {
    sub: Option<Value>,
    iss: Option<Value>,
    aud: Option<Value>,
    exp: Option<Value>,
    nbf: Option<Value>,
    iat: Option<Value>,
    extra: serde_json::Map<String, Value>,
}

impl<'de> Deserialize<'de> for RawClaims {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ClaimsVisitor;
        impl<'de> Visitor<'de> for ClaimsVisitor {
            type Value = RawClaims;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawClaims, A::Error> {
                let mut raw = RawClaims::default();
                while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
                    let slot = match key.as_ref() {
                        "sub" => &mut raw.sub,
                        "iss" => &mut raw.iss,
                        "aud" => &mut raw.aud,
                        "exp" => &mut raw.exp,
                        "nbf" => &mut raw.nbf,
                        "iat" => &mut raw.iat,
                        _ => {
                            raw.extra.insert(key.into_owned(), map.next_value()?);
                            continue;
                        }
                    };
                    // A repeated registered claim is ambiguous: refused.
                    if slot.is_some() {
                        return Err(de::Error::custom("a repeated registered claim"));
                    }
                    *slot = Some(map.next_value()?);
                }
                Ok(raw)
            }
        }
        deserializer.deserialize_map(ClaimsVisitor)
    }
}

/// A NumericDate claim: `None` when absent or `null`, `Err` when not a number.
fn numeric_claim(value: Option<Value>, name: &'static str) -> Result<Option<i64>, VerifyError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => numeric_date(&n)
            .map(Some)
            .ok_or(VerifyError::MissingClaim(name)),
        Some(_) => Err(VerifyError::MissingClaim(name)),
    }
}

impl Inner {
    fn age(&self, set: &KeySet, now: SystemTime) -> Age {
        let Some(at) = set.fetched_at else {
            return Age::Expired;
        };
        // A fetch "in the future" (the clock went back) counts as just made.
        let age = now.duration_since(at).unwrap_or(Duration::ZERO);
        if age < self.config.jwks_ttl {
            Age::Fresh
        } else if age.saturating_sub(self.config.jwks_ttl) < self.config.max_staleness {
            Age::Stale
        } else {
            Age::Expired
        }
    }

    fn within_cooldown(&self, at: Option<SystemTime>, now: SystemTime) -> bool {
        at.is_some_and(|at| {
            now.duration_since(at)
                .map_or(true, |d| d < self.config.unknown_kid_refetch_interval)
        })
    }

    /// Verifies the signature of `parts` with `key`, then decodes and checks the claims.
    fn check(&self, parts: &Parts<'_>, key: &ParsedPublicKey) -> Result<Claims, VerifyError> {
        let mut signature_buf = [0; SIGNATURE_BUF];
        let mut signature_spill = Vec::new();
        let signature = decode_part(parts.signature, &mut signature_buf, &mut signature_spill)
            .ok_or(VerifyError::Malformed("a part is not base64url"))?;
        key.verify_sig(parts.signed.as_bytes(), signature)
            .map_err(|_| VerifyError::BadSignature)?;
        let mut payload_buf = [0; PAYLOAD_BUF];
        let mut payload_spill = Vec::new();
        let payload = decode_part(parts.payload, &mut payload_buf, &mut payload_spill)
            .ok_or(VerifyError::Malformed("a part is not base64url"))?;
        let raw: RawClaims = serde_json::from_slice(payload)
            .map_err(|_| VerifyError::Malformed("the claims are not a JSON object"))?;
        self.claims(raw)
    }

    /// Starts one background refresh of a stale key set, unless one is in
    /// flight or the last fetch failed within the cool-down.
    fn revalidate_in_background(&self, this: &Arc<Inner>) {
        let now = self.clock.now();
        {
            let not_before = self
                .background_not_before
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if not_before.is_some_and(|t| now < t) {
                return;
            }
        }
        if self
            .refreshing
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return;
        }
        let this = Arc::clone(this);
        tokio::spawn(async move {
            let mut fetch = this.fetch.lock().await;
            // A foreground fetch may have replaced the set meanwhile.
            if this.age(&this.keys.load(), this.clock.now()) != Age::Fresh {
                tracing::debug!("the JWKS is stale; refreshing it in the background");
                let _ = this.fetch_into(&mut fetch).await;
            }
            drop(fetch);
            this.refreshing.store(false, Ordering::Release);
        });
    }

    /// A key set that may hold `kid` (slow path: only callers that need a
    /// fetch wait here, one fetch at a time).
    async fn key_set_with(&self, kid: &str) -> Result<Arc<KeySet>, VerifyError> {
        let mut fetch = self.fetch.lock().await;
        let now = self.clock.now();
        let set = self.keys.load_full();
        let age = self.age(&set, now);
        let known = set.keys.contains_key(kid);
        match (age, known) {
            // Fetched by another caller meanwhile.
            (Age::Fresh | Age::Stale, true) => return Ok(set),
            (Age::Fresh | Age::Stale, false) if self.within_cooldown(fetch.last_refetch, now) => {
                tracing::debug!(kid = %shown_kid(kid), "unknown key id; refetch rate-limited");
                return Err(VerifyError::UnknownKid(shown_kid(kid)));
            }
            (Age::Fresh | Age::Stale, false) => {
                tracing::debug!(kid = %shown_kid(kid), "unknown key id; refetching the JWKS");
                fetch.last_refetch = Some(now);
            }
            (Age::Expired, _) => {}
        }
        if let Some((at, why)) = &fetch.last_failure {
            if self.within_cooldown(Some(*at), now) {
                // The last fetch failed recently: do not hammer the endpoint.
                return match age {
                    Age::Expired => Err(VerifyError::JwksUnavailable(why.clone())),
                    _ => Err(VerifyError::UnknownKid(shown_kid(kid))),
                };
            }
        }
        self.fetch_into(&mut fetch).await
    }

    /// Fetches the JWKS (the caller holds the fetch lock) and installs it.
    async fn fetch_into(&self, fetch: &mut FetchState) -> Result<Arc<KeySet>, VerifyError> {
        let now = self.clock.now();
        match self.fetch_keys().await {
            Ok(keys) => {
                fetch.last_failure = None;
                *self
                    .background_not_before
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = None;
                let set = Arc::new(KeySet {
                    keys,
                    fetched_at: Some(now),
                });
                self.keys.store(Arc::clone(&set));
                Ok(set)
            }
            Err(error) => {
                tracing::warn!(error = %error, "fetching the JWKS failed");
                let message = error.to_string();
                fetch.last_failure = Some((now, message.clone()));
                *self
                    .background_not_before
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) =
                    Some(time_after(now, self.config.unknown_kid_refetch_interval));
                Err(VerifyError::JwksUnavailable(message))
            }
        }
    }

    async fn fetch_keys(&self) -> Result<HashMap<String, ParsedPublicKey>, Error> {
        let jwks = self
            .client
            .get_jwks()
            .app_id(self.app_id.as_str())
            .send()
            .await?
            .into_inner();
        let mut keys = HashMap::new();
        for jwk in jwks.keys {
            let usable = jwk.kty == "RSA"
                && (jwk.alg.is_empty() || jwk.alg == "RS256")
                && (jwk.use_.is_empty() || jwk.use_ == "sig");
            if !usable {
                tracing::debug!(kid = %shown_kid(&jwk.kid), alg = %jwk.alg, "skipping a JWKS key that is not an RS256 signing key");
                continue;
            }
            match rsa_public_key(&jwk.n, &jwk.e) {
                Some(key) => {
                    keys.insert(jwk.kid, key);
                }
                None => {
                    tracing::debug!(kid = %shown_kid(&jwk.kid), "skipping an unreadable JWKS key")
                }
            }
        }
        tracing::debug!(keys = keys.len(), "fetched the JWKS");
        Ok(keys)
    }

    /// Checks the claims of a token whose signature is good: the required
    /// ones present and of their types, `iss` and `aud`, then `exp` and
    /// `nbf` against the verifier's clock with the leeway.
    fn claims(&self, raw: RawClaims) -> Result<Claims, VerifyError> {
        let RawClaims {
            sub,
            iss,
            aud,
            exp,
            nbf,
            iat,
            extra,
        } = raw;
        let Some(Value::String(iss)) = iss else {
            return Err(VerifyError::WrongIssuer);
        };
        let aud = match aud {
            Some(Value::String(aud)) => vec![aud],
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|item| match item {
                    Value::String(aud) => Some(aud),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .ok_or(VerifyError::WrongAudience)?,
            _ => return Err(VerifyError::WrongAudience),
        };
        let Some(Value::String(sub)) = sub else {
            return Err(VerifyError::MissingClaim("sub"));
        };
        let exp = match exp {
            Some(Value::Number(n)) if is_numeric_date(&n) => numeric_date(&n),
            _ => None,
        }
        .ok_or(VerifyError::MissingClaim("exp"))?;
        if iss != self.issuer {
            return Err(VerifyError::WrongIssuer);
        }
        if !aud.contains(&self.app_id) {
            return Err(VerifyError::WrongAudience);
        }
        let nbf = numeric_claim(nbf, "nbf")?;
        let iat = numeric_claim(iat, "iat")?;
        let now = unix_seconds(self.clock.now());
        let leeway = i64::try_from(self.config.leeway.as_secs()).unwrap_or(i64::MAX);
        if now >= exp.saturating_add(leeway) {
            return Err(VerifyError::Expired);
        }
        if nbf.is_some_and(|nbf| now.saturating_add(leeway) < nbf) {
            return Err(VerifyError::NotYetValid);
        }
        if sub.is_empty() {
            return Err(VerifyError::MissingClaim("sub"));
        }
        Ok(Claims {
            sub,
            iss,
            aud,
            exp,
            iat,
            nbf,
            extra,
        })
    }
}

/// An `exp` the verifier takes: a number from 0 up to `u64::MAX` (a
/// negative or non-finite one is refused as a missing `exp`).
fn is_numeric_date(n: &serde_json::Number) -> bool {
    n.is_u64()
        || n.as_f64()
            .is_some_and(|f| f.is_finite() && f >= 0.0 && f < u64::MAX as f64)
}

/// The RS256 public key of a JWK's `n` and `e` (base64url, big-endian),
/// parsed once for every later verification; `None` when they are not
/// base64url or make no RSA public key.
fn rsa_public_key(n: &str, e: &str) -> Option<ParsedPublicKey> {
    let n = URL_SAFE_NO_PAD.decode(n).ok()?;
    let e = URL_SAFE_NO_PAD.decode(e).ok()?;
    // aws-lc-rs wants the integers without leading zero bytes; some JWKS
    // publishers keep one (the value is the same).
    fn trimmed(bytes: &[u8]) -> &[u8] {
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        &bytes[start..]
    }
    RsaPublicKeyComponents {
        n: trimmed(&n),
        e: trimmed(&e),
    }
    .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
    .ok()
}

/// A `kid` as errors and logs show it: the token's header is attacker-chosen,
/// so at most 64 characters of it.
fn shown_kid(kid: &str) -> String {
    match kid.char_indices().nth(64) {
        Some((cut, _)) => format!("{}…", &kid[..cut]),
        None => kid.to_string(),
    }
}
