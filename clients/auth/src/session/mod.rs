//! Sessions: a [`Session`] owns a signed-in user's token pair and hands out a
//! valid auth token, refreshing it (once, however many callers ask) before it
//! expires.
//!
//! - **Proactive**: a token that expires within the refresh skew (30 s by
//!   default) is refreshed with `POST /tokens` before it is handed out. The
//!   expiry is read from the JWT's `exp` without verifying it.
//! - **Single-flight, across processes too**: concurrent callers that find
//!   the token stale wait for one refresh and all receive its result. The
//!   refresh holds the store's [`lock`](TokenStore::lock) (for a
#![cfg_attr(
    feature = "file-store",
    doc = "   [`FileStore`], an advisory file lock) and first re-reads the store: a"
)]
#![cfg_attr(
    not(feature = "file-store"),
    doc = "   `FileStore`, an advisory file lock) and first re-reads the store: a"
)]
//!   pair that another session or process rotated meanwhile is used instead
//!   of presenting the spent refresh token.
//! - **Never cancelled**: a refresh runs in its own task to the end, whatever
//!   the callers' timeouts: a caller that stops waiting does not drop a
//!   request the server may already have processed, and the rotated pair is
//!   stored. The only time limits are the client's request timeout and the
//!   refresh [`RetryPolicy`].
//! - **Classified failures** (by the API's error code):
//!   - `invalid_refresh_token` (expired, revoked, reused): the session ends;
//!     the store is cleared *if it still holds the pair this session
//!     presented* and callers get [`SessionError::SessionExpired`];
//!   - transient (5xx, 429, a timeout, a connection failure, or an answer
//!     lost or unreadable after the request was sent): retried with the same
//!     refresh token under the refresh [`RetryPolicy`] (bounded attempts and
//!     time, `Retry-After` honoured); then [`SessionError::RefreshFailed`],
//!     the old pair is kept and the next refresh waits for a capped
//!     cool-down ([`SessionError::RefreshBackoff`]);
//!   - anything else (another 4xx): [`SessionError::RefreshRejected`], the
//!     pair is kept and not presented again, since the same request would
//!     get the same answer, until new tokens arrive.
//!
//!   An auth token that has not expired yet is still handed out while its
//!   refresh fails.
//! - **Lost-answer safe**: a retried refresh presents the same refresh token;
//!   a server with a reuse grace window (as the emulator's
//!   `refresh_reuse_grace_seconds`) answers it with the pair it already
//!   issued, so a rotation whose answer was lost does not end the session.
//! - Calls through [`Session::call`] carry the bearer token; a 401
//!   `invalid_access_token` causes one refresh and one retry, never more.

mod expiry;
#[cfg(feature = "file-store")]
mod file_store;
mod store;

use std::fmt;
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;

#[cfg(feature = "file-store")]
pub use file_store::FileStore;
pub use passage_runtime::{Clock, ManualClock, SystemClock};
pub use store::{MemoryStore, StoreError, StoreLock, StoredTokens, TokenStore};

use crate::open_enums::ApiErrorCode;
use crate::types::{AuthResult, RefreshAuthTokenRequest};
use crate::{Client, CredentialsExt, Error, RetryPolicy, SecretValue};
use passage_runtime::backoff::{instant_after, time_after};
use passage_runtime::clock::unix_seconds;
use passage_runtime::Backoff;

/// Default of [`SessionBuilder::refresh_skew`].
pub const DEFAULT_REFRESH_SKEW: Duration = Duration::from_secs(30);

/// Default of [`SessionBuilder::server_reuse_grace`]: how long after a
/// rotation the server is assumed to accept the just-rotated refresh token
/// again (the emulator's `refresh_reuse_grace_seconds`; 30 s is a common
/// setting of identity providers). It is longer than the client's default
/// request timeout ([`crate::DEFAULT_TIMEOUT`]) plus the longest default
/// backoff, so a refresh whose answer timed out is presented again inside it.
pub const DEFAULT_SERVER_REUSE_GRACE: Duration = Duration::from_secs(30);

