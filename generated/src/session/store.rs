//! [`TokenStore`]: where a [`Session`](crate::Session) keeps the user's token
//! pair, and [`MemoryStore`], the in-memory default.

use std::fmt;
use std::future::Future;
use std::sync::Mutex;

use secrecy::{ExposeSecret, SecretString};

/// The token pair of a signed-in user.
#[derive(Clone)]
pub struct StoredTokens {
    /// The auth token (a short-lived JWT) sent as the bearer token.
    pub auth_token: SecretString,
    /// The refresh token that buys the next pair, when the app issues one.
    pub refresh_token: Option<SecretString>,
}

impl StoredTokens {
    /// A pair from its two tokens.
    pub fn new(auth_token: impl Into<String>, refresh_token: Option<String>) -> Self {
        Self {
            auth_token: SecretString::from(auth_token.into()),
            refresh_token: refresh_token.map(SecretString::from),
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
            && self.refresh_token.as_ref().map(ExposeSecret::expose_secret)
                == other
                    .refresh_token
                    .as_ref()
                    .map(ExposeSecret::expose_secret)
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

/// Persistent storage of one token pair.
///
/// Implementations must be safe to call concurrently; a [`Session`](crate::Session)
/// never runs two writes at once.
pub trait TokenStore: Send + Sync + 'static {
    /// The stored pair, if any.
    fn load(&self) -> impl Future<Output = Result<Option<StoredTokens>, StoreError>> + Send;
    /// Replaces the stored pair; must be durable when it returns.
    fn save(&self, tokens: &StoredTokens) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Removes the stored pair.
    fn clear(&self) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// A [`TokenStore`] in memory: the pair lives as long as the process.
#[derive(Default)]
pub struct MemoryStore {
    tokens: Mutex<Option<StoredTokens>>,
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
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<StoredTokens>> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("holds_tokens", &self.lock().is_some())
            .finish()
    }
}

impl TokenStore for MemoryStore {
    async fn load(&self) -> Result<Option<StoredTokens>, StoreError> {
        Ok(self.lock().clone())
    }

    async fn save(&self, tokens: &StoredTokens) -> Result<(), StoreError> {
        *self.lock() = Some(tokens.clone());
        Ok(())
    }

    async fn clear(&self) -> Result<(), StoreError> {
        *self.lock() = None;
        Ok(())
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
}
