//! Verifying Passage auth tokens: [`TokenVerifier`] checks an RS256 JWT
//! against the app's JWKS (fetched with `get_jwks` and cached) and returns its
//! [`Claims`], or a [`VerifyError`] naming what was wrong.
//!
//! - The header is parsed and the signature, `iss`, `aud` and the required
//!   claims (`iss`, `aud`, `sub`, `exp`) are checked by `jsonwebtoken`
//!   (`decode_header`, [`Validation`]); only RS256 is accepted (`none`,
//!   `HS*` and every other algorithm are refused before any key is touched)
//!   and the header must name a `kid`. `exp` and `nbf` are compared, with
//!   [`VerifierConfig::leeway`], against the verifier's [`Clock`] (which
//!   `jsonwebtoken` cannot be given).
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
//! - The hot path (a cached key) takes no lock and allocates nothing beyond
//!   what `jsonwebtoken` does: the key set is behind an `ArcSwap`.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::session::{numeric_date, unix_seconds, Clock, SystemClock};
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
    /// `iss`, `aud`, RS256 and the required claims; built once.
    validation: Validation,
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
    keys: HashMap<String, DecodingKey>,
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

/// Only what an error needs from a header `jsonwebtoken` refused: its `alg`.
#[derive(Deserialize)]
struct AlgOnly {
    alg: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl Inner {
    fn new(
        client: Client,
        app_id: String,
        issuer: String,
        config: VerifierConfig,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[issuer.as_str()]);
        validation.set_audience(&[app_id.as_str()]);
        validation.set_required_spec_claims(&["iss", "aud", "sub", "exp"]);
        // Against the verifier's clock, in `check_times`.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        Self {
            client,
            app_id,
            issuer,
            config,
            clock,
            validation,
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
        let kid = header_kid(token)?;
        let inner = &self.inner;
        // Hot path: the key is in a set that may be used now.
        {
            let set = inner.keys.load();
            if let Some(key) = set.keys.get(&kid) {
                match inner.age(&set, inner.clock.now()) {
                    Age::Fresh => return inner.decode(token, key),
                    Age::Stale => {
                        inner.revalidate_in_background(&self.inner);
                        return inner.decode(token, key);
                    }
                    Age::Expired => {}
                }
            }
        }
        let set = inner.key_set_with(&kid).await?;
        match set.keys.get(&kid) {
            Some(key) => inner.decode(token, key),
            None => Err(VerifyError::UnknownKid(shown_kid(&kid))),
        }
    }
}

/// The `kid` of `token`'s header, parsed by `jsonwebtoken`; only RS256 passes.
fn header_kid(token: &str) -> Result<String, VerifyError> {
    let mut parts = token.split('.');
    let header = parts.next().unwrap_or_default();
    let (Some(payload), Some(_signature), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(VerifyError::Malformed("not three dot-separated parts"));
    };
    // An empty signature (`alg: none`) is refused later, by algorithm.
    if header.is_empty() || payload.is_empty() {
        return Err(VerifyError::Malformed("an empty part"));
    }
    let parsed = match jsonwebtoken::decode_header(token) {
        Ok(parsed) => parsed,
        Err(e) => return Err(header_error(header, &e)),
    };
    if parsed.alg != Algorithm::RS256 {
        return Err(VerifyError::DisallowedAlgorithm(format!(
            "{:?}",
            parsed.alg
        )));
    }
    match parsed.kid {
        Some(kid) if !kid.is_empty() => Ok(kid),
        _ => Err(VerifyError::MissingKid),
    }
}