/// Why a session could not give a token or make a call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The session holds no tokens (never signed in, revoked, or expired earlier).
    #[error("not signed in")]
    NotSignedIn,
    /// The refresh token was rejected: the user must sign in again. The store was cleared.
    #[error("the session has expired; sign in again")]
    SessionExpired,
    /// A refresh failed transiently (5xx, 429, timeout, connection failure,
    /// lost answer) on every attempt the refresh [`RetryPolicy`] allowed;
    /// the old tokens are kept and a later refresh may succeed.
    #[error("refreshing the auth token failed: {0}")]
    RefreshFailed(#[source] Error),
    /// The server refused the refresh with an error other than an invalid
    /// refresh token (a 4xx such as 400, 403 or 404): repeating it would not
    /// help, so it is not repeated until the session gets new tokens. The
    /// tokens are kept.
    #[error("the refresh was refused: {0}")]
    RefreshRejected(#[source] Arc<Error>),
    /// An earlier refresh failed and the next attempt is not due yet; the old tokens are kept.
    #[error("refreshing the auth token failed recently; next attempt in {retry_in:?}")]
    RefreshBackoff {
        /// Time until the next refresh attempt is allowed.
        retry_in: Duration,
    },
    /// The token store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The call made through [`Session::call`] failed.
    #[error("{0}")]
    Api(#[source] Error),
}

/// Configures a [`Session`].
pub struct SessionBuilder<S: TokenStore = MemoryStore> {
    client: Client,
    app_id: String,
    store: S,
    clock: Arc<dyn Clock>,
    skew: Duration,
    retry: RetryPolicy,
    reuse_grace: Duration,
    cooldown: Backoff,
}

impl<S: TokenStore> fmt::Debug for SessionBuilder<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionBuilder")
            .field("app_id", &self.app_id)
            .field("skew", &self.skew)
            .field("refresh_retry", &self.retry)
            .field("server_reuse_grace", &self.reuse_grace)
            .field("refresh_backoff", &self.cooldown)
            .finish_non_exhaustive()
    }
}

impl<S: TokenStore> SessionBuilder<S> {
    /// Where the token pair is kept (default: [`MemoryStore`]).
    pub fn store<T: TokenStore>(self, store: T) -> SessionBuilder<T> {
        SessionBuilder {
            client: self.client,
            app_id: self.app_id,
            store,
            clock: self.clock,
            skew: self.skew,
            retry: self.retry,
            reuse_grace: self.reuse_grace,
            cooldown: self.cooldown,
        }
    }

    /// The clock that decides expiry (default: [`SystemClock`]).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Refresh a token this long before it expires (default [`DEFAULT_REFRESH_SKEW`]).
    pub fn refresh_skew(mut self, skew: Duration) -> Self {
        self.skew = skew;
        self
    }

    /// How one refresh retries transient failures with the same refresh
    /// token (default [`RetryPolicy::default`]: 3 attempts within 10 s,
    /// `Retry-After` up to 5 s). Only transient failures are retried,
    /// whatever the policy.
    pub fn refresh_retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The server's reuse grace window (default [`DEFAULT_SERVER_REUSE_GRACE`]):
    /// after a refresh attempt whose outcome is unknown (a timeout, a
    /// connection lost after the request was sent, an answer that cannot be
    /// read), the server may have rotated the pair; the same refresh token is
    /// presented again until this long after that attempt was sent, even past
    /// the [`refresh_retry`](Self::refresh_retry) policy's attempts and budget,
    /// because the server returns the rotated pair to it only within its
    /// window. Set it to the server's setting (0 when it has none: then only
    /// the retry policy applies).
    pub fn server_reuse_grace(mut self, grace: Duration) -> Self {
        self.reuse_grace = grace;
        self
    }

    /// After a refresh failed transiently, wait `initial` (on the session's
    /// clock) before the next one, doubling up to `max` while failures
    /// repeat (default 1 s to 60 s); meanwhile callers get the unexpired
    /// token or [`SessionError::RefreshBackoff`].
    pub fn refresh_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.cooldown = Backoff::new(initial, max.max(initial));
        self
    }

    /// Builds the session; the store is read on first use.
    pub fn build(self) -> Session<S> {
        Session {
            inner: Arc::new(Inner {
                client: self.client,
                app_id: self.app_id,
                store: self.store,
                clock: self.clock,
                skew: self.skew,
                retry: self.retry,
                reuse_grace: self.reuse_grace,
                cooldown: self.cooldown,
                current: RwLock::new(Slot::Unloaded),
                refresh: tokio::sync::Mutex::new(RefreshState::default()),
            }),
        }
    }
}

