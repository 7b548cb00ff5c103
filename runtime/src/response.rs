//! What every generated `send()` hands back: [`ResponseValue`] (the decoded
//! value with the answer's status and headers) and [`ByteStream`] (the unread
//! body of answers the spec gives no schema). Bodies are read with
//! `Response::chunk`, so reqwest's `stream` feature (and with it tokio's `fs`)
//! stays out of users' builds.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;

use bytes::Bytes;
use futures_util::Stream;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

/// The chunks of an answer's body, as they arrive.
pub type InnerByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// The body of an answer that the spec describes without a schema, unread.
pub struct ByteStream(InnerByteStream);

impl ByteStream {
    /// Wraps a stream of body chunks (for test fixtures).
    pub fn new(inner: InnerByteStream) -> Self {
        Self(inner)
    }

    /// The stream of body chunks.
    pub fn into_inner(self) -> InnerByteStream {
        self.0
    }

    /// The rest of `response`'s body, read chunk by chunk; once ended, it stays ended.
    pub(crate) fn of(response: reqwest::Response) -> Self {
        use futures_util::StreamExt;
        let chunks = futures_util::stream::unfold(Some(response), |state| async move {
            let mut response = state?;
            match response.chunk().await {
                Ok(Some(chunk)) => Some((Ok(chunk), Some(response))),
                Ok(None) => None,
                // The stream ends after its first error.
                Err(e) => Some((Err(e), None)),
            }
        });
        Self(Box::pin(chunks.fuse()))
    }
}

impl Deref for ByteStream {
    type Target = InnerByteStream;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for ByteStream {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ByteStream")
    }
}

/// A decoded answer with its status and headers.
pub struct ResponseValue<T> {
    inner: T,
    status: StatusCode,
    headers: HeaderMap,
}

impl<T> ResponseValue<T> {
    /// An answer made of its parts (for test fixtures).
    pub fn new(inner: T, status: StatusCode, headers: HeaderMap) -> Self {
        Self {
            inner,
            status,
            headers,
        }
    }

    /// The decoded value.
    pub fn into_inner(self) -> T {
        self.inner
    }

    /// The answer's HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The answer's headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The answer's `Content-Length`, when it has a valid one.
    pub fn content_length(&self) -> Option<u64> {
        self.headers
            .get(reqwest::header::CONTENT_LENGTH)?
            .to_str()
            .ok()?
            .parse()
            .ok()
    }

    /// The same answer with its value changed by `f`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> ResponseValue<U> {
        ResponseValue {
            inner: f(self.inner),
            status: self.status,
            headers: self.headers,
        }
    }
}

impl<T> Deref for ResponseValue<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T> DerefMut for ResponseValue<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T> AsRef<T> for ResponseValue<T> {
    fn as_ref(&self) -> &T {
        &self.inner
    }
}

impl<T: fmt::Debug> fmt::Debug for ResponseValue<T> {
    /// The value only (its secrets print redacted); headers can hold cookies.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// Put in the extensions of an error answer whose body is not the API's
/// error body (an HTML page from a proxy, say): the decoders then hand the
/// answer back as [`crate::CallError::UnexpectedResponse`] with the redacted
/// view of the body the pipeline stored beside this marker.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NonApiBody;

/// Status and headers taken from `response`, which keeps its body.
pub(crate) fn parts_of(response: &mut reqwest::Response) -> (StatusCode, HeaderMap) {
    // Moved, not cloned: reqwest set up the body's decoding when the answer arrived.
    (response.status(), std::mem::take(response.headers_mut()))
}
