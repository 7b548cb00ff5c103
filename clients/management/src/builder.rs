//! [`ClientBuilder`]: the only way to a [`Client`]. The app's API key is sent
//! as the bearer token the spec's operations declare; the runtime builds the
//! HTTP client with the invariants every client keeps (no redirect followed,
//! the builder's timeouts and user agent).

use std::time::Duration;

use passage_runtime::{ClientConfig, RetryPolicy, SecretValue};

use crate::{Client, Error, DEFAULT_BASE_URL};

/// Configures and builds a [`Client`].
///
/// ```
/// let client = passage_management_client::ClientBuilder::new()
///     .base_url("http://127.0.0.1:8787/management/v1")
///     .api_key("the app's API key")
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
    /// default [`RetryPolicy`], no API key.
    pub fn new() -> Self {
        Self {
            config: ClientConfig::new(
                DEFAULT_BASE_URL,
                concat!("passage-management-client/", env!("CARGO_PKG_VERSION")),
            ),
        }
    }

    /// The API base URL, including the `/v1` stem (e.g. the emulator's
    /// `management_base_url`).
    pub fn base_url(self, url: impl Into<String>) -> Self {
        self.map(|c| c.base_url(url))
    }

    /// Connect timeout.
    pub fn connect_timeout(self, timeout: Duration) -> Self {
        self.map(|c| c.connect_timeout(timeout))
    }

    /// Whole-request timeout (per attempt).
    pub fn timeout(self, timeout: Duration) -> Self {
        self.map(|c| c.timeout(timeout))
    }

    /// The `User-Agent` header.
    pub fn user_agent(self, user_agent: impl Into<String>) -> Self {
        self.map(|c| c.user_agent(user_agent))
    }

    /// The app's API key, sent as `Authorization: Bearer` to the operations
    /// that declare it (every one but `get_app`, which takes it optionally).
    /// It never appears in a `Debug`, an error or a log.
    pub fn api_key(self, key: impl Into<SecretValue>) -> Self {
        self.map(|c| c.bearer(key.into()))
    }

    /// How failed calls are retried (see [`RetryPolicy`]): the operations the
    /// spec calls idempotent retry on connection errors, timeouts, 429 and
    /// 5xx; the others only when the request never reached the server.
    pub fn retry_policy(self, policy: RetryPolicy) -> Self {
        self.map(|c| c.retry_policy(policy))
    }

    /// Extra `reqwest` settings (a proxy, TLS roots, pool sizes, ...), applied
    /// before the client's own invariants, which they cannot undo.
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