/// A signed-in user's tokens, refreshed as needed. Cheap to clone (clones share state).
///
/// ```no_run
/// use passage_auth_client::{ClientBuilder, Session};
///
/// # async fn demo(auth: passage_auth_client::types::AuthResult) -> Result<(), Box<dyn std::error::Error>> {
/// let client = ClientBuilder::new().base_url("http://127.0.0.1:8787/v1").build()?;
/// let session = Session::new(client, "my-app-id");
/// session.sign_in(&auth).await?;
///
/// // A valid token, refreshed if it was about to expire.
/// let token = session.auth_token().await?;
/// # let _ = token;
///
/// // A current-user call with the bearer token; retried once after a refresh on 401.
/// let me = session
///     .call(|client| async move { client.get_currentuser().app_id("my-app-id").send().await })
///     .await?
///     .into_inner();
/// println!("{}", me.user.id);
/// session.revoke().await?;
/// # Ok(())
/// # }
/// ```
pub struct Session<S: TokenStore = MemoryStore> {
    inner: Arc<Inner<S>>,
}

impl<S: TokenStore> Clone for Session<S> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<S: TokenStore> fmt::Debug for Session<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &*self.inner.read() {
            Slot::Unloaded => "not loaded",
            Slot::SignedOut => "signed out",
            Slot::Active(_) => "signed in",
        };
        f.debug_struct("Session")
            .field("app_id", &self.inner.app_id)
            .field("state", &state)
            .field("refresh_skew", &self.inner.skew)
            .finish_non_exhaustive()
    }
}

struct Inner<S> {
    client: Client,
    app_id: String,
    store: S,
    clock: Arc<dyn Clock>,
    skew: Duration,
    retry: RetryPolicy,
    reuse_grace: Duration,
    cooldown: Backoff,
    /// What the fast path reads; written only under `refresh`.
    current: RwLock<Slot>,
    /// Held while loading, refreshing, signing in or out: the single flight.
    refresh: tokio::sync::Mutex<RefreshState>,
}

#[derive(Clone)]
enum Slot {
    Unloaded,
    SignedOut,
    Active(Current),
}

#[derive(Clone)]
struct Current {
    tokens: StoredTokens,
    expires_at: Option<i64>,
    generation: u64,
}

#[derive(Default)]
struct RefreshState {
    generation: u64,
    failures: u32,
    retry_at: Option<SystemTime>,
    /// The generation whose refresh the server refused for good, and why.
    refused: Option<(u64, Arc<Error>)>,
    /// The last save failed: memory holds a newer pair than the store.
    store_behind: bool,
}

impl RefreshState {
    fn reset_failures(&mut self) {
        self.failures = 0;
        self.retry_at = None;
        self.refused = None;
    }
}

/// How a failed `POST /tokens` is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefreshFailure {
    /// The refresh token is expired, revoked or reused: the session ends.
    Expired,
    /// May succeed later: retry (bounded), then cool down.
    Transient,
    /// Will not succeed with this pair.
    Permanent,
}

/// Classifies a failed refresh by the API's error code, then by status.
///
/// `invalid_refresh_token` ends the session; 429, every 5xx, a transport
/// failure and an answer that arrived but cannot be used (undecodable, an
/// undeclared 2xx) are transient: the server may have rotated the token, and
/// presenting it again within the server's reuse grace window returns the
/// new pair. Every other 4xx, and a request that could not be built, is
/// permanent.
fn classify_refresh(error: &Error) -> RefreshFailure {
    if error.code() == Some(&ApiErrorCode::InvalidRefreshToken) {
        return RefreshFailure::Expired;
    }
    match error.status() {
        Some(status) if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() => {
            RefreshFailure::Transient
        }
        Some(status) if status.is_client_error() => RefreshFailure::Permanent,
        // An undeclared 1xx/2xx/3xx: the server may have rotated, the answer is unusable.
        Some(_) => RefreshFailure::Transient,
        None => match error {
            Error::Transport { .. } | Error::Decode { .. } => RefreshFailure::Transient,
            _ => RefreshFailure::Permanent,
        },
    }
}

impl Session<MemoryStore> {
    /// A session for `app_id` with the default settings and an empty [`MemoryStore`].
    pub fn new(client: Client, app_id: impl Into<String>) -> Self {
        Self::builder(client, app_id).build()
    }

