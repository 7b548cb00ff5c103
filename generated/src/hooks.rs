//! The one `ClientHooks` implementation of the generated [`Client`]: it adds
//! the credential each operation declares in the spec, retries what the spec
//! calls idempotent, and hands [`crate::Error`] what it needs to redact: the
//! values the request carried in the places the spec marks secret
//! ([`crate::operations::OperationSpec`]'s `secret_*` fields).
//!
//! Credentials live in [`ClientState`], the generated client's `inner` value.
//! A client without credentials is cheap to clone into one with a token:
//! [`Client::with_auth_token`]. `ClientState` can only be read from outside
//! the crate: a [`Client`] is made by [`crate::ClientBuilder`] only.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use crate::runtime::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, LOCATION, SET_COOKIE};

use tracing::Instrument;

use crate::operations::{operation, Auth, OperationSpec};
use crate::redact::RequestSecrets;
use crate::retry::{classify_error, classify_status, RetryPolicy, Verdict};
use crate::secrets::SecretValue;
use crate::Client;

/// Per-client state read by the hooks: the credentials to add and the retry policy.
#[derive(Clone, Default)]
pub struct ClientState {
    bearer: Option<Credential>,
    api_key: Option<Credential>,
    retry: RetryPolicy,
}

/// A credential as the hooks send it.
#[derive(Clone)]
enum Credential {
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
            .field("auth_token", &shown(&self.bearer))
            .field("api_key", &shown(&self.api_key))
            .field("retry", &self.retry)
            .finish()
    }
}

impl ClientState {
    /// State with this bearer token (the user's auth token), or none.
    pub(crate) fn with_bearer(mut self, token: Option<SecretValue>) -> Self {
        self.bearer = token.map(|t| Credential::new(format!("Bearer {}", t.expose_secret()), t));
        self
    }

    /// State with this `X-API-KEY` value, or none.
    pub(crate) fn with_api_key(mut self, key: Option<SecretValue>) -> Self {
        self.api_key = key.map(|k| Credential::new(k.expose_secret().to_string(), k));
        self
    }

    /// State with this retry policy.
    pub(crate) fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// True when a bearer token is set (valid or not).
    pub fn has_auth_token(&self) -> bool {
        self.bearer.is_some()
    }

    /// The credential an operation with `auth` needs.
    fn credential(&self, auth: Auth) -> Option<(&Credential, HeaderName)> {
        match auth {
            Auth::Bearer => self.bearer.as_ref().map(|c| (c, AUTHORIZATION)),
            Auth::ApiKey => self.api_key.as_ref().map(|c| (c, X_API_KEY)),
            Auth::None => None,
        }
    }
}

impl Client {
    /// A clone of this client that sends `token` as the bearer token of the
    /// current-user operations (and only those). A token that is not a valid
    /// header value makes those calls fail with [`crate::Error::InvalidRequest`].
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
    /// Refuses a call whose credential cannot be sent (instead of sending it
    /// without one). Free when the client holds no invalid credential.
    async fn pre<E>(
        &self,
        _request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), crate::runtime::Error<E>> {
        let has_invalid = [&self.inner.bearer, &self.inner.api_key]
            .iter()
            .any(|c| matches!(c, Some(Credential::Invalid)));
        if !has_invalid {
            return Ok(());
        }
        let auth = operation(info.operation_id).map_or(Auth::None, |o| o.auth);
        match self.inner.credential(auth) {
            Some((Credential::Invalid, name)) => Err(crate::runtime::Error::InvalidRequest(
                format!("the {name} credential is not a valid HTTP header value"),
            )),
            _ => Ok(()),
        }
    }

