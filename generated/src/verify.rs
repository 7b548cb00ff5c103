//! Verifying Passage auth tokens: [`TokenVerifier`] checks an RS256 JWT
//! against the app's JWKS (fetched with `get_jwks` and cached) and returns its
//! [`Claims`], or a [`VerifyError`] naming what was wrong.
//!
//! - Only RS256 is accepted (`none`, `HS*` and every other algorithm are
//!   refused before any key is touched); the header must name a `kid`.
//! - `iss` must equal the app's issuer, `aud` must contain the app id (a
//!   string or an array), `exp`/`nbf` are checked with a small leeway.
//! - Keys are cached for [`VerifierConfig::jwks_ttl`]; a token with an
//!   unknown `kid` triggers a refetch at most once per
//!   [`VerifierConfig::unknown_kid_refetch_interval`].
//! - Verifications of tokens whose key is cached take no lock at all (the
//!   key set is swapped atomically, [`arc_swap`]) and never wait for a fetch.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use arc_swap::ArcSwap;
use std::time::{Duration, SystemTime};

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
    /// The least time between two refetches caused by unknown `kid`s (default 30 s).
    pub unknown_kid_refetch_interval: Duration,
    /// Tolerance for `exp` and `nbf` (default 5 s).
    pub leeway: Duration,
}

impl Default for VerifierConfig {
    fn default() -> Self {
        Self {
            issuer: None,
            jwks_ttl: Duration::from_secs(3600),
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
    /// Read without a lock on every verification; replaced whole after a fetch.
    cache: ArcSwap<KeyCache>,
    fetch: tokio::sync::Mutex<FetchState>,
}

#[derive(Default)]
struct KeyCache {
    keys: HashMap<String, Arc<DecodingKey>>,
    fetched_at: Option<SystemTime>,
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
        let cached = self.inner.read_cache().keys.len();
        f.debug_struct("TokenVerifier")
            .field("app_id", &self.inner.app_id)
            .field("issuer", &self.inner.issuer)
            .field("config", &self.inner.config)
            .field("cached_keys", &cached)
            .finish()
    }
}

#[derive(Deserialize)]
struct RawHeader {
    alg: Option<String>,
    kid: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl TokenVerifier {
    /// A verifier for tokens of `app_id`, fetching keys with `client`.
    pub fn new(client: Client, app_id: impl Into<String>, config: VerifierConfig) -> Self {
        let app_id = app_id.into();
        let issuer = config.issuer.clone().unwrap_or_else(|| {
            format!("{}/apps/{}", client.baseurl().trim_end_matches('/'), app_id)
        });
        Self {
            inner: Arc::new(Inner {
                client,
                app_id,
                issuer,
                config,
                clock: Arc::new(SystemClock),
                cache: ArcSwap::from_pointee(KeyCache::default()),
                fetch: tokio::sync::Mutex::new(FetchState::default()),
            }),
        }
    }

    /// The same verifier with `clock` deciding expiry and cache ages (a fresh cache).
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        let inner = &self.inner;
        Self {
            inner: Arc::new(Inner {
                client: inner.client.clone(),
                app_id: inner.app_id.clone(),
                issuer: inner.issuer.clone(),
                config: inner.config.clone(),
                clock,
                cache: ArcSwap::from_pointee(KeyCache::default()),
                fetch: tokio::sync::Mutex::new(FetchState::default()),
            }),
        }
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
        let header = parse_header(token)?;
        let alg = header.alg.unwrap_or_default();
        if alg != "RS256" {
            return Err(VerifyError::DisallowedAlgorithm(
                alg.chars().take(32).collect(),
            ));
        }
        let kid = match header.kid {
            Some(kid) if !kid.is_empty() => kid,
            _ => return Err(VerifyError::MissingKid),
        };
        let key = self.inner.key_for(&kid).await?;

        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
            token,
            &key,
            &validation,
        )
        .map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            match e.kind() {
                K::InvalidSignature => VerifyError::BadSignature,
                K::InvalidAlgorithm | K::InvalidAlgorithmName | K::UnsupportedAlgorithm => {
                    VerifyError::DisallowedAlgorithm(alg.clone())
                }
                K::Base64(_) => VerifyError::Malformed("a part is not base64url"),
                K::Json(_) | K::Utf8(_) => {
                    VerifyError::Malformed("the claims are not a JSON object")
                }
                _ => VerifyError::Malformed("the token could not be decoded"),
            }
        })?;
        let claims = self.inner.check_claims(data.claims)?;
        Ok(claims)
    }
}

fn parse_header(token: &str) -> Result<RawHeader, VerifyError> {
    let mut parts = token.split('.');
    let header = parts.next().unwrap_or_default();
    let (Some(payload), Some(_signature), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(VerifyError::Malformed("not three dot-separated parts"));
    };
    // An empty signature (`alg: none`) is refused later, by algorithm.
    if header.is_empty() || payload.is_empty() {
        return Err(VerifyError::Malformed("an empty part"));
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| VerifyError::Malformed("the header is not base64url"))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| VerifyError::Malformed("the header is not a JSON object"))
}

impl Inner {
    fn read_cache(&self) -> arc_swap::Guard<Arc<KeyCache>> {
        self.cache.load()
    }

    fn is_fresh(&self, cache: &KeyCache, now: SystemTime) -> bool {
        cache.fetched_at.is_some_and(|at| {
            now.duration_since(at)
                .map_or(true, |age| age < self.config.jwks_ttl)
        })
    }