    /// A builder for a session of `app_id`, calling the API with `client`.
    pub fn builder(client: Client, app_id: impl Into<String>) -> SessionBuilder<MemoryStore> {
        SessionBuilder {
            client,
            app_id: app_id.into(),
            store: MemoryStore::new(),
            clock: Arc::new(SystemClock),
            skew: DEFAULT_REFRESH_SKEW,
            retry: RetryPolicy::default(),
            reuse_grace: DEFAULT_SERVER_REUSE_GRACE,
            cooldown: Backoff::new(Duration::from_secs(1), Duration::from_secs(60)),
        }
    }
}

impl<S: TokenStore> Inner<S> {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Slot> {
        self.current.read().unwrap_or_else(|e| e.into_inner())
    }

    fn set(&self, slot: Slot) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = slot;
    }

    fn now(&self) -> i64 {
        unix_seconds(self.clock.now())
    }

    /// True when `current` may be handed out without a refresh.
    fn fresh(&self, current: &Current) -> bool {
        match current.expires_at {
            None => true,
            Some(exp) => {
                let skew = i64::try_from(self.skew.as_secs()).unwrap_or(i64::MAX);
                self.now().saturating_add(skew) < exp
            }
        }
    }

    /// True when `current` has not expired yet (it may be within the skew).
    fn unexpired(&self, current: &Current) -> bool {
        current.expires_at.is_none_or(|exp| self.now() < exp)
    }

    fn current(&self, state: &mut RefreshState, tokens: StoredTokens) -> Current {
        state.generation += 1;
        Current {
            expires_at: expiry::unverified_expiry(tokens.auth_token.expose_secret()),
            tokens,
            generation: state.generation,
        }
    }

    async fn ensure_loaded(&self, state: &mut RefreshState) -> Result<(), SessionError> {
        if !matches!(*self.read(), Slot::Unloaded) {
            return Ok(());
        }
        let slot = match self.store.load().await? {
            Some(tokens) => Slot::Active(self.current(state, tokens)),
            None => Slot::SignedOut,
        };
        self.set(slot);
        Ok(())
    }

    /// The current pair, loading the store first when this session holds
    /// none: another session or process may have signed in since.
    async fn active(&self, state: &mut RefreshState) -> Result<Option<Current>, SessionError> {
        self.ensure_loaded(state).await?;
        if let Slot::Active(current) = &*self.read() {
            return Ok(Some(current.clone()));
        }
        Ok(match self.store.load().await? {
            Some(tokens) => {
                let current = self.current(state, tokens);
                self.set(Slot::Active(current.clone()));
                Some(current)
            }
            None => None,
        })
    }

    /// Saves `tokens` (the caller holds the store lock) and makes them current.
    async fn install(
        &self,
        state: &mut RefreshState,
        tokens: StoredTokens,
    ) -> Result<Current, SessionError> {
        let current = self.current(state, tokens);
        let saved = self.store.save(&current.tokens).await;
        // Even when saving failed, keep the new pair in memory: after a
        // rotation the old refresh token no longer works.
        state.store_behind = saved.is_err();
        self.set(Slot::Active(current.clone()));
        saved?;
        Ok(current)
    }

    /// Re-reads the store (under its lock) before a refresh: `Ok(None)` when
    /// it was cleared elsewhere, the pair found otherwise (adopted when it
    /// differs from `current`, with the second field true).
    async fn reread(
        &self,
        state: &mut RefreshState,
        current: Current,
    ) -> Result<Option<(Current, bool)>, SessionError> {
        if state.store_behind {
            // Memory is newer than the store: its pair is the live one.
            return Ok(Some((current, false)));
        }
        match self.store.load().await? {
            Some(stored) if stored.same_as(&current.tokens) => Ok(Some((current, false))),
            Some(stored) => {
                tracing::debug!("the store holds a pair rotated elsewhere; using it");
                state.reset_failures();
                let adopted = self.current(state, stored);
                self.set(Slot::Active(adopted.clone()));
                Ok(Some((adopted, true)))
            }
            None => {
                tracing::info!("the token store was cleared elsewhere; signed out");
                state.reset_failures();
                self.set(Slot::SignedOut);
                Ok(None)
            }
        }
    }

    /// Ends the session of `presented` (under the store lock): clears the
    /// store only if it still holds that pair. When it holds another one
    /// (saved by someone who does not lock), that pair is adopted instead.
    async fn end(
        &self,
        state: &mut RefreshState,
        presented: &StoredTokens,
    ) -> Result<Option<Current>, StoreError> {
        state.reset_failures();
        state.store_behind = false;
        if self.store.clear_if(presented).await? {
            self.set(Slot::SignedOut);
            return Ok(None);
        }
        match self.store.load().await? {
            Some(stored) => {
                tracing::info!("the store holds another pair; keeping it instead of ending");
                let current = self.current(state, stored);
                self.set(Slot::Active(current.clone()));
                Ok(Some(current))
            }
            None => {
                self.set(Slot::SignedOut);
                Ok(None)
            }
        }
    }

    /// A current token, refreshing if needed. With `rejected`, the token of
    /// that generation was refused by the server: refresh unless a newer one exists.
    async fn token(self: &Arc<Self>, rejected: Option<u64>) -> Result<Current, SessionError> {
        if rejected.is_none() {
            if let Slot::Active(current) = &*self.read() {
                if self.fresh(current) {
                    return Ok(current.clone());
                }
            }
        }
        // The slow path runs in its own task: a caller that gives up (drops
        // its future) must not cancel a refresh whose request may already
        // have rotated the refresh token on the server.
        let this = Arc::clone(self);
        match tokio::spawn(async move { this.token_slow(rejected).await }).await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(SessionError::Store(StoreError::Other(
                "the refresh task was cancelled (runtime shutting down)".into(),
            ))),
        }
    }

    async fn token_slow(&self, rejected: Option<u64>) -> Result<Current, SessionError> {
        let mut state = self.refresh.lock().await;
        let Some(current) = self.active(&mut state).await? else {
            return Err(SessionError::NotSignedIn);
        };
        match rejected {
            Some(generation) if current.generation != generation => return Ok(current),
            None if self.fresh(&current) => return Ok(current),
            _ => {}
        }
        // A refresh is due. Exclude every other session and process sharing
        // the store, then re-read it: one of them may have rotated the pair.
        let _lock = self.store.lock().await?;
        let current = match self.reread(&mut state, current).await? {
            None => return Err(SessionError::NotSignedIn),
            Some((adopted, true)) if rejected.is_some() || self.fresh(&adopted) => {
                return Ok(adopted)
            }
            Some((current, _)) => current,
        };
        let usable = rejected.is_none() && self.unexpired(&current);
        if let Some((generation, error)) = &state.refused {
            if *generation == current.generation {
                return if usable {
                    Ok(current)
                } else {
                    Err(SessionError::RefreshRejected(Arc::clone(error)))
                };
            }
        }
        if let Some(retry_at) = state.retry_at {
            if let Ok(retry_in) = retry_at.duration_since(self.clock.now()) {
                if !retry_in.is_zero() {
                    if usable {
                        return Ok(current);
                    }
                    return Err(SessionError::RefreshBackoff { retry_in });
                }
            }
        }
        let Some(refresh_token) = current.tokens.refresh_token.clone() else {
            if usable {
                return Ok(current);
            }
            tracing::info!("auth token expired and there is no refresh token; session ended");
            return match self.end(&mut state, &current.tokens).await? {
                Some(kept) => Ok(kept),
                None => Err(SessionError::SessionExpired),
            };
        };
        tracing::debug!(forced = rejected.is_some(), "refreshing the auth token");
        match self.refresh_request(&refresh_token).await {
            Ok(auth) => {
                let mut tokens = StoredTokens::from_auth_result(&auth);
                if tokens.refresh_token.is_none() {
                    // The server did not rotate the refresh token: keep it.
                    tokens.refresh_token = Some(refresh_token);
                }
                state.reset_failures();
                let current = self.install(&mut state, tokens).await?;
                tracing::debug!("auth token refreshed");
                Ok(current)
            }
            Err(error) => match classify_refresh(&error) {
                RefreshFailure::Expired => {
                    tracing::info!(error = %error, "refresh token rejected; session ended");
                    match self.end(&mut state, &current.tokens).await? {
                        Some(kept) => Ok(kept),
                        None => Err(SessionError::SessionExpired),
                    }
                }
                RefreshFailure::Transient => {
                    state.failures = state.failures.saturating_add(1);
                    let mut cooldown = self.cooldown.delay(state.failures - 1);
                    if let Some(after) = crate::poll::retry_after(&error) {
                        cooldown = cooldown.max(after.min(self.cooldown.max()));
                    }
                    state.retry_at = Some(time_after(self.clock.now(), cooldown));
                    tracing::warn!(
                        error = %error,
                        failures = state.failures,
                        ?cooldown,
                        "refreshing the auth token failed; keeping the old tokens"
                    );
                    if usable {
                        Ok(current)
                    } else {
                        Err(SessionError::RefreshFailed(error))
                    }
                }
                RefreshFailure::Permanent => {
                    tracing::warn!(
                        error = %error,
                        "the refresh was refused; keeping the tokens, not presenting them again"
                    );
                    let error = Arc::new(error);
                    state.refused = Some((current.generation, Arc::clone(&error)));
                    if usable {
                        Ok(current)
                    } else {
                        Err(SessionError::RefreshRejected(error))
                    }
                }
            },
        }
    }

    /// `POST /tokens` with `refresh_token`, retrying transient failures
    /// under the refresh policy (the client's own policy never repeats a
    /// rotation: `x-idempotent: false`), and, after an attempt whose outcome
    /// is unknown, for as long as the server's reuse grace window can still
    /// accept the same token ([`SessionBuilder::server_reuse_grace`]).
    async fn refresh_request(&self, refresh_token: &SecretValue) -> Result<AuthResult, Error> {
        let client = self.client.with_retry_policy(RetryPolicy::none());
        let started = tokio::time::Instant::now();
        // When the first attempt that the server may have processed was sent.
        let mut uncertain_since: Option<tokio::time::Instant> = None;
        let mut attempt = 1u32;
        loop {
            let sent_at = tokio::time::Instant::now();
            let result = client
                .refresh_auth_token()
                .app_id(self.app_id.as_str())
                .body(
                    RefreshAuthTokenRequest::builder()
                        .refresh_token(SecretValue::new(refresh_token.expose_secret())),
                )
                .send()
                .await;
            let error = match result {
                Ok(response) => return Ok(response.into_inner().auth_result),
                Err(e) => e,
            };
            if classify_refresh(&error) != RefreshFailure::Transient {
                return Err(error);
            }
            if may_have_rotated(&error) {
                uncertain_since.get_or_insert(sent_at);
            }
            let retry_after = crate::poll::retry_after(&error);
            let wait = self
                .retry
                .wait_before_retry(attempt, retry_after, started.elapsed())
                .or_else(|| self.wait_within_grace(uncertain_since, attempt, retry_after));
            let Some(wait) = wait else {
                return Err(error);
            };
            tracing::debug!(
                attempt,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                error = %error,
                "the refresh failed transiently; presenting the same refresh token again"
            );
            tokio::time::sleep(wait).await;
            attempt = attempt.saturating_add(1);
        }
    }

    /// The wait before presenting the token again when the retry policy is
    /// spent but an earlier attempt, sent at `uncertain_since`, may have
    /// rotated the pair: the backoff's delay (or the server's `Retry-After`),
    /// if the next attempt then still goes out inside the server's reuse
    /// grace window.
    fn wait_within_grace(
        &self,
        uncertain_since: Option<tokio::time::Instant>,
        attempt: u32,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        let window_ends = instant_after(uncertain_since?, self.reuse_grace);
        let wait = retry_after.unwrap_or_else(|| {
            self.retry
                .backoff_value()
                .jittered_delay(attempt.saturating_sub(1))
        });
        (instant_after(tokio::time::Instant::now(), wait) < window_ends).then_some(wait)
    }
}

