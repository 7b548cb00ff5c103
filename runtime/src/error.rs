//! [`Error`]: what every call of a generated crate fails with. Every
//! generated `send()` returns it (the generator routes progenitor's result
//! through [`finish_call`]), so there is one error type and it redacts by
//! construction: it keeps the HTTP status, the API's error code, a
//! `Retry-After` and a redacted message or body, and never holds a header
//! map, a URL query, a token, a cookie or a whole body. The values of the
//! secrets the request carried are scrubbed from everything it prints (see
//! [`crate::redact`]).
//!
//! `Error` is generic over the API's error code (a generated crate's open
//! `ApiErrorCode`), which the generated crate names through [`ApiErrorBody`]:
//! a crate's own `Error` is `passage_runtime::Error<ApiErrorCode>`.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use crate::call_error::CallError;
use crate::decode::JsonAnswer;
use crate::operation::OperationSpec;
use crate::redact::{redact_message, RedactedBody, RequestSecrets};
use crate::redirect::Redirect;
use crate::response::ResponseValue;

/// The error body of an API (`{code, error}` for Passage's APIs): a generated
/// crate implements it for the schema its generator options name.
pub trait ApiErrorBody: DeserializeOwned {
    /// The API's error code (an open enum: unknown codes decode too, and a
    /// code a server filled with a secret is replaced by a redacted one, made
    /// with `From<&str>`).
    type Code: fmt::Debug + fmt::Display + Clone + Send + Sync + for<'a> From<&'a str> + 'static;

    /// The code and the server's message.
    fn into_parts(self) -> (Self::Code, String);
}

/// A failed call; `C` is the API's error code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error<C> {
    /// The server answered with a documented error (`{code, error}`).
    #[error("HTTP {status}: {code}: {message}")]
    #[non_exhaustive]
    Api {
        /// The HTTP status.
        status: StatusCode,
        /// The API's error code (open: unknown codes are `Unknown(..)`).
        code: C,
        /// The server's message, redacted (the request's secrets and
        /// anything token- or passcode-like replaced).
        message: String,
        /// The answer's `Retry-After`, when it had one.
        retry_after: Option<Duration>,
    },
    /// The server answered with a status the spec does not declare for the
    /// operation, or with an error body that is not the API's.
    #[error("unexpected HTTP {status} ({body})")]
    #[non_exhaustive]
    UnexpectedStatus {
        /// The HTTP status.
        status: StatusCode,
        /// A redacted view of the body.
        body: RedactedBody,
        /// The answer's `Retry-After`, when it had one.
        retry_after: Option<Duration>,
    },
    /// The server answered with a redirect the operation does not declare
    /// (for the redirecting operations, a client crate's `RedirectExt` turns
    /// it into its [`Redirect`]).
    #[error("HTTP {}: redirect to {}", .0.status, .0.redacted_location())]
    Redirect(Redirect),
    /// A response body did not have the declared shape.
    #[error("the response body does not match the spec ({reason}; {body})")]
    #[non_exhaustive]
    Decode {
        /// What did not match (the decoder's category, line and column; never the value).
        reason: String,
        /// A redacted view of the body.
        body: RedactedBody,
    },
    /// The request did not reach the server or the answer did not arrive.
    #[error("transport error{}: {message}", if *timeout { " (timeout)" } else if *connect { " (connect)" } else { "" })]
    #[non_exhaustive]
    Transport {
        /// True when the request timed out.
        timeout: bool,
        /// True when no connection could be made (the request was never sent).
        connect: bool,
        /// reqwest's message chain, without the URL, redacted.
        message: String,
        /// The underlying error, without the URL.
        #[source]
        source: Option<reqwest::Error>,
    },
    /// The request could not be built (a missing required parameter, a bad
    /// base URL, a credential that is not a valid header value).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

