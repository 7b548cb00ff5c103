//! The call pipeline every generated request goes through (a generated
//! crate's `ClientHooks` impl hands each request here): the credential the
//! operation declares is added, the values the request carries in secret
//! places are recorded for [`crate::finish_call`] to scrub, the request is
//! sent and retried as the operation's `x-idempotent` and the client's
//! [`RetryPolicy`] allow, secret-bearing response headers are marked
//! sensitive, and an error answer whose body is not the API's error body is
//! replaced by a redacted view of it.
//!
//! It knows no spec: the operation's row ([`OperationSpec`]) and the error
//! body type come from the generated crate.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, LOCATION, SET_COOKIE};
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::call_error::CallError;
use crate::client_state::{ClientState, Credential};
use crate::error::record_call_secrets;
use crate::operation::{Auth, OperationSpec};
use crate::redact::{RedactedBody, RequestSecrets};
use crate::response::NonApiBody;
use crate::retry::{classify_error, classify_status, RetryPolicy, Verdict};

/// Refuses a call whose credential cannot be sent (instead of sending it
/// without one). Free when the client holds no invalid credential.
// The error is the one every generated `send()` body propagates with `?` (a large enum, built
// only on refusal).
#[allow(clippy::result_large_err)]
pub fn check_credentials<E>(
    state: &ClientState,
    op: Option<&OperationSpec>,
) -> Result<(), CallError<E>> {
    if !state.has_invalid_credential() {
        return Ok(());
    }
    let auth = op.map_or(Auth::None, |o| o.auth);
    match state.credential(auth) {
        Some((Credential::Invalid, name)) => Err(CallError::InvalidRequest(format!(
            "the {name} credential is not a valid HTTP header value"
        ))),
        _ => Ok(()),
    }
}