/// True when the answer to a failed refresh attempt was lost, so the server
/// may have rotated the pair without the client learning it: a timeout, a
/// connection lost after the request was sent, an answer that arrived but
/// cannot be used, or a 502 or 504 (a gateway that gave up while the server
/// may have acted). A connection that was never made, and any answer of the
/// server itself (a 500, 503 or 429: it says what it did not do), are not;
/// those follow the refresh retry policy alone.
fn may_have_rotated(error: &Error) -> bool {
    match error {
        Error::Transport { connect, .. } => !connect,
        Error::Decode { .. } => true,
        _ => error.status().is_some_and(|s| {
            matches!(s.as_u16(), 502 | 504) || !(s.is_client_error() || s.is_server_error())
        }),
    }
}

fn secret(current: &Current) -> SecretValue {
    current.tokens.auth_token.clone()
}

impl<S: TokenStore> Session<S> {
    /// Starts the session with the tokens of a login (or magic-link wait),
    /// saving them in the store.
    pub async fn sign_in(&self, auth: &AuthResult) -> Result<(), SessionError> {
        self.set_tokens(StoredTokens::from_auth_result(auth)).await
    }

    /// Replaces the session's tokens, saving them in the store.
    pub async fn set_tokens(&self, tokens: StoredTokens) -> Result<(), SessionError> {
        let mut state = self.inner.refresh.lock().await;
        let _lock = self.inner.store.lock().await?;
        state.reset_failures();
        self.inner.install(&mut state, tokens).await?;
        Ok(())
    }

