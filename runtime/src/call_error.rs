//! [`CallError`]: how a generated call failed, in the shape progenitor's
//! output constructs (its `Error`, renamed by the generator). It never leaves
//! a generated crate: every `send()` turns it into [`crate::Error`] through
//! [`crate::finish_call`].

use std::fmt;

use bytes::Bytes;

use crate::response::ResponseValue;

/// How a generated call failed, before [`crate::Error`] takes it over.
// The variants' names and shapes are the ones progenitor's output constructs.
#[allow(clippy::enum_variant_names)]
pub enum CallError<E = ()> {
    /// The request could not be built from the arguments.
    InvalidRequest(String),
    /// Sending the request or receiving the answer failed.
    CommunicationError(reqwest::Error),
    /// A documented error answer, decoded.
    ErrorResponse(ResponseValue<E>),
    /// The body of a documented answer could not be read.
    ResponseBodyError(reqwest::Error),
    /// The body of a documented answer is not the JSON the spec describes.
    InvalidResponsePayload(Bytes, serde_json::Error),
    /// An answer the spec does not list for the operation, unread.
    UnexpectedResponse(reqwest::Response),
}

impl<E> From<reqwest::Error> for CallError<E> {
    fn from(e: reqwest::Error) -> Self {
        Self::CommunicationError(e)
    }
}

impl<E> From<reqwest::header::InvalidHeaderValue> for CallError<E> {
    fn from(e: reqwest::header::InvalidHeaderValue) -> Self {
        Self::InvalidRequest(e.to_string())
    }
}

impl<E> From<std::convert::Infallible> for CallError<E> {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

impl<E> fmt::Debug for CallError<E> {
    /// The kind of failure and the status: never a body, a header or a URL.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, status) = match self {
            CallError::InvalidRequest(_) => ("InvalidRequest", None),
            CallError::CommunicationError(e) => ("CommunicationError", e.status()),
            CallError::ErrorResponse(rv) => ("ErrorResponse", Some(rv.status())),
            CallError::ResponseBodyError(e) => ("ResponseBodyError", e.status()),
            CallError::InvalidResponsePayload(..) => ("InvalidResponsePayload", None),
            CallError::UnexpectedResponse(r) => ("UnexpectedResponse", Some(r.status())),
        };
        let mut out = f.debug_struct(kind);
        if let Some(status) = status {
            out.field("status", &status.as_u16());
        }
        out.finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;
    use reqwest::StatusCode;

    #[test]
    fn errors_print_their_kind_and_status_only() {
        let secret = "psg_refresh_secret";
        let leaky: CallError<String> = CallError::ErrorResponse(ResponseValue::new(
            secret.to_owned(),
            StatusCode::UNAUTHORIZED,
            HeaderMap::new(),
        ));
        let text = format!("{leaky:?}");
        assert_eq!(text, "ErrorResponse { status: 401, .. }");
        let payload: CallError = CallError::InvalidResponsePayload(
            Bytes::from(secret),
            serde_json::from_str::<u8>("x").unwrap_err(),
        );
        assert!(!format!("{payload:?}").contains(secret));
    }
}