/// Sends `request` for the operation `op` (its row of the generated table)
/// with `http`: credential, secret recording, retries, tracing, response
/// headers and error bodies as the module documentation says. `B` is the
/// API's error body type: an error answer whose body does not decode as one
/// reaches the caller as an unexpected status with a redacted view of it.
pub async fn send<B: DeserializeOwned>(
    http: &reqwest::Client,
    state: &ClientState,
    op: Option<&'static OperationSpec>,
    mut request: reqwest::Request,
) -> reqwest::Result<reqwest::Response> {
    let secrets = add_credential(state, &mut request, op);
    if let Some(secrets) = &secrets {
        record_call_secrets(secrets.clone());
    }
    let idempotent = op.is_some_and(|o| o.idempotent);
    let policy = state.retry_policy();
    // A span costs on every poll even when nothing records it (and with
    // tracing's `log` feature it logs every poll): one only when DEBUG is on,
    // in a boxed future of its own, so that it does not grow every call's state.
    let response = if tracing::enabled!(tracing::Level::DEBUG) {
        Box::pin(send_traced(http, policy, op, request, idempotent)).await
    } else {
        // The first attempt runs here, with no future around it (every call
        // pays for the moves of each layer of futures); the retries, rare, in
        // a boxed future of their own.
        let started = Instant::now();
        let copy = copy_if_retryable(policy, &request);
        let result = http.execute(request).await;
        let wait = wait_before_next(policy, &result, idempotent, 1, started);
        match next_attempt(copy, wait, &result) {
            Some((pending, wait)) => {
                Box::pin(retry(
                    http, policy, pending, idempotent, started, result, wait,
                ))
                .await
                .result
            }
            None => result,
        }
    };
    let mut response = response.map_err(reqwest::Error::without_url)?;
    mark_sensitive_headers(response.headers_mut());
    let status = response.status();
    if status.is_client_error() || status.is_server_error() {
        // Boxed: only an error answer pays for this future's state.
        response = Box::pin(capture_error_body::<B>(response, secrets.as_ref()))
            .await
            // reqwest's errors print the URL, which may carry a secret query
            // (`DELETE /tokens?refresh_token=`): drop it.
            .map_err(reqwest::Error::without_url)?;
    }
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

/// The outcome of sending a request, with its retries.
struct Sent {
    /// The last attempt's answer or failure.
    result: reqwest::Result<reqwest::Response>,
    /// How many times the request was sent.
    attempts: u32,
    /// From the first attempt to the outcome, waits included.
    elapsed: std::time::Duration,
}

/// What another attempt of a request needs besides its URL: the method,
/// headers, body, timeout and version (`None` when the body is a stream).
/// The URL is taken back from the attempt's outcome (an answer and a reqwest
/// error both carry it), so a call that succeeds never copies it; leaner too
/// than `Request::try_clone`, which also copies the extensions.
struct RetryCopy {
    method: reqwest::Method,
    headers: HeaderCopy,
    body: Option<bytes::Bytes>,
    timeout: Option<Duration>,
    version: reqwest::Version,
}

/// How many headers a [`HeaderCopy`] keeps inline.
const INLINE_HEADERS: usize = 2;

/// A copy of a request's headers: the few of most requests inline (their
/// names and values are shared, not copied: no allocation), a header map
/// when there are more.
enum HeaderCopy {
    Inline([Option<(HeaderName, HeaderValue)>; INLINE_HEADERS]),
    Map(HeaderMap),
}

impl HeaderCopy {
    fn of(headers: &HeaderMap) -> Self {
        if headers.len() > INLINE_HEADERS {
            return HeaderCopy::Map(headers.clone());
        }
        let mut inline: [Option<(HeaderName, HeaderValue)>; INLINE_HEADERS] = Default::default();
        for (slot, (name, value)) in inline.iter_mut().zip(headers.iter()) {
            *slot = Some((name.clone(), value.clone()));
        }
        HeaderCopy::Inline(inline)
    }

    /// The headers again, in their order (repeated names appended).
    fn into_map(self) -> HeaderMap {
        match self {
            HeaderCopy::Map(map) => map,
            HeaderCopy::Inline(inline) => {
                let mut map = HeaderMap::with_capacity(INLINE_HEADERS);
                for (name, value) in inline.into_iter().flatten() {
                    map.append(name, value);
                }
                map
            }
        }
    }
}

impl RetryCopy {
    fn of(request: &reqwest::Request) -> Option<Self> {
        let body = match request.body() {
            None => None,
            Some(body) => Some(bytes::Bytes::copy_from_slice(body.as_bytes()?)),
        };
        Some(RetryCopy {
            method: request.method().clone(),
            headers: HeaderCopy::of(request.headers()),
            body,
            timeout: request.timeout().copied(),
            version: request.version(),
        })
    }

    /// The request again, to `url`.
    fn into_request(self, url: reqwest::Url) -> reqwest::Request {
        let mut request = reqwest::Request::new(self.method, url);
        *request.timeout_mut() = self.timeout;
        *request.headers_mut() = self.headers.into_map();
        *request.version_mut() = self.version;
        *request.body_mut() = self.body.map(reqwest::Body::from);
        request
    }
}

/// The request of the next attempt and the wait before it, when `copy` and
/// `wait` allow one and the outcome still names the URL it was sent to.
fn next_attempt(
    copy: Option<RetryCopy>,
    wait: Option<Duration>,
    result: &reqwest::Result<reqwest::Response>,
) -> Option<(reqwest::Request, Duration)> {
    let (copy, wait) = (copy?, wait?);
    let url = match result {
        Ok(response) => response.url().clone(),
        Err(error) => error.url()?.clone(),
    };
    Some((copy.into_request(url), wait))
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

/// For a 4xx/5xx answer (its secret-bearing headers already marked
/// sensitive), keeps a redacted view of the body (the request's secrets scrubbed) in the
/// answer's extensions, for the error to show. When the body is not the API's
/// error body `B` (an HTML page from a proxy, say), the answer is also marked
/// [`NonApiBody`], so that the caller gets a typed error that keeps the HTTP
/// status instead of a bare decode failure.
async fn capture_error_body<B: DeserializeOwned>(
    mut response: reqwest::Response,
    secrets: Option<&RequestSecrets>,
) -> reqwest::Result<reqwest::Response> {
    let status = response.status();
    let version = response.version();
    let headers = std::mem::take(response.headers_mut());
    let body = response.bytes().await?;
    let none = RequestSecrets::default();
    let shown = RedactedBody::new(&body, secrets.unwrap_or(&none)).with_content_type(&headers);
    let is_api_error = serde_json::from_slice::<B>(&body).is_ok();
    let mut rebuilt = http::Response::new(reqwest::Body::from(body));
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    rebuilt.extensions_mut().insert(shown);
    if !is_api_error {
        rebuilt.extensions_mut().insert(NonApiBody);
    }
    Ok(reqwest::Response::from(rebuilt))
}

/// Adds the credential `op` declares, if `state` holds it, and returns the
/// secrets the request then carries (none for an operation without secret
/// places).
fn add_credential(
    state: &ClientState,
    request: &mut reqwest::Request,
    op: Option<&OperationSpec>,
) -> Option<RequestSecrets> {
    let op = op?;
    let mut secrets = None;
    if let Some((Credential::Valid { header, secret }, name)) = state.credential(op.auth) {
        request
            .headers_mut()
            .insert(name, HeaderValue::clone(header));
        secrets
            .get_or_insert_with(RequestSecrets::default)
            .add(secret.expose_secret());
    }
    if op.has_secret_places() {
        request_secrets(
            request,
            op,
            secrets.get_or_insert_with(RequestSecrets::default),
        );
    }
    secrets
}

/// A copy of `request` for a second attempt, when the policy allows one.
fn copy_if_retryable(policy: &RetryPolicy, request: &reqwest::Request) -> Option<RetryCopy> {
    if policy.attempts() > 1 {
        RetryCopy::of(request)
    } else {
        None
    }
}

/// The wait before attempt `attempt + 1`, when `result` (of attempt `attempt`,
/// the first of which started at `started`) calls for one and the policy
/// allows it.
fn wait_before_next(
    policy: &RetryPolicy,
    result: &reqwest::Result<reqwest::Response>,
    idempotent: bool,
    attempt: u32,
    started: Instant,
) -> Option<Duration> {
    let verdict = match result {
        Ok(response) => classify_status(response.status(), response.headers(), idempotent),
        Err(error) => classify_error(error, idempotent),
    };
    match verdict {
        Verdict::Retry(after) => policy.wait_before_retry(attempt, after, started.elapsed()),
        Verdict::Done => None,
    }
}

/// Sends `request` with its retries and a `passage.call` span (DEBUG on).
async fn send_traced(
    http: &reqwest::Client,
    policy: &RetryPolicy,
    op: Option<&'static OperationSpec>,
    request: reqwest::Request,
    idempotent: bool,
) -> reqwest::Result<reqwest::Response> {
    let span = tracing::debug_span!(
        "passage.call",
        operation = op.map_or("", |o| o.operation_id),
        method = request.method().as_str(),
        path = op.map_or("", |o| o.path),
        status = tracing::field::Empty,
        attempts = tracing::field::Empty,
        elapsed_ms = tracing::field::Empty,
    );
    let sent = async {
        let started = Instant::now();
        let copy = copy_if_retryable(policy, &request);
        let result = http.execute(request).await;
        let wait = wait_before_next(policy, &result, idempotent, 1, started);
        match next_attempt(copy, wait, &result) {
            Some((pending, wait)) => {
                retry(http, policy, pending, idempotent, started, result, wait).await
            }
            None => Sent {
                result,
                attempts: 1,
                elapsed: started.elapsed(),
            },
        }
    }
    .instrument(span.clone())
    .await;
    span.record("attempts", sent.attempts);
    span.record("elapsed_ms", sent.elapsed.as_millis() as u64);
    if let Ok(response) = &sent.result {
        span.record("status", response.status().as_u16());
    }
    sent.result
}

/// The attempts after the first, whose outcome `first` calls for a retry
/// after `wait`: each waits, sends `pending`, and retries again as the policy
/// and the operation's idempotency allow.
async fn retry(
    http: &reqwest::Client,
    policy: &RetryPolicy,
    mut pending: reqwest::Request,
    idempotent: bool,
    started: Instant,
    first: reqwest::Result<reqwest::Response>,
    first_wait: Duration,
) -> Sent {
    let mut attempt = 1u32;
    let mut result = first;
    let mut wait = first_wait;
    loop {
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
        attempt += 1;
        let copy = if attempt < policy.attempts() {
            RetryCopy::of(&pending)
        } else {
            None
        };
        result = http.execute(pending).await;
        let next = wait_before_next(policy, &result, idempotent, attempt, started);
        match next_attempt(copy, next, &result) {
            Some((next_request, next_wait)) => {
                pending = next_request;
                wait = next_wait;
            }
            None => {
                return Sent {
                    result,
                    attempts: attempt,
                    elapsed: started.elapsed(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_copy_is_the_same_request_to_the_url_of_the_outcome() {
        let mut request = reqwest::Client::new()
            .post("http://127.0.0.1:1/v1/apps/a/tokens?x=1")
            .header("x-one", "1")
            .header("x-one", "2")
            .body(r#"{"refresh_token":"r"}"#)
            .timeout(Duration::from_secs(7))
            .build()
            .unwrap();
        *request.version_mut() = reqwest::Version::HTTP_11;
        let copy = RetryCopy::of(&request).expect("a body of bytes can be copied");
        // An answer names the URL it came from.
        use reqwest::ResponseBuilderExt;
        let answer = http::Response::builder()
            .status(503)
            .url(request.url().clone())
            .body("")
            .unwrap();
        let answer = reqwest::Response::from(answer);
        let (copy, wait) =
            next_attempt(Some(copy), Some(Duration::from_secs(1)), &Ok(answer)).expect("a retry");
        assert_eq!(wait, Duration::from_secs(1));
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
        let copy = RetryCopy::of(&bodiless).unwrap();
        assert!(copy.body.is_none() && copy.timeout.is_none());
        // More headers than are kept inline: a map, the same headers in the same order.
        let mut many = reqwest::Client::new()
            .get("http://127.0.0.1:1/v1/apps/a")
            .header("x-one", "1")
            .header("x-two", "2")
            .header("x-one", "3")
            .build()
            .unwrap();
        let copy = RetryCopy::of(&many).unwrap();
        assert!(matches!(copy.headers, HeaderCopy::Map(_)));
        assert_eq!(&copy.headers.into_map(), many.headers());
        many.headers_mut().remove("x-two");
        let copy = RetryCopy::of(&many).unwrap();
        assert!(matches!(copy.headers, HeaderCopy::Inline(_)));
        let again = copy.headers.into_map();
        assert_eq!(&again, many.headers());
        let ones: Vec<_> = again.get_all("x-one").iter().collect();
        assert_eq!(
            ones,
            ["1", "3"],
            "a repeated name keeps its values in order"
        );
        // No copy, or no wait: no next attempt.
        let answer = reqwest::Response::from(http::Response::new(""));
        assert!(next_attempt(None, Some(Duration::ZERO), &Ok(answer)).is_none());
    }
}