    // Everything else happens in `exec`, so the operation is looked up once per call.
    async fn exec(
        &self,
        mut request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let op = operation(info.operation_id);
        let secrets = self.add_credential(&mut request, op);
        if let Some(secrets) = &secrets {
            crate::error::record_call_secrets(secrets.clone());
        }
        let idempotent = op.is_some_and(|o| o.idempotent);
        // A span costs on every poll even when nothing records it (and with
        // tracing's `log` feature it logs every poll): one only when DEBUG is on.
        let response = if tracing::enabled!(tracing::Level::DEBUG) {
            let span = tracing::debug_span!(
                "passage.call",
                operation = info.operation_id,
                method = request.method().as_str(),
                path = op.map_or("", |o| o.path),
                status = tracing::field::Empty,
                attempts = tracing::field::Empty,
                elapsed_ms = tracing::field::Empty,
            );
            let sent = self
                .execute_with_retries(request, idempotent)
                .instrument(span.clone())
                .await;
            span.record("attempts", sent.attempts);
            span.record("elapsed_ms", sent.elapsed.as_millis() as u64);
            if let Ok(response) = &sent.result {
                span.record("status", response.status().as_u16());
            }
            sent.result
        } else {
            self.execute_with_retries(request, idempotent).await.result
        };
        let response = response.map_err(reqwest::Error::without_url)?;
        let response = capture_error_body(response, secrets.as_ref())
            .await
            // reqwest's errors print the URL, which may carry a secret query
            // (`DELETE /tokens?refresh_token=`): drop it.
            .map_err(reqwest::Error::without_url)?;
        Ok(match op {
            // The response remembers the request URL (and prints it in
            // Debug): for an operation with a secret query, drop the URL.
            Some(op) if !op.secret_query.is_empty() => {
                let response: http::Response<reqwest::Body> = response.into();
                reqwest::Response::from(response)
            }
            _ => response,
        })
    }
}

/// The outcome of sending a request, with its retries.
struct Sent {
    /// The last attempt's answer or failure.
    result: reqwest::Result<reqwest::Response>,
    /// How many times the request was sent.
    attempts: u32,
    /// From the first attempt to the outcome, waits included.
    elapsed: std::time::Duration,
}

/// A copy of `request` to send again, `None` when its body is a stream. Leaner than
/// `Request::try_clone`, which also copies the extensions (a map allocated for every request
/// because the timeout is kept there): the generated code sets none but the timeout.
fn copy_for_retry(request: &reqwest::Request) -> Option<reqwest::Request> {
    let body = match request.body() {
        None => None,
        Some(body) => Some(reqwest::Body::from(bytes::Bytes::copy_from_slice(
            body.as_bytes()?,
        ))),
    };
    let mut copy = reqwest::Request::new(request.method().clone(), request.url().clone());
    if let Some(timeout) = request.timeout() {
        *copy.timeout_mut() = Some(*timeout);
    }
    *copy.headers_mut() = request.headers().clone();
    *copy.version_mut() = request.version();
    *copy.body_mut() = body;
    Some(copy)
}

/// Marks the headers that may carry a secret (`Set-Cookie`, and `Location`,
/// which carries an OAuth `code` on the callbacks) as sensitive, so that the
/// `Debug` of a response or of its headers shows `Sensitive` instead.
fn mark_sensitive_headers(headers: &mut HeaderMap) {
    // One pass over the few headers of an answer: cheaper than hashing both names.
    for (name, value) in headers.iter_mut() {
        if name == SET_COOKIE || name == LOCATION {
            value.set_sensitive(true);
        }
    }
}

/// The values `request` carries in the places `op` marks secret.
fn request_secrets(request: &reqwest::Request, op: &OperationSpec, into: &mut RequestSecrets) {
    if !op.secret_query.is_empty() {
        for (name, value) in request.url().query_pairs() {
            if op.secret_query.contains(&name.as_ref()) {
                into.add(&value);
            }
        }
    }
    for name in op.secret_headers {
        for value in request.headers().get_all(*name) {
            if let Ok(value) = value.to_str() {
                into.add(value);
            }
        }
    }
    if op.secret_body.is_empty() {
        return;
    }
    let Some(bytes) = request.body().and_then(reqwest::Body::as_bytes) else {
        return;
    };
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(json) => {
            for path in op.secret_body {
                let segments: Vec<&str> = path.split('/').collect();
                collect_json(&json, &segments, into);
            }
        }
        Err(_) => {
            for (name, value) in url::form_urlencoded::parse(bytes) {
                if op.secret_body.contains(&name.as_ref()) {
                    into.add(&value);
                }
            }
        }
    }
}

fn collect_json(value: &serde_json::Value, path: &[&str], into: &mut RequestSecrets) {
    let Some((first, rest)) = path.split_first() else {
        match value {
            serde_json::Value::String(s) => into.add(s),
            serde_json::Value::Null => {}
            other => into.add(&other.to_string()),
        }
        return;
    };
    match (*first, value) {
        ("*", serde_json::Value::Array(items)) => {
            items.iter().for_each(|item| collect_json(item, rest, into))
        }
        ("*", serde_json::Value::Object(map)) => {
            map.values().for_each(|item| collect_json(item, rest, into))
        }
        (key, serde_json::Value::Object(map)) => {
            if let Some(item) = map.get(key) {
                collect_json(item, rest, into);
            }
        }
        _ => {}
    }
}

