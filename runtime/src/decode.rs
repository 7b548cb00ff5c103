//! Reading an answer into a [`ResponseValue`]: JSON decoded into the
//! declared type, a stream left unread, or no body at all. Failures are
//! [`CallError`]s, which every generated `send()` turns into [`crate::Error`].

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use crate::call_error::CallError;
use crate::response::{parts_of, ByteStream, InnerByteStream, NonApiBody, ResponseValue};

impl<T: DeserializeOwned> ResponseValue<T> {
    /// Reads `response`'s body and decodes it from JSON. An error answer
    /// whose body the pipeline found not to be the API's error body
    /// ([`NonApiBody`]) is handed back unread as
    /// [`CallError::UnexpectedResponse`], so the caller gets the status and a
    /// redacted view of the body instead of a decode failure.
    #[doc(hidden)]
    pub async fn from_response<E>(response: reqwest::Response) -> Result<Self, CallError<E>> {
        JsonAnswer::read(response)
            .await?
            .decode(CallError::InvalidResponsePayload)
    }
}

/// A documented answer with a JSON body, read but not decoded yet. The body
/// of a generated `send()` hands its success answer on in this form, and its
/// call wrapper ([`crate::finish_json_call_for`]) decodes it where the
/// caller receives it: the decoded value, which can be large, is then built
/// once in place instead of being moved out through every layer of the call.
#[doc(hidden)]
pub struct JsonAnswer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl JsonAnswer {
    /// Reads `response`'s body (see [`ResponseValue::from_response`] for an
    /// error answer whose body is not the API's).
    pub async fn read<E>(mut response: reqwest::Response) -> Result<Self, CallError<E>> {
        if response.extensions().get::<NonApiBody>().is_some() {
            return Err(CallError::UnexpectedResponse(response));
        }
        let (status, headers) = parts_of(&mut response);
        let body = response
            .bytes()
            .await
            .map_err(CallError::ResponseBodyError)?;
        Ok(Self {
            status,
            headers,
            body,
        })
    }

    /// The body decoded into `T`, with the answer's status and headers; a
    /// body that is not `T`'s JSON gives the error `invalid` makes of it.
    #[inline]
    pub(crate) fn decode<T: DeserializeOwned, Er>(
        self,
        invalid: impl FnOnce(Bytes, serde_json::Error) -> Er,
    ) -> Result<ResponseValue<T>, Er> {
        match serde_json::from_slice(&self.body) {
            Ok(inner) => Ok(ResponseValue::new(inner, self.status, self.headers)),
            Err(e) => Err(invalid(self.body, e)),
        }
    }
}

impl ResponseValue<ByteStream> {
    /// Keeps `response`'s body unread, as a stream.
    #[doc(hidden)]
    pub fn stream(mut response: reqwest::Response) -> Self {
        let (status, headers) = parts_of(&mut response);
        Self::new(ByteStream::of(response), status, headers)
    }

    /// The stream of body chunks.
    pub fn into_inner_stream(self) -> InnerByteStream {
        self.into_inner().into_inner()
    }
}

impl ResponseValue<()> {
    /// An answer whose body is not read.
    #[doc(hidden)]
    pub fn empty(mut response: reqwest::Response) -> Self {
        let (status, headers) = parts_of(&mut response);
        Self::new((), status, headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &'static str) -> reqwest::Response {
        let response = http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .header("x-request-id", "r-1")
            .body(body)
            .expect("response");
        reqwest::Response::from(response)
    }

    #[tokio::test]
    async fn json_keeps_status_headers_and_value() {
        let value: ResponseValue<serde_json::Value> =
            ResponseValue::from_response::<()>(answer(201, r#"{"a":1}"#))
                .await
                .expect("decodes");
        assert_eq!(value.status(), 201);
        assert_eq!(value.headers()["x-request-id"], "r-1");
        assert_eq!(value.content_length(), None);
        assert_eq!(value.into_inner(), serde_json::json!({"a": 1}));
    }

    #[tokio::test]
    async fn a_body_of_another_shape_is_an_invalid_payload_with_the_body() {
        let error = ResponseValue::<Vec<u8>>::from_response::<()>(answer(200, r#"{"a":1}"#))
            .await
            .expect_err("not an array");
        match error {
            CallError::InvalidResponsePayload(body, _) => assert_eq!(&body[..], br#"{"a":1}"#),
            other => panic!("unexpected error {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_stream_yields_the_whole_body_then_ends() {
        use futures_util::StreamExt;
        let mut value = ResponseValue::stream(answer(302, "<html>moved</html>"));
        assert_eq!(value.status(), 302);
        assert_eq!(value.headers()["x-request-id"], "r-1");
        let mut body = Vec::new();
        while let Some(chunk) = value.next().await {
            body.extend_from_slice(&chunk.expect("chunk"));
        }
        assert_eq!(body, b"<html>moved</html>");
        assert!(value.next().await.is_none());
    }
}