    /// The cached key `kid` and whether the cache is fresh.
    fn cached(&self, kid: &str, now: SystemTime) -> (bool, Option<Arc<DecodingKey>>) {
        let cache = self.read_cache();
        (self.is_fresh(&cache, now), cache.keys.get(kid).cloned())
    }

    async fn key_for(&self, kid: &str) -> Result<Arc<DecodingKey>, VerifyError> {
        if let (true, Some(key)) = self.cached(kid, self.clock.now()) {
            return Ok(key);
        }
        // Slow path: only callers that need a fetch wait here.
        let mut fetch = self.fetch.lock().await;
        let now = self.clock.now();
        let (fresh, key) = self.cached(kid, now);
        let within = |at: Option<SystemTime>| {
            at.is_some_and(|at| {
                now.duration_since(at)
                    .map_or(true, |d| d < self.config.unknown_kid_refetch_interval)
            })
        };
        match (fresh, key) {
            (true, Some(key)) => return Ok(key),
            (true, None) if within(fetch.last_refetch) => {
                tracing::debug!(kid = %shown_kid(kid), "unknown key id; refetch rate-limited");
                return Err(VerifyError::UnknownKid(shown_kid(kid)));
            }
            (false, stale) if within(fetch.last_failure.as_ref().map(|f| f.0)) => {
                // The last fetch failed recently: do not hammer the endpoint.
                return match stale {
                    Some(key) => Ok(key),
                    None => Err(VerifyError::JwksUnavailable(
                        fetch
                            .last_failure
                            .as_ref()
                            .map(|f| f.1.clone())
                            .unwrap_or_default(),
                    )),
                };
            }
            _ => {}
        }
        if fresh {
            // Only these refetches are rate-limited: a TTL refresh does not
            // delay the discovery of a key rotated just after it.
            tracing::debug!(kid = %shown_kid(kid), "unknown key id; refetching the JWKS");
            fetch.last_refetch = Some(now);
        }
        match self.fetch_keys().await {
            Ok(keys) => {
                fetch.last_failure = None;
                let key = keys.get(kid).cloned();
                // Fetches are serialised by `fetch`, so no update is lost.
                self.cache.store(Arc::new(KeyCache {
                    keys,
                    fetched_at: Some(now),
                }));
                key.ok_or_else(|| VerifyError::UnknownKid(shown_kid(kid)))
            }
            Err(error) => {
                tracing::warn!(error = %error, "fetching the JWKS failed");
                let message = error.to_string();
                fetch.last_failure = Some((now, message.clone()));
                match self.cached(kid, now).1 {
                    Some(stale) => Ok(stale),
                    None => Err(VerifyError::JwksUnavailable(message)),
                }
            }
        }
    }

    async fn fetch_keys(&self) -> Result<HashMap<String, Arc<DecodingKey>>, Error> {
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
                tracing::debug!(kid = %jwk.kid, alg = %jwk.alg, "skipping a JWKS key that is not an RS256 signing key");
                continue;
            }
            match DecodingKey::from_rsa_components(&jwk.n, &jwk.e) {
                Ok(key) => {
                    keys.insert(jwk.kid, Arc::new(key));
                }
                Err(_) => tracing::debug!(kid = %jwk.kid, "skipping an unreadable JWKS key"),
            }
        }
        tracing::debug!(keys = keys.len(), "fetched the JWKS");
        Ok(keys)
    }

    fn check_claims(
        &self,
        mut map: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Claims, VerifyError> {
        let take_str = |map: &mut serde_json::Map<String, serde_json::Value>,
                        name: &'static str| {
            match map.remove(name) {
                Some(serde_json::Value::String(s)) => Ok(s),
                _ => Err(VerifyError::MissingClaim(name)),
            }
        };
        let take_time = |map: &mut serde_json::Map<String, serde_json::Value>,
                         name: &'static str| {
            match map.remove(name) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::Number(n)) => numeric_date(&n)
                    .map(Some)
                    .ok_or(VerifyError::MissingClaim(name)),
                Some(_) => Err(VerifyError::MissingClaim(name)),
            }
        };
        let iss = match map.remove("iss") {
            Some(serde_json::Value::String(s)) => s,
            _ => return Err(VerifyError::WrongIssuer),
        };
        if iss != self.issuer {
            return Err(VerifyError::WrongIssuer);
        }
        let aud = match map.remove("aud").map(serde_json::from_value::<OneOrMany>) {
            Some(Ok(OneOrMany::One(a))) => vec![a],
            Some(Ok(OneOrMany::Many(a))) => a,
            _ => return Err(VerifyError::WrongAudience),
        };
        if !aud.iter().any(|a| a == &self.app_id) {
            return Err(VerifyError::WrongAudience);
        }
        let exp = take_time(&mut map, "exp")?.ok_or(VerifyError::MissingClaim("exp"))?;
        let nbf = take_time(&mut map, "nbf")?;
        let iat = take_time(&mut map, "iat")?;
        let now = unix_seconds(self.clock.now());
        let leeway = i64::try_from(self.config.leeway.as_secs()).unwrap_or(i64::MAX);
        if now >= exp.saturating_add(leeway) {
            return Err(VerifyError::Expired);
        }
        if let Some(nbf) = nbf {
            if now.saturating_add(leeway) < nbf {
                return Err(VerifyError::NotYetValid);
            }
        }
        let sub = take_str(&mut map, "sub")?;
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
            extra: map,
        })
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
