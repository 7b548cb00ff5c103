//! The one `ClientHooks` implementation of the generated [`Client`]: it adds
//! the credential each operation declares in the spec, and keeps secrets out
//! of error URLs.
//!
//! Credentials live in [`ClientState`], the generated client's `inner` value.
//! A client without credentials is cheap to clone into one with a token:
//! [`Client::with_auth_token`].

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION};

use tracing::Instrument;

use crate::operations::{operation, Auth};
use crate::retry::{classify_error, classify_status, RetryPolicy, Verdict};
use crate::secrets::SecretValue;
use crate::Client;

/// Per-client state read by the hooks: the credentials to add and the retry policy.
#[derive(Clone, Default)]
pub struct ClientState {
    bearer: Option<Arc<HeaderValue>>,
    api_key: Option<Arc<HeaderValue>>,
    retry: RetryPolicy,
}

impl fmt::Debug for ClientState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |v: &Option<Arc<HeaderValue>>| if v.is_some() { "[redacted]" } else { "none" };
        f.debug_struct("ClientState")
            .field("auth_token", &shown(&self.bearer))
            .field("api_key", &shown(&self.api_key))
            .field("retry", &self.retry)
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

    /// State with this retry policy.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
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
        self.with_state(|state| state.with_bearer(Some(token.into())))
    }

    /// A clone of this client that sends `key` as `X-API-KEY` where the spec asks for it.
    pub fn with_api_key(&self, key: impl Into<SecretValue>) -> Client {
        self.with_state(|state| state.with_api_key(Some(key.into())))
    }

    /// A clone of this client with another retry policy (a per-call override:
    /// `client.with_retry_policy(RetryPolicy::none()).get_app()...`).
    pub fn with_retry_policy(&self, policy: RetryPolicy) -> Client {
        self.with_state(|state| state.with_retry_policy(policy))
    }

    /// A clone sharing this client's connection pool, with changed state.
    fn with_state(&self, change: impl FnOnce(ClientState) -> ClientState) -> Client {
        let state = change(self.inner.clone());
        Client::new_with_client(self.baseurl(), self.client().clone(), state)
    }

    /// The credentials and policy this client uses.
    pub fn state(&self) -> &ClientState {
        &self.inner
    }
}

const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

impl ClientHooks<ClientState> for Client {
    // Everything happens in `exec`, so the operation is looked up once per call.
    async fn exec(
        &self,
        mut request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let op = operation(info.operation_id);
        self.add_credential(&mut request, op.map_or(Auth::None, |o| o.auth));
        let span = tracing::debug_span!(
            "passage.call",
            operation = info.operation_id,
            method = request.method().as_str(),
            path = op.map_or("", |o| o.path),
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        let response = self
            .execute_with_retries(request, op.is_some_and(|o| o.idempotent))
            .instrument(span)
            .await
            .map_err(reqwest::Error::without_url)?;
        capture_error_body(response)
            .await
            .map(|response| match op {
                // The response remembers the request URL (and prints it in
                // Debug): for an operation with a secret query, drop the URL.
                Some(op) if !op.secret_query.is_empty() => {
                    let response: http::Response<reqwest::Body> = response.into();
                    reqwest::Response::from(response)
                }
                _ => response,
            })
            // reqwest's errors print the URL, which may carry a secret query
            // (`DELETE /tokens?refresh_token=`): drop it.
            .map_err(reqwest::Error::without_url)
    }
}

/// The original body of an error answer, kept as a response extension so
/// that [`crate::Error`] can show a redacted view of it.
#[derive(Clone, Debug)]
pub(crate) struct ErrorBody(pub(crate) bytes::Bytes);

/// Set on an error answer whose body was not an `ApiError` and was replaced by one.
pub(crate) const NON_API_BODY: HeaderName =
    HeaderName::from_static("x-passage-client-non-api-body");

/// For a 4xx/5xx answer: reads the body, keeps it as [`ErrorBody`], and when it
/// is not an `ApiError` (an HTML page from a proxy, say) replaces it with one
/// carrying a redacted view, so that the caller gets a typed error that keeps
/// the HTTP status instead of a bare decode failure.
async fn capture_error_body(response: reqwest::Response) -> reqwest::Result<reqwest::Response> {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return Ok(response);
    }
    let version = response.version();
    let mut headers = response.headers().clone();
    let original = response.bytes().await?;
    let body = if serde_json::from_slice::<crate::types::ApiError>(&original).is_ok() {
        original.clone()
    } else {
        let shown = crate::error::RedactedBody::new(&original);
        // The content type stays as sent: it tells the caller what the body was.
        headers.insert(NON_API_BODY, HeaderValue::from_static("1"));
        let synthetic =
            serde_json::json!({ "code": "non_api_error_body", "error": shown.as_str() });
        bytes::Bytes::from(synthetic.to_string())
    };
    headers.remove(reqwest::header::CONTENT_LENGTH);
    let mut rebuilt = http::Response::new(reqwest::Body::from(body));
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    rebuilt.extensions_mut().insert(ErrorBody(original));
    Ok(reqwest::Response::from(rebuilt))
}

impl Client {
    /// Adds the credential the operation declares, if this client holds it.
    fn add_credential(&self, request: &mut reqwest::Request, auth: Auth) {
        let (name, value) = match auth {
            Auth::Bearer => (AUTHORIZATION, &self.inner.bearer),
            Auth::ApiKey => (X_API_KEY, &self.inner.api_key),
            Auth::None => return,
        };
        if let Some(value) = value {
            request
                .headers_mut()
                .insert(name, HeaderValue::clone(value));
        }
    }

    /// Sends `request`, retrying as the policy and the operation's
    /// idempotency allow; records the outcome on the current span.
    async fn execute_with_retries(
        &self,
        request: reqwest::Request,
        idempotent: bool,
    ) -> reqwest::Result<reqwest::Response> {
        let policy = &self.inner.retry;
        let started = Instant::now();
        let mut attempt = 1u32;
        let mut pending = request;
        loop {
            let copy = (attempt < policy.attempts())
                .then(|| pending.try_clone())
                .flatten();
            let result = self.client().execute(pending).await;
            let verdict = match &result {
                Ok(response) => classify_status(response.status(), response.headers(), idempotent),
                Err(error) => classify_error(error, idempotent),
            };
            let wait = match verdict {
                Verdict::Retry(after) => {
                    policy.wait_before_retry(attempt, after, started.elapsed())
                }
                Verdict::Done => None,
            };
            match (copy, wait) {
                (Some(copy), Some(wait)) => {
                    match &result {
                        Ok(response) => tracing::debug!(
                            attempt,
                            status = response.status().as_u16(),
                            wait_ms = wait.as_millis() as u64,
                            "retrying"
                        ),
                        Err(error) => tracing::debug!(
                            attempt,
                            timeout = error.is_timeout(),
                            connect = error.is_connect(),
                            wait_ms = wait.as_millis() as u64,
                            "retrying"
                        ),
                    }
                    drop(result);
                    tokio::time::sleep(wait).await;
                    pending = copy;
                    attempt += 1;
                }
                _ => {
                    let span = tracing::Span::current();
                    span.record("attempts", attempt);
                    span.record("elapsed_ms", started.elapsed().as_millis() as u64);
                    if let Ok(response) = &result {
                        span.record("status", response.status().as_u16());
                    }
                    return result;
                }
            }
        }
    }
}
