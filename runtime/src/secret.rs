//! [`SecretValue`]: the one type of every credential and one-time secret a
//! generated crate carries (auth and refresh tokens, API keys, passcodes,
//! magic-link secrets, OAuth codes, PKCE verifiers, nonces). The generators
//! map every `format: password` string of a spec to it.

use std::fmt;

/// A credential or one-time secret. Its `Debug` prints `SecretValue([redacted])`
/// and it has no `Display`: read the value with [`SecretValue::expose_secret`].
///
/// ```
/// use passage_runtime::SecretValue;
/// let token = SecretValue::new("psg_refresh_0123456789");
/// assert_eq!(format!("{token:?}"), "SecretValue([redacted])");
/// assert_eq!(token.expose_secret(), "psg_refresh_0123456789");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct SecretValue(String);

impl SecretValue {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value itself: do not log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Unwraps the secret value.
    pub fn into_secret(self) -> String {
        self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue([redacted])")
    }
}

impl From<String> for SecretValue {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for SecretValue {
    fn from(value: &str) -> Self {
        Self(value.to_string())
    }
}
