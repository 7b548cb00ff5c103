//! The one `ClientHooks` implementation of the generated [`Client`]: it adds
//! the credential each operation declares in the spec, and keeps secrets out
//! of error URLs.
//!
//! Credentials live in [`ClientState`], the generated client's `inner` value.
//! A client without credentials is cheap to clone into one with a token:
//! [`Client::with_auth_token`].

use std::fmt;
use std::sync::Arc;

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION};

use crate::operations::{operation, Auth};
use crate::secrets::SecretValue;
use crate::Client;

/// Per-client state read by the hooks: the credentials to add.
#[derive(Clone, Default)]
pub struct ClientState {
    bearer: Option<Arc<HeaderValue>>,
    api_key: Option<Arc<HeaderValue>>,
}

impl fmt::Debug for ClientState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |v: &Option<Arc<HeaderValue>>| if v.is_some() { "[redacted]" } else { "none" };
        f.debug_struct("ClientState")
            .field("auth_token", &shown(&self.bearer))
            .field("api_key", &shown(&self.api_key))
            .finish()
    }
}

fn sensitive(value: &str) -> Option<Arc<HeaderValue>> {
    let mut header = HeaderValue::from_str(value).ok()?;
    header.set_sensitive(true);
    Some(Arc::new(header))
}

impl ClientState {
    /// State with this bearer token (the user's auth token), or none.
    pub fn with_bearer(mut self, token: Option<SecretValue>) -> Self {
        self.bearer = token.and_then(|t| sensitive(&format!("Bearer {}", t.expose_secret())));
        self
    }

    /// State with this `X-API-KEY` value, or none.
    pub fn with_api_key(mut self, key: Option<SecretValue>) -> Self {
        self.api_key = key.and_then(|k| sensitive(k.expose_secret()));
        self
    }

    /// True when a bearer token is set.
    pub fn has_auth_token(&self) -> bool {
        self.bearer.is_some()
    }
}

impl Client {
    /// A clone of this client that sends `token` as the bearer token of the
    /// current-user operations (and only those).
    pub fn with_auth_token(&self, token: impl Into<SecretValue>) -> Client {
        let state = self.inner.clone().with_bearer(Some(token.into()));
        Client::new_with_client(self.baseurl(), self.client().clone(), state)
    }

    /// A clone of this client that sends `key` as `X-API-KEY` where the spec asks for it.
    pub fn with_api_key(&self, key: impl Into<SecretValue>) -> Client {
        let state = self.inner.clone().with_api_key(Some(key.into()));
        Client::new_with_client(self.baseurl(), self.client().clone(), state)
    }

    /// The credentials this client sends.
    pub fn state(&self) -> &ClientState {
        &self.inner
    }
}

const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

impl ClientHooks<ClientState> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        let auth = operation(info.operation_id).map_or(Auth::None, |op| op.auth);
        let headers = request.headers_mut();
        match auth {
            Auth::Bearer => {
                if let Some(token) = &self.inner.bearer {
                    headers.insert(AUTHORIZATION, HeaderValue::clone(token));
                }
            }
            Auth::ApiKey => {
                if let Some(key) = &self.inner.api_key {
                    headers.insert(X_API_KEY, HeaderValue::clone(key));
                }
            }
            Auth::None => {}
        }
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let secret_query = operation(info.operation_id).map_or(&[][..], |op| op.secret_query);
        match self.client().execute(request).await {
            // The response remembers the request URL (and prints it in
            // Debug): for an operation with a secret query, drop the URL.
            Ok(response) if !secret_query.is_empty() => {
                let response: http::Response<reqwest::Body> = response.into();
                Ok(reqwest::Response::from(response))
            }
            Ok(response) => Ok(response),
            // reqwest's errors print the URL, which may carry a secret query
            // (`DELETE /tokens?refresh_token=`): drop it.
            Err(e) => Err(e.without_url()),
        }
    }
}
