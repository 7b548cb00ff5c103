//! [`Error`]: what every call of this crate fails with once converted from
//! progenitor's error (`?` does it). It keeps the HTTP status, the API's error
//! code and a *redacted* view of the body; it never prints a URL query, a
//! token, or a whole body.

use std::fmt;

use bytes::Bytes;
use reqwest::StatusCode;

use crate::hooks::{ErrorBody, NON_API_BODY};
use crate::open_enums::ApiErrorCode;
use crate::types::ApiError;
use crate::GeneratedError;

/// The result type of this crate's handwritten APIs.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A failed call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a documented error (`{code, error}`).
    #[error("HTTP {status}: {code}: {message}")]
    Api {
        /// The HTTP status.
        status: StatusCode,
        /// The API's error code (open: unknown codes are `Unknown(..)`).
        code: ApiErrorCode,
        /// The server's human-readable message.
        message: String,
    },
    /// The server answered with a status the spec does not declare for the operation.
    #[error("unexpected HTTP {status} ({body})")]
    UnexpectedStatus {
        /// The HTTP status.
        status: StatusCode,
        /// A redacted view of the body.
        body: RedactedBody,
        /// The response headers (e.g. `Location`, `Retry-After`).
        headers: Box<reqwest::header::HeaderMap>,
    },
    /// A response body did not have the declared shape.
    #[error("the response body does not match the spec ({reason}; {body})")]
    Decode {
        /// What did not match (the decoder's category, line and column; never the value).
        reason: String,
        /// A redacted view of the body.
        body: RedactedBody,
    },
    /// The request did not reach the server or the answer did not arrive.
    #[error("transport error{}: {message}", if *timeout { " (timeout)" } else if *connect { " (connect)" } else { "" })]
    Transport {
        /// True when the request timed out.
        timeout: bool,
        /// True when no connection could be made (the request was never sent).
        connect: bool,
        /// reqwest's message, without the URL.
        message: String,
        /// The underlying error, without the URL.
        #[source]
        source: Option<reqwest::Error>,
    },
    /// The request could not be built (a missing required parameter, a bad base URL).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

impl Error {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api { status, .. } | Error::UnexpectedStatus { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The API error code, for [`Error::Api`].
    pub fn code(&self) -> Option<&ApiErrorCode> {
        match self {
            Error::Api { code, .. } => Some(code),
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
}

impl From<GeneratedError> for Error {
    fn from(e: GeneratedError) -> Self {
        use progenitor_client::Error as P;
        match e {
            P::ErrorResponse(rv) if rv.headers().contains_key(NON_API_BODY) => {
                // The hooks replaced a body that was not an `ApiError`; its
                // message holds the redacted view of the original.
                let status = rv.status();
                let mut headers = Box::new(rv.headers().clone());
                headers.remove(NON_API_BODY);
                let ApiError { error, .. } = rv.into_inner();
                let body = RedactedBody::already_redacted(error).with_content_type(&headers);
                Error::UnexpectedStatus {
                    status,
                    body,
                    headers,
                }
            }
            P::ErrorResponse(rv) => {
                let status = rv.status();
                let ApiError { code, error } = rv.into_inner();
                Error::Api {
                    status,
                    code,
                    message: error,
                }
            }
            P::UnexpectedResponse(response) => {
                let status = response.status();
                let mut headers = Box::new(response.headers().clone());
                let body = match response.extensions().get::<ErrorBody>() {
                    Some(ErrorBody(original)) => {
                        headers.remove(NON_API_BODY);
                        RedactedBody::new(original).with_content_type(&headers)
                    }
                    None => RedactedBody::unread(
                        headers
                            .get(reqwest::header::CONTENT_TYPE)
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string),
                    ),
                };
                Error::UnexpectedStatus {
                    status,
                    body,
                    headers,
                }
            }
            P::InvalidResponsePayload(bytes, e) => Error::Decode {
                reason: format!(
                    "{:?} error at line {} column {}",
                    e.classify(),
                    e.line(),
                    e.column()
                ),
                body: RedactedBody::new(&bytes),
            },
            P::CommunicationError(e) | P::ResponseBodyError(e) | P::InvalidUpgrade(e) => {
                Error::from_reqwest(e)
            }
            P::InvalidRequest(message) | P::Custom(message) => Error::InvalidRequest(message),
        }
    }
}

impl From<reqwest::Error> for Error {
    fn from(e: reqwest::Error) -> Self {
        Error::from_reqwest(e)
    }
}

impl Error {
    fn from_reqwest(e: reqwest::Error) -> Self {
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
            message,
            source: Some(e),
        }
    }
}

/// A body as it may be shown: JSON with the values of secret-looking keys
/// replaced, other text with token-like runs replaced, and cut to 512 bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct RedactedBody {
    text: String,
    len: Option<usize>,
    content_type: Option<String>,
}

/// Keys whose values are never shown.
const SECRET_KEYS: &[&str] = &[
    "token",
    "secret",
    "otp",
    "password",
    "magic_link",
    "code",
    "nonce",
    "verifier",
    "key",
];
const MAX_SHOWN: usize = 512;

