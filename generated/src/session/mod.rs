//! Sessions: a [`Session`] owns a signed-in user's token pair and hands out a
//! valid auth token, refreshing it (once, however many callers ask) before it
//! expires.
//!
//! - **Proactive**: a token that expires within the refresh skew (30 s by
//!   default) is refreshed with `POST /tokens` before it is handed out. The
//!   expiry is read from the JWT's `exp` without verifying it.
//! - **Single-flight**: concurrent callers that find the token stale wait for
//!   one refresh request and all receive its result.
//! - **Rotation-safe**: the new pair is saved in the [`TokenStore`] before it
//!   is handed out. A refresh that fails by transport error, timeout or 5xx
//!   keeps the old pair; the next attempt waits for a backoff. A 401 from
//!   `POST /tokens` (`invalid_refresh_token`) ends the session: the store is
//!   cleared and callers get [`SessionError::SessionExpired`]. A refresh
//!   runs in its own task, so a caller that stops waiting does not cancel a
//!   request that may already have rotated the refresh token.
//! - **Lost-answer safe**: a refresh whose connection fails or closes without
//!   an answer is sent once more at once with the same refresh token. A
//!   server with a reuse grace window (as the emulator's
//!   `refresh_reuse_grace_seconds`) answers it with the pair it already
//!   issued, so a rotation whose answer was lost does not end the session.
//! - Calls through [`Session::call`] carry the bearer token; a 401
//!   `invalid_access_token` causes one refresh and one retry, never more.

mod clock;
mod expiry;
mod file_store;
mod store;

use std::fmt;
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};

pub(crate) use clock::unix_seconds;
pub use clock::{Clock, ManualClock, SystemClock};
pub(crate) use expiry::numeric_date;
pub use file_store::FileStore;
pub use store::{MemoryStore, StoreError, StoredTokens, TokenStore};

use crate::open_enums::ApiErrorCode;
use crate::types::{AuthResult, RefreshAuthTokenRequest};
use crate::{Client, Error, RetryPolicy, SecretValue};

/// Default of [`SessionBuilder::refresh_skew`].
pub const DEFAULT_REFRESH_SKEW: Duration = Duration::from_secs(30);
/// Default of [`SessionBuilder::refresh_timeout`].
pub const DEFAULT_REFRESH_TIMEOUT: Duration = Duration::from_secs(10);

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
    /// A refresh failed in a way a later attempt may not repeat (transport
    /// error, timeout, 5xx); the old tokens are kept.
    #[error("refreshing the auth token failed: {0}")]
    RefreshFailed(#[source] Error),
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
    refresh_timeout: Duration,
    backoff_initial: Duration,
    backoff_max: Duration,
}

