//! [`TokenStore`]: where a [`Session`](crate::Session) keeps the user's token
//! pair, and [`MemoryStore`], the in-memory default.

use std::fmt;
use std::future::Future;
use std::sync::Mutex;

use crate::SecretValue;

/// The token pair of a signed-in user.
#[derive(Clone)]
pub struct StoredTokens {
    /// The auth token (a short-lived JWT) sent as the bearer token.
    pub auth_token: SecretValue,
    /// The refresh token that buys the next pair, when the app issues one.
    pub refresh_token: Option<SecretValue>,
}

impl StoredTokens {
    /// A pair from its two tokens.
    pub fn new(auth_token: impl Into<String>, refresh_token: Option<String>) -> Self {
        Self {
            auth_token: SecretValue::new(auth_token.into()),
            refresh_token: refresh_token.map(SecretValue::new),
        }
    }

    /// The pair of an [`AuthResult`](crate::types::AuthResult) (login, refresh, magic-link wait).
    pub fn from_auth_result(result: &crate::types::AuthResult) -> Self {
        Self::new(
            result.auth_token.expose_secret(),
            result
                .refresh_token
                .as_ref()
                .map(|t| t.expose_secret().to_string()),
        )
    }

    /// True when both pairs hold the same tokens.
    pub fn same_as(&self, other: &StoredTokens) -> bool {
        self.auth_token.expose_secret() == other.auth_token.expose_secret()
            && self.refresh_token.as_ref().map(SecretValue::expose_secret)
                == other.refresh_token.as_ref().map(SecretValue::expose_secret)
    }
}

impl fmt::Debug for StoredTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredTokens")
            .field("auth_token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// A failure of a [`TokenStore`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Reading or writing the backing file failed.
    #[error("token store I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The stored data could not be read back (it is never shown).
    #[error("the token store holds data that is not a token pair")]
    Corrupt,
    /// Any other failure of a custom store.
    #[error("token store error: {0}")]
    Other(String),
}

/// Exclusive use of a [`TokenStore`], held by a [`Session`](crate::Session)
/// while it re-reads the pair, refreshes it and saves the result; released
/// when dropped.
#[must_use = "the lock is released when this is dropped"]
pub struct StoreLock {
    _held: Option<Box<dyn Send + Sync>>,
}

impl StoreLock {
    /// A lock that excludes no one (for stores used by one session only).
    pub fn none() -> Self {
        Self { _held: None }
    }

    /// A lock held as long as `guard` lives (a file lock, a mutex guard...).
    pub fn holding(guard: impl Send + Sync + 'static) -> Self {
        Self {
            _held: Some(Box::new(guard)),
        }
    }
}

impl fmt::Debug for StoreLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreLock")
            .field("excludes_others", &self._held.is_some())
            .finish()
    }
}

/// Persistent storage of one token pair, possibly shared by several
/// sessions or processes.
///
/// Implementations must be safe to call concurrently. A
/// [`Session`](crate::Session) calls [`lock`](TokenStore::lock) before it
/// re-reads, refreshes, saves or clears the pair, and keeps the lock until it
/// is done; a store shared by several sessions (or processes) must make that
/// lock exclusive among them, so that one refresh token is never presented
/// twice. Inside the lock, the other methods must not take it again.
pub trait TokenStore: Send + Sync + 'static {
    /// The stored pair, if any.
    fn load(&self) -> impl Future<Output = Result<Option<StoredTokens>, StoreError>> + Send;
    /// Replaces the stored pair; must be durable when it returns.
    fn save(&self, tokens: &StoredTokens) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Removes the stored pair.
    fn clear(&self) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Exclusive use of the store among everyone sharing it (default: a
    /// lock that excludes no one, for a store used by one session).
    fn lock(&self) -> impl Future<Output = Result<StoreLock, StoreError>> + Send {
        async { Ok(StoreLock::none()) }
    }

    /// Removes the stored pair only when it is still `expected` (or nothing
    /// is stored); returns whether the store is now empty. Called under
    /// [`lock`](TokenStore::lock), so the default (load, compare, clear) is
    /// atomic for everyone who locks.
    fn clear_if(
        &self,
        expected: &StoredTokens,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        async move {
            match self.load().await? {
                Some(stored) if !stored.same_as(expected) => Ok(false),
                Some(_) => self.clear().await.map(|()| true),
                None => Ok(true),
            }
        }
    }
}

/// A [`TokenStore`] in memory: the pair lives as long as the process.
/// Sessions sharing one (through an `Arc`) exclude each other while they refresh.
#[derive(Default)]
pub struct MemoryStore {
    tokens: Mutex<Option<StoredTokens>>,
    exclusive: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding `tokens`.
    pub fn with_tokens(tokens: StoredTokens) -> Self {
        Self {
            tokens: Mutex::new(Some(tokens)),
            exclusive: Default::default(),
        }
    }

    fn lock_tokens(&self) -> std::sync::MutexGuard<'_, Option<StoredTokens>> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("holds_tokens", &self.lock_tokens().is_some())
            .finish()
    }
}

impl TokenStore for MemoryStore {
    async fn load(&self) -> Result<Option<StoredTokens>, StoreError> {
        Ok(self.lock_tokens().clone())
    }

    async fn save(&self, tokens: &StoredTokens) -> Result<(), StoreError> {
        *self.lock_tokens() = Some(tokens.clone());
        Ok(())
    }

    async fn clear(&self) -> Result<(), StoreError> {
        *self.lock_tokens() = None;
        Ok(())
    }

    async fn lock(&self) -> Result<StoreLock, StoreError> {
        Ok(StoreLock::holding(
            self.exclusive.clone().lock_owned().await,
        ))
    }

    async fn clear_if(&self, expected: &StoredTokens) -> Result<bool, StoreError> {
        let mut tokens = self.lock_tokens();
        match &*tokens {
            Some(stored) if !stored.same_as(expected) => Ok(false),
            _ => {
                *tokens = None;
                Ok(true)
            }
        }
    }
}

impl<S: TokenStore> TokenStore for std::sync::Arc<S> {
    fn load(&self) -> impl Future<Output = Result<Option<StoredTokens>, StoreError>> + Send {
        S::load(self)
    }

    fn save(&self, tokens: &StoredTokens) -> impl Future<Output = Result<(), StoreError>> + Send {
        S::save(self, tokens)
    }

    fn clear(&self) -> impl Future<Output = Result<(), StoreError>> + Send {
        S::clear(self)
    }

    fn lock(&self) -> impl Future<Output = Result<StoreLock, StoreError>> + Send {
        S::lock(self)
    }

    fn clear_if(
        &self,
        expected: &StoredTokens,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        S::clear_if(self, expected)
    }
}
