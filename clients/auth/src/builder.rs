//! [`ClientBuilder`]: the only way to a [`Client`]. It sets the base URL,
//! timeouts suited to a login path, a user agent, credentials and the retry
//! policy; the runtime builds the HTTP client with the invariants every client
//! keeps (no redirect followed, the builder's timeouts and user agent).

use std::time::Duration;

use passage_runtime::{ClientConfig, RetryPolicy, SecretValue};

use crate::{Client, Error, DEFAULT_BASE_URL};

/// Configures and builds a [`Client`].
///
/// ```
/// use std::time::Duration;
/// let client = passage_auth_client::ClientBuilder::new()
///     .base_url("http://127.0.0.1:8787/v1")
///     .timeout(Duration::from_secs(5))
///     .build()
///     .unwrap();
/// # let _ = client;
/// ```
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    config: ClientConfig,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ClientBuilder {
    /// A builder with the defaults: [`DEFAULT_BASE_URL`],
    /// [`crate::DEFAULT_CONNECT_TIMEOUT`], [`crate::DEFAULT_TIMEOUT`], the
    /// default [`RetryPolicy`], no credentials.
    pub fn new() -> Self {
        Self {
            config: ClientConfig::new(
                DEFAULT_BASE_URL,
                concat!("passage-auth-rs/", env!("CARGO_PKG_VERSION")),
            ),
        }
    }

    /// The API base URL, including the `/v1` stem (e.g. the emulator's `base_url`).
    pub fn base_url(self, url: impl Into<String>) -> Self {
        self.map(|c| c.base_url(url))
    }

    /// Connect timeout.
    pub fn connect_timeout(self, timeout: Duration) -> Self {
        self.map(|c| c.connect_timeout(timeout))
    }

    /// Whole-request timeout.
    pub fn timeout(self, timeout: Duration) -> Self {
        self.map(|c| c.timeout(timeout))
    }

    /// The `User-Agent` header (the hosted API's CDN refused requests without one).
    pub fn user_agent(self, user_agent: impl Into<String>) -> Self {
        self.map(|c| c.user_agent(user_agent))
    }

    /// The end user's auth token, sent only to operations that declare bearer auth.
    pub fn auth_token(self, token: impl Into<SecretValue>) -> Self {
        self.map(|c| c.bearer(token.into()))
    }

    /// The app's API key, sent only to operations that declare `X-API-KEY` auth.
    pub fn api_key(self, key: impl Into<SecretValue>) -> Self {
        self.map(|c| c.api_key(key.into()))
    }

    /// How failed calls are retried (see [`RetryPolicy`]; default: 3 attempts in 10 s).
    pub fn retry_policy(self, policy: RetryPolicy) -> Self {
        self.map(|c| c.retry_policy(policy))
    }

    /// Extra `reqwest` settings (a proxy, TLS roots, pool sizes, ...). They
    /// are applied first; the client's own invariants are applied after them
    /// and cannot be undone here: redirects are never followed (the API's
    /// redirects carry OAuth codes and are answered as
    /// [`crate::Redirect`]), and the timeouts and user agent are this
    /// builder's.
    ///
    /// ```
    /// let client = passage_auth_client::ClientBuilder::new()
    ///     .base_url("http://127.0.0.1:8787/v1")
    ///     .configure_http(|http| http.pool_max_idle_per_host(4))
    ///     .build()
    ///     .unwrap();
    /// # let _ = client;
    /// ```
    pub fn configure_http(
        self,
        configure: impl Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send + Sync + 'static,
    ) -> Self {
        self.map(|c| c.configure_http(configure))
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, Error> {
        self.config.build()
    }

    fn map(self, change: impl FnOnce(ClientConfig) -> ClientConfig) -> Self {
        Self {
            config: change(self.config),
        }
    }
}