    /// A valid auth token, refreshed first if it expires within the skew.
    ///
    /// When a refresh fails transiently but the old token has not expired
    /// yet, the old token is returned.
    pub async fn auth_token(&self) -> Result<SecretValue, SessionError> {
        self.inner.token(None).await.map(|c| secret(&c))
    }

    /// A clone of the session's client that sends a valid auth token as the bearer token.
    pub async fn client(&self) -> Result<Client, SessionError> {
        let current = self.inner.token(None).await?;
        Ok(self.bearer_client(&current))
    }

    fn bearer_client(&self, current: &Current) -> Client {
        self.inner
            .client
            .with_auth_token(SecretValue::new(current.tokens.auth_token.expose_secret()))
    }

    /// Runs `call` with a client carrying the bearer token. When it fails with
    /// 401 `invalid_access_token`, the token is refreshed and `call` runs once more.
    ///
    pub async fn call<T, E, F, Fut>(&self, call: F) -> Result<T, SessionError>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: Into<Error>,
    {
        let current = self.inner.token(None).await?;
        let error = match call(self.bearer_client(&current)).await {
            Ok(value) => return Ok(value),
            Err(e) => e.into(),
        };
        if !(error.status() == Some(StatusCode::UNAUTHORIZED)
            && error.code() == Some(&ApiErrorCode::InvalidAccessToken))
        {
            return Err(SessionError::Api(error));
        }
        tracing::debug!("auth token rejected by the server; refreshing once and retrying");
        let current = self.inner.token(Some(current.generation)).await?;
        call(self.bearer_client(&current))
            .await
            .map_err(|e| SessionError::Api(e.into()))
    }