impl<C> Error<C> {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api { status, .. } | Error::UnexpectedStatus { status, .. } => Some(*status),
            Error::Redirect(redirect) => Some(redirect.status),
            _ => None,
        }
    }

    /// The API error code, for [`Error::Api`].
    pub fn code(&self) -> Option<&C> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The answer's `Retry-After` (seconds or an HTTP date), when it had one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api { retry_after, .. } | Error::UnexpectedStatus { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// True for 429, 500, 502, 503, 504, a timeout or a connection failure:
    /// failures that a later attempt may not repeat (the client's retry
    /// policy uses the same statuses). Every other transport failure (TLS,
    /// a connection closed mid-answer, an unreadable body) and every other
    /// status is not transient.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Transport {
                timeout, connect, ..
            } => *timeout || *connect,
            _ => self.status().is_some_and(crate::retry::is_transient_status),
        }
    }

    /// An [`Error::InvalidRequest`] whose message is redacted.
    pub fn invalid_request(message: impl AsRef<str>) -> Self {
        Error::InvalidRequest(redact_message(message.as_ref(), &RequestSecrets::default()))
    }

    /// An answer with an undeclared status, as a caller's test or fake of a
    /// server builds one (the body is shown as not read).
    pub fn unexpected_status(status: StatusCode, retry_after: Option<Duration>) -> Self {
        Error::UnexpectedStatus {
            status,
            body: RedactedBody::unread(),
            retry_after,
        }
    }

    /// The same error with another code type (for errors made before a call
    /// and shared by crates: a builder's, say).
    pub fn map_code<D>(self, f: impl FnOnce(C) -> D) -> Error<D> {
        match self {
            Error::Api {
                status,
                code,
                message,
                retry_after,
            } => Error::Api {
                status,
                code: f(code),
                message,
                retry_after,
            },
            Error::UnexpectedStatus {
                status,
                body,
                retry_after,
            } => Error::UnexpectedStatus {
                status,
                body,
                retry_after,
            },
            Error::Redirect(r) => Error::Redirect(r),
            Error::Decode { reason, body } => Error::Decode { reason, body },
            Error::Transport {
                timeout,
                connect,
                message,
                source,
            } => Error::Transport {
                timeout,
                connect,
                message,
                source,
            },
            Error::InvalidRequest(m) => Error::InvalidRequest(m),
        }
    }
}

thread_local! {
    /// The secrets of the request sent by the call being polled on this thread
    /// (`None` outside a call): each [`FinishCall`] lends its own slot to the
    /// thread while it polls its call, and the pipeline writes into it.
    // A `Cell`: lending and giving back are plain swaps, with no borrow flag to check.
    static CALL_SECRETS: Cell<Option<RequestSecrets>> = const { Cell::new(None) };
}

/// Runs one generated call and converts its error into [`Error`], scrubbing
/// the secrets that the pipeline saw the request carry. Every generated
/// `send()` ends here (or in [`finish_call_for`]).
#[doc(hidden)]
pub fn finish_call<B, F, T>(call: F) -> FinishCall<F>
where
    F: Future<Output = Result<T, CallError<B>>>,
    B: ApiErrorBody,
{
    FinishCall::new(call, true)
}

/// [`finish_call`] for a call of the operation `op`: when the operation
/// takes no credential and has no secret places, its request carries no
/// secret for the pipeline to record, so the call's slot is not lent to the
/// thread on every poll.
#[doc(hidden)]
pub fn finish_call_for<B, F, T>(op: &OperationSpec, call: F) -> FinishCall<F>
where
    F: Future<Output = Result<T, CallError<B>>>,
    B: ApiErrorBody,
{
    FinishCall::new(call, op.carries_secrets())
}

/// [`finish_call_for`] for a call whose body ends with a [`JsonAnswer`]:
/// the answer is decoded into `ResponseValue<T>` here, where the caller
/// receives it, so a large value is built once instead of being moved out
/// through the body's layers and this one.
#[doc(hidden)]
pub fn finish_json_call_for<B, T, F>(op: &OperationSpec, call: F) -> FinishCall<F, DecodeJson<T>>
where
    F: Future<Output = Result<JsonAnswer, CallError<B>>>,
    B: ApiErrorBody,
    T: DeserializeOwned,
{
    FinishCall::new(call, op.carries_secrets())
}

/// What a call wrapper makes of its call's successful value `I`.
#[doc(hidden)]
pub trait Completion<I> {
    /// What the caller receives.
    type Ok;

    /// The caller's value, or the error `to_error` makes of the failure.
    fn complete<B, E>(value: I, to_error: impl FnOnce(CallError<B>) -> E) -> Result<Self::Ok, E>;
}

/// The call's value as it is (the body already decoded it).
#[doc(hidden)]
#[derive(Debug)]
pub struct AsIs;

impl<I> Completion<I> for AsIs {
    type Ok = I;

    #[inline]
    fn complete<B, E>(value: I, _: impl FnOnce(CallError<B>) -> E) -> Result<I, E> {
        Ok(value)
    }
}

/// A [`JsonAnswer`] decoded into `ResponseValue<T>`.
#[doc(hidden)]
#[derive(Debug)]
pub struct DecodeJson<T>(PhantomData<fn() -> T>);

