//! [`CredentialsExt`]: a [`Client`] with other credentials or another retry
//! policy, sharing its connection pool.

use passage_runtime::{ClientState, GeneratedClient, RetryPolicy, SecretValue};

use crate::Client;

/// Clones of a [`Client`] with changed credentials or retry policy. They
/// share the original's connection pool, so they are cheap to make per call.
///
/// ```
/// use passage_auth_client::{ClientBuilder, CredentialsExt, RetryPolicy};
/// let client = ClientBuilder::new().base_url("http://127.0.0.1:8787/v1").build().unwrap();
/// let as_user = client.with_auth_token("a.user.token");
/// assert!(as_user.state().has_bearer() && !client.state().has_bearer());
/// let once = client.with_retry_policy(RetryPolicy::none());
/// # let _ = once;
/// ```
pub trait CredentialsExt {
    /// A clone that sends `token` as the bearer token of the current-user
    /// operations (and only those). A token that is not a valid header value
    /// makes those calls fail with [`crate::Error::InvalidRequest`].
    fn with_auth_token(&self, token: impl Into<SecretValue>) -> Self;

    /// A clone that sends `key` as `X-API-KEY` where the spec asks for it.
    fn with_api_key(&self, key: impl Into<SecretValue>) -> Self;

    /// A clone with another retry policy (a per-call override:
    /// `client.with_retry_policy(RetryPolicy::none()).get_app()...`).
    fn with_retry_policy(&self, policy: RetryPolicy) -> Self;

    /// The credentials and policy this client uses.
    fn state(&self) -> &ClientState;
}

impl CredentialsExt for Client {
    fn with_auth_token(&self, token: impl Into<SecretValue>) -> Self {
        self.with_state(|state| state.with_bearer(Some(token.into())))
    }

    fn with_api_key(&self, key: impl Into<SecretValue>) -> Self {
        self.with_state(|state| state.with_api_key(Some(key.into())))
    }

    fn with_retry_policy(&self, policy: RetryPolicy) -> Self {
        self.with_state(|state| state.with_retry_policy(policy))
    }

    fn state(&self) -> &ClientState {
        passage_runtime::ClientInfo::inner(self)
    }
}
