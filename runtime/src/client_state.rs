//! [`ClientState`]: the per-client values the pipeline reads on every call
//! (the credentials to add and the retry policy). It is a generated client's
//! `inner` value; a client crate's builder fills it, and its extension traits
//! clone a client with another state ([`crate::GeneratedClient::with_state`]).

use std::fmt;
use std::sync::Arc;

use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION};

use crate::operation::Auth;
use crate::retry::RetryPolicy;
use crate::secret::SecretValue;

/// Per-client state read by the pipeline: the credentials to add and the
/// retry policy. Its `Debug` never shows a credential.
#[derive(Clone, Default)]
pub struct ClientState {
    bearer: Option<Credential>,
    api_key: Option<Credential>,
    retry: RetryPolicy,
}

/// A credential as the pipeline sends it.
#[derive(Clone)]
pub(crate) enum Credential {
    /// A valid header value, marked sensitive, with the secret itself (to
    /// scrub it from errors).
    Valid {
        header: Arc<HeaderValue>,
        secret: SecretValue,
    },
    /// The value cannot be sent as a header: calls that need it fail with
    /// [`crate::Error::InvalidRequest`] instead of going out without it.
    Invalid,
}

impl Credential {
    fn new(header: String, secret: SecretValue) -> Self {
        match HeaderValue::from_str(&header) {
            Ok(mut value) => {
                value.set_sensitive(true);
                Credential::Valid {
                    header: Arc::new(value),
                    secret,
                }
            }
            Err(_) => Credential::Invalid,
        }
    }
}

impl fmt::Debug for ClientState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |v: &Option<Credential>| match v {
            Some(Credential::Valid { .. }) => "[redacted]",
            Some(Credential::Invalid) => "invalid",
            None => "none",
        };
        f.debug_struct("ClientState")
            .field("bearer", &shown(&self.bearer))
            .field("api_key", &shown(&self.api_key))
            .field("retry", &self.retry)
            .finish()
    }
}

impl ClientState {
    /// State with this bearer token (sent as `Authorization: Bearer` to the
    /// operations that declare HTTP bearer auth), or none.
    pub fn with_bearer(mut self, token: Option<SecretValue>) -> Self {
        self.bearer = token.map(|t| Credential::new(format!("Bearer {}", t.expose_secret()), t));
        self
    }

    /// State with this API key (sent in the header named by the operations
    /// that declare API-key auth), or none.
    pub fn with_api_key(mut self, key: Option<SecretValue>) -> Self {
        self.api_key = key.map(|k| Credential::new(k.expose_secret().to_string(), k));
        self
    }

    /// State with this retry policy.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// True when a bearer token is set (valid or not).
    pub fn has_bearer(&self) -> bool {
        self.bearer.is_some()
    }

    /// True when an API key is set (valid or not).
    pub fn has_api_key(&self) -> bool {
        self.api_key.is_some()
    }

    /// True when a credential is set that cannot be sent as a header value.
    pub(crate) fn has_invalid_credential(&self) -> bool {
        [&self.bearer, &self.api_key]
            .iter()
            .any(|c| matches!(c, Some(Credential::Invalid)))
    }

    /// The credential an operation with `auth` needs, with the header it goes in.
    pub(crate) fn credential(&self, auth: Auth) -> Option<(&Credential, HeaderName)> {
        match auth {
            Auth::Bearer => self.bearer.as_ref().map(|c| (c, AUTHORIZATION)),
            Auth::ApiKey { header } => self
                .api_key
                .as_ref()
                .and_then(|c| Some((c, HeaderName::from_bytes(header.as_bytes()).ok()?))),
            Auth::None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_which_credentials_are_set_and_never_their_values() {
        let state = ClientState::default()
            .with_bearer(Some(SecretValue::new("bearer-secret-value")))
            .with_api_key(Some(SecretValue::new("bad\nkey")));
        let shown = format!("{state:?}");
        assert!(shown.contains("bearer: \"[redacted]\""), "{shown}");
        assert!(shown.contains("api_key: \"invalid\""), "{shown}");
        assert!(!shown.contains("bearer-secret-value"), "{shown}");
        assert!(state.has_invalid_credential());
        assert!(state.has_bearer() && state.has_api_key());
    }

    #[test]
    fn each_scheme_gets_its_own_credential_and_header() {
        let state = ClientState::default()
            .with_bearer(Some(SecretValue::new("t0ken")))
            .with_api_key(Some(SecretValue::new("k3y")));
        let (bearer, name) = state.credential(Auth::Bearer).expect("bearer");
        assert_eq!(name, AUTHORIZATION);
        assert!(
            matches!(bearer, Credential::Valid { header, .. } if header.as_bytes() == b"Bearer t0ken")
        );
        let (key, name) = state
            .credential(Auth::ApiKey {
                header: "x-api-key",
            })
            .expect("api key");
        assert_eq!(name.as_str(), "x-api-key");
        assert!(matches!(key, Credential::Valid { header, .. } if header.as_bytes() == b"k3y"));
        assert!(state.credential(Auth::None).is_none());
    }
}