impl<T: DeserializeOwned> Completion<JsonAnswer> for DecodeJson<T> {
    type Ok = ResponseValue<T>;

    #[inline]
    fn complete<B, E>(
        answer: JsonAnswer,
        to_error: impl FnOnce(CallError<B>) -> E,
    ) -> Result<ResponseValue<T>, E> {
        answer.decode(|body, e| to_error(CallError::InvalidResponsePayload(body, e)))
    }
}

pin_project_lite::pin_project! {
    /// The future of one generated call (see [`finish_call`]): one layer
    /// around the call, which it never moves, so a call's state is not
    /// copied on completion; `D` ([`Completion`]) turns the call's value
    /// into the caller's.
    #[doc(hidden)]
    pub struct FinishCall<F, D = AsIs> {
        #[pin]
        call: F,
        // This call's slot; on the thread (in `CALL_SECRETS`) while the call is polled.
        secrets: Option<RequestSecrets>,
        // Whether the slot is lent while polling (false: the request carries no secret).
        lend: bool,
        completion: PhantomData<D>,
    }
}

impl<F, D> FinishCall<F, D> {
    /// The wrapper of `call`, with an empty slot that it lends to the thread while polling when
    /// `lend` (the call's request can carry secrets).
    fn new(call: F, lend: bool) -> Self {
        FinishCall {
            call,
            secrets: Some(RequestSecrets::default()),
            lend,
            completion: PhantomData,
        }
    }
}

impl<F, T, B, D> Future for FinishCall<F, D>
where
    F: Future<Output = Result<T, CallError<B>>>,
    B: ApiErrorBody,
    D: Completion<T>,
{
    type Output = Result<D::Ok, Error<B::Code>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let polled = if *this.lend {
            let _lent = LentSlot::lend(this.secrets);
            this.call.poll(cx)
        } else {
            this.call.poll(cx)
        };
        let Poll::Ready(result) = polled else {
            return Poll::Pending;
        };
        let none = RequestSecrets::default();
        let secrets = this.secrets.as_ref().unwrap_or(&none);
        let to_error = |e| Error::from_call(e, secrets);
        Poll::Ready(match result {
            Ok(value) => D::complete(value, to_error),
            Err(e) => Err(to_error(e)),
        })
    }
}

/// A call's slot lent to the thread; given back (and the slot of an
/// enclosing call restored) when dropped, also when the call panics.
struct LentSlot<'a> {
    slot: &'a mut Option<RequestSecrets>,
    outer: Option<RequestSecrets>,
}

impl<'a> LentSlot<'a> {
    fn lend(slot: &'a mut Option<RequestSecrets>) -> Self {
        let outer = CALL_SECRETS.replace(slot.take());
        Self { slot, outer }
    }
}

impl Drop for LentSlot<'_> {
    fn drop(&mut self) {
        *self.slot = CALL_SECRETS.replace(self.outer.take());
    }
}

/// Records the current call's request secrets (a no-op outside a call).
pub(crate) fn record_call_secrets(secrets: RequestSecrets) {
    CALL_SECRETS.with(|slot| {
        // Written only into a lent slot (the previous value is dropped).
        if slot.take().is_some() {
            slot.set(Some(secrets));
        }
    });
}

impl<C: for<'a> From<&'a str> + fmt::Display> Error<C> {
    fn from_call<B: ApiErrorBody<Code = C>>(e: CallError<B>, secrets: &RequestSecrets) -> Self {
        match e {
            CallError::ErrorResponse(rv) => {
                let status = rv.status();
                let retry_after = crate::retry::retry_after(rv.headers());
                let (code, message) = rv.into_inner().into_parts();
                // A code is the server's text too: one that carries a secret (or
                // looks like a token) is shown redacted, as the message is.
                let text = code.to_string();
                let shown = redact_message(&text, secrets);
                let code = if shown == text {
                    code
                } else {
                    C::from(shown.as_str())
                };
                Error::Api {
                    status,
                    code,
                    message: redact_message(&message, secrets),
                    retry_after,
                }
            }
            CallError::UnexpectedResponse(response) => {
                let status = response.status();
                if status.is_redirection() {
                    return match Redirect::from_parts(status, response.headers(), secrets) {
                        Some(redirect) => Error::Redirect(redirect),
                        None => Error::invalid_request(format!(
                            "HTTP {status} answer without a Location header"
                        )),
                    };
                }
                // The pipeline left a redacted view of every error body.
                let body = response
                    .extensions()
                    .get::<RedactedBody>()
                    .cloned()
                    .unwrap_or_else(|| {
                        RedactedBody::unread().with_content_type(response.headers())
                    });
                Error::UnexpectedStatus {
                    status,
                    body,
                    retry_after: crate::retry::retry_after(response.headers()),
                }
            }
            CallError::InvalidResponsePayload(bytes, e) => Error::Decode {
                reason: format!(
                    "{:?} error at line {} column {}",
                    e.classify(),
                    e.line(),
                    e.column()
                ),
                body: RedactedBody::new(&bytes, secrets),
            },
            CallError::CommunicationError(e) | CallError::ResponseBodyError(e) => {
                Error::from_reqwest(e, secrets)
            }
            CallError::InvalidRequest(message) => {
                Error::InvalidRequest(redact_message(&message, secrets))
            }
        }
    }
}