impl RedactedBody {
    /// Redacts `bytes`.
    pub fn new(bytes: &Bytes) -> Self {
        let text = match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(mut value) => {
                redact_json(&mut value);
                value.to_string()
            }
            Err(_) => redact_text(&redact_secret_fields(&String::from_utf8_lossy(bytes))),
        };
        let text = if text.len() > MAX_SHOWN {
            let mut end = MAX_SHOWN;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}…", &text[..end])
        } else {
            text
        };
        Self {
            text,
            len: Some(bytes.len()),
            content_type: None,
        }
    }

    /// Notes the body's content type (from the response headers).
    fn with_content_type(mut self, headers: &reqwest::header::HeaderMap) -> Self {
        self.content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        self
    }

    /// A view that the hooks already redacted (kept as it is).
    fn already_redacted(text: String) -> Self {
        Self {
            text,
            len: None,
            content_type: None,
        }
    }

    /// A body that was not read (only its content type is known).
    fn unread(content_type: Option<String>) -> Self {
        Self {
            text: "body not read".to_string(),
            len: None,
            content_type,
        }
    }

    /// The redacted text.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for RedactedBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("body (")?;
        if let Some(len) = self.len {
            write!(f, "{len} bytes, ")?;
        }
        write!(
            f,
            "{}): {}",
            self.content_type.as_deref().unwrap_or("no content-type"),
            self.text
        )
    }
}

impl fmt::Debug for RedactedBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedactedBody({:?})", self.text)
    }
}

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_KEYS.iter().any(|s| key.contains(s))
}

fn redact_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if is_secret_key(k) && !v.is_object() && !v.is_array() && !v.is_null() {
                    *v = serde_json::Value::String("[redacted]".into());
                } else {
                    redact_json(v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        serde_json::Value::String(s) => *s = redact_text(s),
        _ => {}
    }
}

/// In text that is JSON-like but not valid JSON (a cut body, say), replaces
/// the string after every `"<secret key>":` with `[redacted]`, to the closing
/// quote or the end of the text.
fn redact_secret_fields(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('"') {
        let (before, from_quote) = rest.split_at(start);
        out.push_str(before);
        let Some(end) = from_quote[1..].find('"') else {
            out.push_str(from_quote);
            return out;
        };
        let key = &from_quote[1..=end];
        let after_key = &from_quote[end + 2..];
        out.push('"');
        out.push_str(key);
        out.push('"');
        let trimmed = after_key.trim_start();
        let value = trimmed
            .strip_prefix(':')
            .map(str::trim_start)
            .and_then(|v| v.strip_prefix('"'));
        match value {
            Some(value) if is_secret_key(key) => {
                out.push_str(":\"[redacted]");
                // Skip the secret to its closing quote (or to the end of a cut body).
                let mut chars = value.char_indices();
                let mut close = None;
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => {
                            close = Some(i);
                            break;
                        }
                        _ => {}
                    }
                }
                match close {
                    Some(i) => {
                        out.push('"');
                        rest = &value[i + 1..];
                    }
                    None => return out,
                }
            }
            _ => rest = after_key,
        }
    }
    out.push_str(rest);
    out
}

/// Replaces every run of 20 or more token characters (JWTs, opaque tokens) and
/// every run of 6 or more digits (passcodes) with `[redacted]`.
pub(crate) fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let digits = run.chars().all(|c| c.is_ascii_digit());
        if run.len() >= 20 || (digits && run.len() >= 6) {
            out.push_str("[redacted]");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/' | '=') {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bodies_lose_secret_values_but_keep_their_shape() {
        let body = Bytes::from_static(
            br#"{"auth_result":{"auth_token":"eyJhbGciOi.secret.part","refresh_token":"rt_1","redirect_url":"/"},"otp_id":"x"}"#,
        );
        let shown = RedactedBody::new(&body).to_string();
        assert!(!shown.contains("eyJhbGciOi"), "{shown}");
        assert!(!shown.contains("rt_1"), "{shown}");
        assert!(shown.contains("\"redirect_url\":\"/\""), "{shown}");
        assert!(
            shown.starts_with(&format!("body ({} bytes,", body.len())),
            "{shown}"
        );
    }

    #[test]
    fn text_bodies_lose_token_like_runs_and_passcodes() {
        let body = Bytes::from_static(b"<html>bad gateway for eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig code 123456 at 12:30</html>");
        let shown = RedactedBody::new(&body).to_string();
        assert!(!shown.contains("eyJ"), "{shown}");
        assert!(!shown.contains("123456"), "{shown}");
        assert!(shown.contains("bad gateway"), "{shown}");
        assert!(shown.contains("12:30"), "{shown}");
    }

    #[test]
    fn cut_json_bodies_lose_secret_prefixes() {
        let body = Bytes::from_static(br#"{"auth_result":{"redirect_url":"/","auth_token":"eyJ"#);
        let shown = RedactedBody::new(&body).to_string();
        assert!(!shown.contains("eyJ"), "{shown}");
        assert!(shown.contains(r#""redirect_url":"/""#), "{shown}");
        let body = Bytes::from_static(br#"{"otp": "123", "x": "y"#);
        let shown = RedactedBody::new(&body).to_string();
        assert!(!shown.contains("123"), "{shown}");
        assert!(shown.contains(r#""x""#), "{shown}");
    }

    #[test]
    fn long_bodies_are_cut() {
        let body = Bytes::from(
            vec![b'a'; 5000]
                .into_iter()
                .map(|_| b' ')
                .collect::<Vec<u8>>(),
        );
        assert!(RedactedBody::new(&body).as_str().len() <= MAX_SHOWN + 3);
    }
}