impl<S: TokenStore> fmt::Debug for SessionBuilder<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionBuilder")
            .field("app_id", &self.app_id)
            .field("skew", &self.skew)
            .field("refresh_timeout", &self.refresh_timeout)
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
            refresh_timeout: self.refresh_timeout,
            backoff_initial: self.backoff_initial,
            backoff_max: self.backoff_max,
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

    /// Give up on one refresh request after this long (default [`DEFAULT_REFRESH_TIMEOUT`]).
    pub fn refresh_timeout(mut self, timeout: Duration) -> Self {
        self.refresh_timeout = timeout;
        self
    }

    /// After a failed refresh, wait `initial` before the next attempt, doubling
    /// up to `max` while failures repeat (default 1 s to 60 s).
    pub fn refresh_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff_initial = initial;
        self.backoff_max = max.max(initial);
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
                refresh_timeout: self.refresh_timeout,
                backoff_initial: self.backoff_initial,
                backoff_max: self.backoff_max,
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
    refresh_timeout: Duration,
    backoff_initial: Duration,
    backoff_max: Duration,
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
            refresh_timeout: DEFAULT_REFRESH_TIMEOUT,
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
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

    fn backoff(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(16));
        self.backoff_initial
            .saturating_mul(factor)
            .min(self.backoff_max)
    }

    async fn ensure_loaded(&self, state: &mut RefreshState) -> Result<(), SessionError> {
        if !matches!(*self.read(), Slot::Unloaded) {
            return Ok(());
        }
        let slot = match self.store.load().await? {
            Some(tokens) => {
                state.generation += 1;
                Slot::Active(Current {
                    expires_at: expiry::unverified_expiry(tokens.auth_token.expose_secret()),
                    tokens,
                    generation: state.generation,
                })
            }
            None => Slot::SignedOut,
        };
        self.set(slot);
        Ok(())
    }

    async fn install(
        &self,
        state: &mut RefreshState,
        tokens: StoredTokens,
    ) -> Result<Current, SessionError> {
        state.generation += 1;
        let current = Current {
            expires_at: expiry::unverified_expiry(tokens.auth_token.expose_secret()),
            tokens,
            generation: state.generation,
        };
        let saved = self.store.save(&current.tokens).await;
        // Even when saving failed, keep the new pair in memory: after a
        // rotation the old refresh token no longer works.
        self.set(Slot::Active(current.clone()));
        saved?;
        Ok(current)
    }

    async fn end(&self, state: &mut RefreshState) -> Result<(), StoreError> {
        state.failures = 0;
        state.retry_at = None;
        self.set(Slot::SignedOut);
        self.store.clear().await
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
        self.ensure_loaded(&mut state).await?;
        let current = match &*self.read() {
            Slot::Active(current) => current.clone(),
            _ => return Err(SessionError::NotSignedIn),
        };
        match rejected {
            Some(generation) if current.generation != generation => return Ok(current),
            None if self.fresh(&current) => return Ok(current),
            _ => {}
        }
        let usable = rejected.is_none() && self.unexpired(&current);
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
            self.end(&mut state).await?;
            return Err(SessionError::SessionExpired);
        };
        tracing::debug!(forced = rejected.is_some(), "refreshing the auth token");
        // The client's retry policy never repeats a rotation (`x-idempotent:
        // false`); the session decides: see `refresh_once_more`.
        let client = self.client.with_retry_policy(RetryPolicy::none());
        let send = || {
            client
                .refresh_auth_token()
                .app_id(self.app_id.as_str())
                .body(RefreshAuthTokenRequest {
                    refresh_token: SecretValue::new(refresh_token.expose_secret()),
                })
                .send()
        };
        let request = async {
            let first = send().await.map(|r| r.into_inner().auth_result);
            match first {
                Err(error) if refresh_once_more(&error) => {
                    tracing::debug!(
                        connect = matches!(error, Error::Transport { connect: true, .. }),
                        "the refresh got no answer; presenting the same refresh token once more"
                    );
                    send().await.map(|r| r.into_inner().auth_result)
                }
                other => other,
            }
        };
        let result = match tokio::time::timeout(self.refresh_timeout, request).await {
            Ok(result) => result,
            Err(_) => Err(Error::Transport {
                timeout: true,
                connect: false,
                message: format!("no answer to the refresh within {:?}", self.refresh_timeout),
                source: None,
            }),
        };
        match result {
            Ok(auth) => {
                let mut tokens = StoredTokens::from_auth_result(&auth);
                if tokens.refresh_token.is_none() {
                    // The server did not rotate the refresh token: keep it.
                    tokens.refresh_token = Some(refresh_token);
                }
                state.failures = 0;
                state.retry_at = None;
                let current = self.install(&mut state, tokens).await?;
                tracing::debug!("auth token refreshed");
                Ok(current)
            }
            Err(error) if error.status() == Some(StatusCode::UNAUTHORIZED) => {
                tracing::info!(error = %error, "refresh token rejected; session ended");
                self.end(&mut state).await?;
                Err(SessionError::SessionExpired)
            }
            Err(error) => {
                state.failures = state.failures.saturating_add(1);
                let backoff = self.backoff(state.failures);
                state.retry_at = Some(self.clock.now() + backoff);
                tracing::warn!(
                    error = %error,
                    failures = state.failures,
                    ?backoff,
                    "refreshing the auth token failed; keeping the old tokens"
                );
                if usable {
                    Ok(current)
                } else {
                    Err(SessionError::RefreshFailed(error))
                }
            }
        }
    }
}

/// Whether a refresh that failed with `error` is sent once more, at once, with
/// the same refresh token.
///
/// Only a transport failure that is not a timeout qualifies: the connection
/// could not be made, or it closed before an answer arrived. In the second
/// case the server may have rotated the token and lost the answer; within
/// the server's reuse grace window, presenting the rotated token again returns
/// the same new pair, so the session survives. Without a grace window the
/// server reports reuse (401) and the session ends, which it would have at
/// the next refresh anyway: the new pair was lost.
fn refresh_once_more(error: &Error) -> bool {
    matches!(error, Error::Transport { timeout: false, .. })
}

fn secret(current: &Current) -> SecretString {
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
        state.failures = 0;
        state.retry_at = None;
        self.inner.install(&mut state, tokens).await?;
        Ok(())
    }

    /// A valid auth token, refreshed first if it expires within the skew.
    ///
    /// When a refresh fails transiently but the old token has not expired
    /// yet, the old token is returned.
    pub async fn auth_token(&self) -> Result<SecretString, SessionError> {
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
    /// The local tokens are cleared even when the server cannot be reached;
    /// the error of the revocation is returned then.
    pub async fn revoke(&self) -> Result<(), SessionError> {
        let mut state = self.inner.refresh.lock().await;
        self.inner.ensure_loaded(&mut state).await?;
        let refresh_token = match &*self.inner.read() {
            Slot::Active(current) => current.tokens.refresh_token.clone(),
            _ => None,
        };
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
        self.inner.end(&mut state).await?;
        tracing::debug!(revoked = revoked.is_ok(), "session ended");
        revoked.map_err(SessionError::Api)
    }

    /// True when the session holds tokens (it may still need a refresh).
    pub async fn is_signed_in(&self) -> Result<bool, SessionError> {
        let mut state = self.inner.refresh.lock().await;
        self.inner.ensure_loaded(&mut state).await?;
        Ok(matches!(*self.inner.read(), Slot::Active(_)))
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