impl<C> Error<C> {
    fn from_reqwest(e: reqwest::Error, secrets: &RequestSecrets) -> Self {
        let e = e.without_url();
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(inner) = source {
            message.push_str(": ");
            message.push_str(&inner.to_string());
            source = inner.source();
        }
        Error::Transport {
            timeout: e.is_timeout(),
            connect: e.is_connect(),
            message: redact_message(&message, secrets),
            source: Some(e),
        }
    }
}

impl<C> From<reqwest::Error> for Error<C> {
    fn from(e: reqwest::Error) -> Self {
        Error::from_reqwest(e, &RequestSecrets::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation::Auth;

    /// An error body for the tests: `{code, error}` with a string code.
    #[derive(serde::Deserialize)]
    struct TestBody {
        code: String,
        error: String,
    }

    impl ApiErrorBody for TestBody {
        type Code = String;
        fn into_parts(self) -> (String, String) {
            (self.code, self.error)
        }
    }

    /// A generated call that sent `secret` and failed with a message quoting it, after
    /// letting other tasks run in between.
    async fn failing_call(secret: &'static str) -> std::result::Result<(), CallError<TestBody>> {
        let mut secrets = RequestSecrets::default();
        secrets.add(secret);
        record_call_secrets(secrets);
        tokio::task::yield_now().await;
        Err(CallError::InvalidRequest(format!("rejected {secret}")))
    }

    fn message(result: Result<(), Error<String>>) -> String {
        match result {
            Err(Error::InvalidRequest(message)) => message,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn interleaved_calls_on_one_thread_each_scrub_their_own_secret() {
        let (a, b) = futures::join!(
            finish_call(failing_call("secret-of-call-a-0123456789")),
            finish_call(failing_call("secret-of-call-b-0123456789")),
        );
        let (a, b) = (message(a), message(b));
        assert!(
            a.starts_with("rejected ") && !a.contains("secret-of-call-a"),
            "{a}"
        );
        assert!(
            b.starts_with("rejected ") && !b.contains("secret-of-call-b"),
            "{b}"
        );
    }

    #[tokio::test]
    async fn a_call_inside_a_call_leaves_the_outer_secret_in_place() {
        let outer = finish_call(async {
            let mut secrets = RequestSecrets::default();
            secrets.add("outer-secret-0123456789");
            record_call_secrets(secrets);
            let inner = finish_call(failing_call("inner-secret-0123456789")).await;
            assert!(!message(inner).contains("inner-secret"));
            Err::<(), _>(CallError::<TestBody>::InvalidRequest(
                "outer-secret-0123456789 refused".into(),
            ))
        })
        .await;
        let outer = message(outer);
        assert!(
            outer.ends_with(" refused") && !outer.contains("outer-secret"),
            "{outer}"
        );
    }

    #[tokio::test]
    async fn only_a_call_whose_operation_can_carry_secrets_lends_its_slot() {
        const fn op(auth: Auth, secret_body: &'static [&'static str]) -> OperationSpec {
            OperationSpec::new(
                "op",
                "POST",
                "/op",
                "t",
                auth,
                false,
                &[200],
                &[],
                &[],
                secret_body,
            )
        }
        let lent = || {
            CALL_SECRETS.with(|slot| {
                let lent = slot.take();
                let some = lent.is_some();
                slot.set(lent);
                some
            })
        };
        for (spec, lends) in [
            (op(Auth::None, &[]), false),
            (op(Auth::Bearer, &[]), true),
            (op(Auth::None, &["refresh_token"]), true),
        ] {
            assert_eq!(spec.carries_secrets(), lends);
            let seen = finish_call_for(&spec, async { Ok::<_, CallError<TestBody>>(lent()) })
                .await
                .unwrap();
            assert_eq!(seen, lends, "{spec:?}");
        }
        // A call with secrets scrubs them through `finish_call_for` as through `finish_call`.
        let spec = op(Auth::Bearer, &[]);
        let shown = message(finish_call_for(&spec, failing_call("bearer-secret-0123456789")).await);
        assert!(!shown.contains("bearer-secret"), "{shown}");
    }

    fn json_answer(body: &'static str) -> reqwest::Response {
        let response = http::Response::builder()
            .status(201)
            .header("x-request-id", "r-1")
            .body(body)
            .expect("response");
        reqwest::Response::from(response)
    }

    #[tokio::test]
    async fn the_json_wrapper_decodes_the_answer_with_its_status_and_headers() {
        let spec = OperationSpec::new(
            "op",
            "GET",
            "/op",
            "t",
            Auth::None,
            false,
            &[201],
            &[],
            &[],
            &[],
        );
        let value = finish_json_call_for::<TestBody, serde_json::Value, _>(&spec, async {
            JsonAnswer::read(json_answer(r#"{"a":[1,2]}"#)).await
        })
        .await
        .expect("decodes");
        assert_eq!(value.status(), 201);
        assert_eq!(value.headers()["x-request-id"], "r-1");
        assert_eq!(value.into_inner(), serde_json::json!({"a": [1, 2]}));
    }

    #[tokio::test]
    async fn a_json_answer_of_another_shape_is_a_decode_error_scrubbed_of_the_requests_secrets() {
        // Not shaped like a token: only the request's own secrets can hide it.
        let secret = "plain words of the request";
        let spec = OperationSpec::new(
            "op",
            "GET",
            "/op",
            "t",
            Auth::Bearer,
            false,
            &[201],
            &[],
            &[],
            &[],
        );
        let error = finish_json_call_for::<TestBody, Vec<u8>, _>(&spec, async move {
            let mut secrets = RequestSecrets::default();
            secrets.add(secret);
            record_call_secrets(secrets);
            JsonAnswer::read(json_answer(r#"{"note":"plain words of the request"}"#)).await
        })
        .await
        .expect_err("not an array");
        let shown = format!("{error} {error:?}");
        assert!(matches!(error, Error::Decode { .. }), "{shown}");
        assert!(shown.contains("line 1"), "{shown}");
        assert!(!shown.contains(secret), "{shown}");
    }

    #[test]
    fn outside_a_call_recording_does_nothing() {
        let mut secrets = RequestSecrets::default();
        secrets.add("stray-secret-0123456789");
        record_call_secrets(secrets);
        assert!(CALL_SECRETS.with(|slot| {
            let lent = slot.take();
            let none = lent.is_none();
            slot.set(lent);
            none
        }));
    }

    #[test]
    fn the_request_secrets_in_a_location_path_are_never_shown() {
        let mut secrets = RequestSecrets::default();
        secrets.add("correcthorsebatterystaple");
        let mut headers = reqwest::header::HeaderMap::new();
        let location = "https://app.example/magic/correcthorsebatterystaple/done?code=abc";
        headers.insert(reqwest::header::LOCATION, location.parse().unwrap());
        let redirect = Redirect::from_parts(StatusCode::FOUND, &headers, &secrets).unwrap();
        assert_eq!(redirect.location, location);
        let shown = format!(
            "{redirect:?} {}",
            Error::<String>::Redirect(redirect.clone())
        );
        assert!(!shown.contains("correcthorse"), "{shown}");
        assert!(!shown.contains("abc"), "{shown}");
        assert!(shown.contains("https://app.example/magic/"), "{shown}");
    }

    #[tokio::test]
    async fn a_code_that_carries_the_requests_secret_is_redacted_too() {
        let secret = "key-of-the-request-0123456789";
        let result = finish_call(async move {
            let mut secrets = RequestSecrets::default();
            secrets.add(secret);
            record_call_secrets(secrets);
            Err::<(), _>(CallError::ErrorResponse(
                crate::response::ResponseValue::new(
                    TestBody {
                        code: format!("bad_key_{secret}"),
                        error: "invalid_request".into(),
                    },
                    StatusCode::UNAUTHORIZED,
                    reqwest::header::HeaderMap::new(),
                ),
            ))
        })
        .await;
        let Err(Error::Api { code, message, .. }) = result else {
            panic!("an API error");
        };
        assert_eq!(code, "bad_key_[redacted]");
        // An ordinary code and message are left as they are.
        assert_eq!(message, "invalid_request");
    }
}