    /// Revokes the refresh token (`DELETE /tokens`) and clears the store.
    ///
    /// The store is re-read first (under its lock), so the pair revoked is
    /// the latest one, even if another process rotated it. The local tokens
    /// are cleared even when the server cannot be reached; the error of the
    /// revocation is returned then.
    pub async fn revoke(&self) -> Result<(), SessionError> {
        let mut state = self.inner.refresh.lock().await;
        self.inner.ensure_loaded(&mut state).await?;
        let _lock = self.inner.store.lock().await?;
        let current = match &*self.inner.read() {
            Slot::Active(current) => Some(current.clone()),
            _ => None,
        };
        let current = match current {
            Some(current) => self
                .inner
                .reread(&mut state, current)
                .await?
                .map(|(current, _)| current),
            None => None,
        };
        let Some(current) = current else {
            self.inner.set(Slot::SignedOut);
            return Ok(());
        };
        let refresh_token = current.tokens.refresh_token.clone();
        let revoked = match refresh_token {
            Some(token) => self
                .inner
                .client
                .revoke_refresh_token()
                .app_id(self.inner.app_id.as_str())
                .refresh_token(SecretValue::new(token.expose_secret()))
                .send()
                .await
                .map(|_| ()),
            None => Ok(()),
        };
        // Revoked (or the server unreachable): this session ends. The store
        // is cleared only if it still holds the pair revoked.
        state.reset_failures();
        state.store_behind = false;
        self.inner.set(Slot::SignedOut);
        self.inner.store.clear_if(&current.tokens).await?;
        tracing::debug!(revoked = revoked.is_ok(), "session ended");
        revoked.map_err(SessionError::Api)
    }

    /// True when the session holds tokens (it may still need a refresh); a
    /// session without tokens first looks for a pair saved in its store
    /// since (a sign-in made by another session or process).
    pub async fn is_signed_in(&self) -> Result<bool, SessionError> {
        let mut state = self.inner.refresh.lock().await;
        Ok(self.inner.active(&mut state).await?.is_some())
    }

    /// The session's token store.
    pub fn store(&self) -> &S {
        &self.inner.store
    }

    /// The app id of the session.
    pub fn app_id(&self) -> &str {
        &self.inner.app_id
    }
}