/// Why `jsonwebtoken` refused a header, as a typed error.
fn header_error(header: &str, e: &jsonwebtoken::errors::Error) -> VerifyError {
    use jsonwebtoken::errors::ErrorKind as K;
    match e.kind() {
        K::Base64(_) => VerifyError::Malformed("the header is not base64url"),
        // An `alg` outside jsonwebtoken's list (`none`, a made-up name):
        // name it, cut, in the error.
        _ => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<AlgOnly>(&bytes).ok())
            .map_or(
                VerifyError::Malformed("the header is not a JSON object"),
                |h| match h.alg {
                    Some(alg) if alg.parse::<Algorithm>().is_ok() => {
                        VerifyError::Malformed("the header is not a JSON object")
                    }
                    alg => VerifyError::DisallowedAlgorithm(
                        alg.unwrap_or_default().chars().take(32).collect(),
                    ),
                },
            ),
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

    /// Verifies the signature and the claims of `token` with `key`.
    fn decode(&self, token: &str, key: &DecodingKey) -> Result<Claims, VerifyError> {
        let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
            token,
            key,
            &self.validation,
        )
        .map_err(|e| claims_error(&e))?;
        self.claims(data.claims)
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
                    .unwrap_or_else(|e| e.into_inner()) = Some(crate::backoff::time_after(
                    now,
                    self.config.unknown_kid_refetch_interval,
                ));
                Err(VerifyError::JwksUnavailable(message))
            }
        }
    }

    async fn fetch_keys(&self) -> Result<HashMap<String, DecodingKey>, Error> {
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
            match DecodingKey::from_rsa_components(&jwk.n, &jwk.e) {
                Ok(key) => {
                    keys.insert(jwk.kid, key);
                }
                Err(_) => {
                    tracing::debug!(kid = %shown_kid(&jwk.kid), "skipping an unreadable JWKS key")
                }
            }
        }
        tracing::debug!(keys = keys.len(), "fetched the JWKS");
        Ok(keys)
    }

    /// The claims of a token `jsonwebtoken` verified (signature, `iss`,
    /// `aud`, required claims); `exp` and `nbf` against the verifier's clock.
    fn claims(
        &self,
        mut map: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Claims, VerifyError> {
        let time =
            |map: &mut serde_json::Map<String, serde_json::Value>, name: &'static str| match map
                .remove(name)
            {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::Number(n)) => numeric_date(&n)
                    .map(Some)
                    .ok_or(VerifyError::MissingClaim(name)),
                Some(_) => Err(VerifyError::MissingClaim(name)),
            };
        let exp = time(&mut map, "exp")?.ok_or(VerifyError::MissingClaim("exp"))?;
        let nbf = time(&mut map, "nbf")?;
        let iat = time(&mut map, "iat")?;
        let now = unix_seconds(self.clock.now());
        let leeway = i64::try_from(self.config.leeway.as_secs()).unwrap_or(i64::MAX);
        if now >= exp.saturating_add(leeway) {
            return Err(VerifyError::Expired);
        }
        if nbf.is_some_and(|nbf| now.saturating_add(leeway) < nbf) {
            return Err(VerifyError::NotYetValid);
        }
        // Present and of the right type: `Validation` required and checked them.
        let string = |value: Option<serde_json::Value>| match value {
            Some(serde_json::Value::String(s)) => Some(s),
            _ => None,
        };
        let sub = string(map.remove("sub"))
            .filter(|s| !s.is_empty())
            .ok_or(VerifyError::MissingClaim("sub"))?;
        let iss = string(map.remove("iss")).ok_or(VerifyError::WrongIssuer)?;
        let aud = match map.remove("aud").map(serde_json::from_value::<OneOrMany>) {
            Some(Ok(OneOrMany::One(a))) => vec![a],
            Some(Ok(OneOrMany::Many(a))) => a,
            _ => return Err(VerifyError::WrongAudience),
        };
        Ok(Claims {
            sub,
            iss,
            aud,
            exp,
            iat,
            nbf,
            extra: map,
        })
    }
}

/// `jsonwebtoken`'s verdict on a token whose header passed, as a typed error.
fn claims_error(e: &jsonwebtoken::errors::Error) -> VerifyError {
    use jsonwebtoken::errors::ErrorKind as K;
    match e.kind() {
        K::InvalidSignature => VerifyError::BadSignature,
        K::InvalidIssuer => VerifyError::WrongIssuer,
        K::InvalidAudience => VerifyError::WrongAudience,
        K::MissingRequiredClaim(c) | K::InvalidClaimFormat(c) => match c.as_str() {
            "iss" => VerifyError::WrongIssuer,
            "aud" => VerifyError::WrongAudience,
            "sub" => VerifyError::MissingClaim("sub"),
            "nbf" => VerifyError::MissingClaim("nbf"),
            _ => VerifyError::MissingClaim("exp"),
        },
        K::InvalidAlgorithm | K::InvalidAlgorithmName | K::UnsupportedAlgorithm => {
            VerifyError::DisallowedAlgorithm("RS256".into())
        }
        K::Base64(_) => VerifyError::Malformed("a part is not base64url"),
        K::Json(_) | K::Utf8(_) => VerifyError::Malformed("the claims are not a JSON object"),
        _ => VerifyError::Malformed("the token could not be decoded"),
    }
}

/// A `kid` as errors and logs show it: the token's header is attacker-chosen,
/// so at most 64 characters of it.
fn shown_kid(kid: &str) -> String {
    match kid.char_indices().nth(64) {
        Some((cut, _)) => format!("{}…", &kid[..cut]),
        None => kid.to_string(),
    }
}
