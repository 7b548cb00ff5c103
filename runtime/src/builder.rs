//! Building a generated client: [`ClientConfig`] holds what a client crate's
//! builder sets (base URL, timeouts, user agent, credentials, retry policy,
//! extra `reqwest` settings) and builds the `reqwest::Client` with the
//! invariants every client keeps: redirects are never followed, and the
//! timeouts and user agent are the builder's. Its result, [`ClientParts`], can
//! only be made here, so [`GeneratedClient::from_parts`] is no way around
//! those invariants.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::client_state::ClientState;
use crate::error::{ApiErrorBody, Error};
use crate::hooks::ClientInfo;
use crate::retry::RetryPolicy;
use crate::secret::SecretValue;

/// How long to wait for a TCP/TLS connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one whole request (one attempt) may take, body included. With
/// the longest default backoff it fits twice in the default retry budget, so
/// a timed-out idempotent call is retried once (see [`RetryPolicy`]).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// What a generated crate's `Client` offers the client crates: how it is
/// made from [`ClientParts`], and what its API's error body and default base
/// URL are. Implemented by the generator for every generated `Client`.
pub trait GeneratedClient: ClientInfo<ClientState> + Sized {
    /// The API's error body (its code is the `C` of the crate's [`Error`]).
    type ErrorBody: ApiErrorBody;

    /// The first server URL of the spec.
    const DEFAULT_BASE_URL: &'static str;

    /// A client made of parts built by [`ClientConfig::build_parts`].
    fn from_parts(parts: ClientParts) -> Self;

    /// A clone sharing this client's connection pool, with changed state
    /// (credentials, retry policy).
    fn with_state(&self, change: impl FnOnce(ClientState) -> ClientState) -> Self {
        Self::from_parts(ClientParts {
            base_url: self.baseurl().to_string(),
            http: self.client().clone(),
            state: change(self.inner().clone()),
        })
    }
}

/// The error type of the generated client `C`.
pub type ErrorOf<C> = Error<<<C as GeneratedClient>::ErrorBody as ApiErrorBody>::Code>;

/// The parts of a generated client: its base URL, an HTTP client built with
/// the invariants above, and its state. Only [`ClientConfig`] makes them.
pub struct ClientParts {
    base_url: String,
    http: reqwest::Client,
    state: ClientState,
}

impl ClientParts {
    /// The base URL, the HTTP client and the state.
    pub fn into_inner(self) -> (String, reqwest::Client, ClientState) {
        (self.base_url, self.http, self.state)
    }
}

impl fmt::Debug for ClientParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientParts")
            .field("base_url", &crate::redact::redact_url(&self.base_url))
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// A user's extra settings for the `reqwest` client.
type HttpConfigurer = Arc<dyn Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send + Sync>;

/// The settings a client crate's builder collects; see the module documentation.
#[derive(Clone)]
pub struct ClientConfig {
    base_url: String,
    connect_timeout: Duration,
    timeout: Duration,
    user_agent: String,
    state: ClientState,
    configure_http: Option<HttpConfigurer>,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &crate::redact::redact_url(&self.base_url))
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("user_agent", &self.user_agent)
            .field("state", &self.state)
            .field("configure_http", &self.configure_http.is_some())
            .finish()
    }
}

impl ClientConfig {
    /// Settings with `base_url`, `user_agent`, [`DEFAULT_CONNECT_TIMEOUT`],
    /// [`DEFAULT_TIMEOUT`], the default [`RetryPolicy`] and no credentials.
    pub fn new(base_url: impl Into<String>, user_agent: impl Into<String>) -> Self {
        Self {
            base_url: String::new(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            user_agent: user_agent.into(),
            state: ClientState::default(),
            configure_http: None,
        }
        .base_url(base_url)
    }

    /// The API base URL, including its version stem (a trailing `/` is dropped).
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

    /// The whole-request timeout set.
    pub fn timeout_value(&self) -> Duration {
        self.timeout
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// A bearer token, sent only to operations that declare HTTP bearer auth.
    pub fn bearer(mut self, token: SecretValue) -> Self {
        self.state = self.state.with_bearer(Some(token));
        self
    }

    /// An API key, sent only to operations that declare API-key auth, in the
    /// header they name.
    pub fn api_key(mut self, key: SecretValue) -> Self {
        self.state = self.state.with_api_key(Some(key));
        self
    }

    /// How failed calls are retried.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.state = self.state.with_retry_policy(policy);
        self
    }

    /// Extra `reqwest` settings (a proxy, TLS roots, pool sizes, ...), applied
    /// before the invariants, which they cannot undo.
    pub fn configure_http(
        mut self,
        configure: impl Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send + Sync + 'static,
    ) -> Self {
        self.configure_http = Some(Arc::new(configure));
        self
    }

    /// The parts of a client: the base URL checked, the HTTP client built.
    pub fn build_parts<C>(self) -> Result<ClientParts, Error<C>> {
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
        Ok(ClientParts {
            base_url: self.base_url,
            http,
            state: self.state,
        })
    }

    /// Builds the generated client `C`.
    pub fn build<C: GeneratedClient>(self) -> Result<C, ErrorOf<C>> {
        self.build_parts().map(C::from_parts)
    }
}