/// Set on an error answer whose body was not an `ApiError` and was replaced by one.
pub(crate) const NON_API_BODY: HeaderName =
    HeaderName::from_static("x-passage-client-non-api-body");

/// Marks secret-bearing headers sensitive; then, for a 4xx/5xx answer whose
/// body is not an `ApiError` (an HTML page from a proxy, say), replaces the
/// body with one carrying a redacted view (the request's secrets scrubbed),
/// so that the caller gets a typed error that keeps the HTTP status instead
/// of a bare decode failure.
async fn capture_error_body(
    mut response: reqwest::Response,
    secrets: Option<&RequestSecrets>,
) -> reqwest::Result<reqwest::Response> {
    mark_sensitive_headers(response.headers_mut());
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return Ok(response);
    }
    let version = response.version();
    let mut headers = std::mem::take(response.headers_mut());
    let original = response.bytes().await?;
    let none = RequestSecrets::default();
    let shown = crate::redact::RedactedBody::new(&original, secrets.unwrap_or(&none));
    let body = if serde_json::from_slice::<crate::types::ApiError>(&original).is_ok() {
        original
    } else {
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
    // An undeclared status reaches `Error` as the response itself: it reads this view.
    rebuilt.extensions_mut().insert(shown);
    Ok(reqwest::Response::from(rebuilt))
}

impl Client {
    /// Adds the credential the operation declares, if this client holds it,
    /// and returns the secrets the request then carries (none for an
    /// operation without secret places).
    fn add_credential(
        &self,
        request: &mut reqwest::Request,
        op: Option<&OperationSpec>,
    ) -> Option<RequestSecrets> {
        let op = op?;
        let mut secrets = None;
        if let Some((Credential::Valid { header, secret }, name)) = self.inner.credential(op.auth) {
            request
                .headers_mut()
                .insert(name, HeaderValue::clone(header));
            secrets
                .get_or_insert_with(RequestSecrets::default)
                .add(secret.expose_secret());
        }
        if !(op.secret_query.is_empty()
            && op.secret_headers.is_empty()
            && op.secret_body.is_empty())
        {
            request_secrets(
                request,
                op,
                secrets.get_or_insert_with(RequestSecrets::default),
            );
        }
        secrets
    }

    /// Sends `request`, retrying as the policy and the operation's
    /// idempotency allow.
    async fn execute_with_retries(&self, request: reqwest::Request, idempotent: bool) -> Sent {
        let policy = &self.inner.retry;
        let started = Instant::now();
        let mut attempt = 1u32;
        let mut pending = request;
        loop {
            let copy = (attempt < policy.attempts())
                .then(|| copy_for_retry(&pending))
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
            let (Some(copy), Some(wait)) = (copy, wait) else {
                return Sent {
                    result,
                    attempts: attempt,
                    elapsed: started.elapsed(),
                };
            };
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
            // Boxed: a timer is large, and only a retry needs one.
            Box::pin(tokio::time::sleep(wait)).await;
            pending = copy;
            attempt += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_retry_copy_is_the_same_request() {
        let mut request = reqwest::Client::new()
            .post("http://127.0.0.1:1/v1/apps/a/tokens?x=1")
            .header("x-one", "1")
            .header("x-one", "2")
            .body(r#"{"refresh_token":"r"}"#)
            .timeout(Duration::from_secs(7))
            .build()
            .unwrap();
        *request.version_mut() = reqwest::Version::HTTP_11;
        let copy = copy_for_retry(&request).expect("a body of bytes can be copied");
        assert_eq!(copy.method(), request.method());
        assert_eq!(copy.url(), request.url());
        assert_eq!(copy.headers(), request.headers());
        assert_eq!(copy.timeout(), Some(&Duration::from_secs(7)));
        assert_eq!(copy.version(), reqwest::Version::HTTP_11);
        assert_eq!(
            copy.body().and_then(reqwest::Body::as_bytes),
            Some(&br#"{"refresh_token":"r"}"#[..])
        );
        let bodiless = reqwest::Client::new()
            .get("http://127.0.0.1:1/v1/apps/a")
            .build()
            .unwrap();
        let copy = copy_for_retry(&bodiless).unwrap();
        assert!(copy.body().is_none() && copy.timeout().is_none());
    }
}
