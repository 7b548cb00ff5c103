//! [`CredentialsExt`]: a [`Client`] with another API key or retry policy,
//! sharing its connection pool.

use passage_runtime::{ClientState, GeneratedClient, RetryPolicy, SecretValue};

use crate::Client;

/// Clones of a [`Client`] with another API key or retry policy; they share
/// the original's connection pool.
///
/// ```
/// use passage_management_client::{ClientBuilder, CredentialsExt, RetryPolicy};
/// let client = ClientBuilder::new().base_url("http://127.0.0.1:8787/management/v1").build().unwrap();
/// let keyed = client.with_api_key("the app's API key");
/// assert!(keyed.state().has_bearer() && !client.state().has_bearer());
/// let once = keyed.with_retry_policy(RetryPolicy::none());
/// # let _ = once;
/// ```
pub trait CredentialsExt {
    /// A clone that sends `key` as the app's API key.
    fn with_api_key(&self, key: impl Into<SecretValue>) -> Self;

    /// A clone with another retry policy (a per-call override).
    fn with_retry_policy(&self, policy: RetryPolicy) -> Self;

    /// The credentials and policy this client uses.
    fn state(&self) -> &ClientState;
}

impl CredentialsExt for Client {
    fn with_api_key(&self, key: impl Into<SecretValue>) -> Self {
        self.with_state(|state| state.with_bearer(Some(key.into())))
    }

    fn with_retry_policy(&self, policy: RetryPolicy) -> Self {
        self.with_state(|state| state.with_retry_policy(policy))
    }

    fn state(&self) -> &ClientState {
        passage_runtime::ClientInfo::inner(self)
    }
}
