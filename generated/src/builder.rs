//! Building a [`Client`]: base URL, timeouts suited to a login path, a user
//! agent, no redirect following, and optional credentials.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::hooks::ClientState;
use crate::secrets::SecretValue;
use crate::RetryPolicy;
use crate::{Client, Error};

/// The hosted API's base URL (retired in January 2026; use the emulator's URL).
pub const DEFAULT_BASE_URL: &str = "https://auth.passage.id/v1";
/// How long to wait for a TCP/TLS connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one whole request may take, body included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

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
#[derive(Clone)]
pub struct ClientBuilder {
    base_url: String,
    connect_timeout: Duration,
    timeout: Duration,
    user_agent: String,
    state: ClientState,
    configure_http: Option<HttpConfigurer>,
}

/// A user's extra settings for the `reqwest` client.
type HttpConfigurer = Arc<dyn Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send + Sync>;

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &crate::redact::redact_url(&self.base_url))
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("user_agent", &self.user_agent)
            .field("state", &self.state)
            .field("configure_http", &self.configure_http.is_some())
            .finish()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ClientBuilder {
    /// A builder with the defaults: [`DEFAULT_BASE_URL`], [`DEFAULT_CONNECT_TIMEOUT`],
    /// [`DEFAULT_TIMEOUT`], no credentials.
    pub fn new() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_string(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            user_agent: format!("passage-auth-rs/{}", env!("CARGO_PKG_VERSION")),
            state: ClientState::default(),
            configure_http: None,
        }
    }

    /// The API base URL, including the `/v1` stem (e.g. the emulator's `base_url`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into().trim_end_matches('/').to_string();
        self
    }

    /// Connect timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Whole-request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The `User-Agent` header (the hosted API's CDN refused requests without one).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The end user's auth token, sent only to operations that declare bearer auth.
    pub fn auth_token(mut self, token: impl Into<SecretValue>) -> Self {
        self.state = self.state.with_bearer(Some(token.into()));
        self
    }

    /// The app's API key, sent only to operations that declare `X-API-KEY` auth.
    pub fn api_key(mut self, key: impl Into<SecretValue>) -> Self {
        self.state = self.state.with_api_key(Some(key.into()));
        self
    }

    /// How failed calls are retried (see [`RetryPolicy`]; default: 3 attempts in 10 s).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.state = self.state.with_retry_policy(policy);
        self
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
        mut self,
        configure: impl Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send + Sync + 'static,
    ) -> Self {
        self.configure_http = Some(Arc::new(configure));
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, Error> {
        url::Url::parse(&self.base_url)
            .map_err(|e| Error::invalid_request(format!("base URL is not a URL: {e}")))?;
        let mut http = reqwest::Client::builder();
        if let Some(configure) = &self.configure_http {
            http = configure(http);
        }
        let http = http
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .user_agent(self.user_agent)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::invalid_request(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client::new_with_client(&self.base_url, http, self.state))
    }
}
