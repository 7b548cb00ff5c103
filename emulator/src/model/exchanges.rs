//! The exchange recorder: when a harness turns it on ([`EmulatorConfig::record_exchanges`]), every
//! request that reaches the Auth or Management API is kept whole (method, path, query, headers,
//! body) with the whole answer it got (status, content type, body) and the injected fault that
//! shaped it, for checks that need more than the request log's status: the test harnesses'
//! spec-conformance check, failure reports that show a client's request and the emulator's answer.
//!
//! Off by default: the bodies hold tokens and passcodes, and the list grows until it is taken.
//!
//! [`EmulatorConfig::record_exchanges`]: crate::settings::instance::EmulatorConfig::record_exchanges

use std::fmt;
use std::sync::{Mutex, MutexGuard};

use super::faults::FaultKind;

/// One request to the Auth or Management API and the answer it got.
///
/// Its `Debug` shows the method, path, header names, statuses and lengths, never a header value,
/// the query or a body (they carry tokens, API keys, passcodes and cookies).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Exchange {
    /// HTTP method.
    pub method: String,
    /// Path on the emulator's listener (`/v1/...` or `/management/v1/...`, also for a request
    /// that came through the intercepting proxy), without the query string.
    pub path: String,
    /// The request's query string (without the `?`), if it had one.
    pub query: Option<String>,
    /// Every request header, in the order received, as (lower-case name, value); a value that is
    /// not UTF-8 is kept lossily.
    pub request_headers: Vec<(String, String)>,
    /// The request's body, as received.
    pub request_body: Vec<u8>,
    /// Status sent, or `None` when the connection was closed without an answer (an injected
    /// `drop_connection` or `drop_after_processing`).
    pub status: Option<u16>,
    /// The answer's `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The answer's body, as sent (empty for a dropped connection).
    pub body: Vec<u8>,
    /// The armed fault this request consumed, if any: the answer is the fault's, or the handler's
    /// delayed or dropped by it.
    pub fault: Option<FaultKind>,
}

impl fmt::Debug for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values, the query and the bodies may hold tokens, API keys, cookies and
        // passcodes: only names and lengths are shown.
        let headers: Vec<String> = self
            .request_headers
            .iter()
            .map(|(name, value)| format!("{name} ({} bytes)", value.len()))
            .collect();
        f.debug_struct("Exchange")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query_len", &self.query.as_ref().map(String::len))
            .field("request_headers", &headers)
            .field("request_body_len", &self.request_body.len())
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .field("body_len", &self.body.len())
            .field("fault", &self.fault)
            .finish()
    }
}

impl Exchange {
    /// A request and the answer it got.
    pub fn new(
        method: impl Into<String>,
        path: impl Into<String>,
        status: Option<u16>,
        content_type: Option<String>,
        body: Vec<u8>,
        fault: Option<FaultKind>,
    ) -> Self {
        Self {
            method: method.into(),
            path: path.into(),
            query: None,
            request_headers: Vec::new(),
            request_body: Vec::new(),
            status,
            content_type,
            body,
            fault,
        }
    }

    /// The same exchange with the request's query, headers and body.
    pub fn with_request(
        mut self,
        query: Option<String>,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Self {
        self.query = query;
        self.request_headers = headers;
        self.request_body = body;
        self
    }

    /// The first value of the request header `name` (case-insensitive), if it was sent.
    pub fn request_header(&self, name: &str) -> Option<&str> {
        self.request_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The request's body as text (lossy), for failure reports of tests.
    pub fn request_body_text(&self) -> String {
        String::from_utf8_lossy(&self.request_body).into_owned()
    }

    /// The answer's body as text (lossy), for failure reports of tests.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Every recorded exchange, oldest first, until taken.
#[derive(Debug, Default)]
pub struct ExchangeRecorder {
    entries: Mutex<Vec<Exchange>>,
}

impl ExchangeRecorder {
    /// Appends an exchange.
    pub fn record(&self, exchange: Exchange) {
        self.lock().push(exchange);
    }

    /// The exchanges recorded so far, oldest first.
    pub fn list(&self) -> Vec<Exchange> {
        self.lock().clone()
    }

    /// Removes and returns the exchanges recorded so far, oldest first.
    pub fn take(&self) -> Vec<Exchange> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Exchange>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_exchanges_in_order_until_taken_and_never_prints_a_body() {
        let recorder = ExchangeRecorder::default();
        recorder.record(
            Exchange::new(
                "POST",
                "/v1/apps/a/otp/activate",
                Some(200),
                Some("application/json".into()),
                br#"{"auth_result":{"auth_token":"secret-token"}}"#.to_vec(),
                None,
            )
            .with_request(
                Some("refresh_token=secret-refresh".into()),
                vec![
                    ("authorization".into(), "Bearer secret-bearer".into()),
                    ("cookie".into(), "psg_auth_token=secret-cookie".into()),
                ],
                br#"{"passcode":"secret-passcode"}"#.to_vec(),
            ),
        );
        recorder.record(Exchange::new(
            "GET",
            "/v1/apps/a",
            None,
            None,
            Vec::new(),
            Some(FaultKind::DropConnection),
        ));
        let listed = recorder.list();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[1].fault, Some(FaultKind::DropConnection));
        let shown = format!("{:?}", listed[0]);
        for secret in [
            "secret-token",
            "secret-refresh",
            "secret-bearer",
            "secret-cookie",
            "secret-passcode",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("authorization"), "{shown}");
        assert_eq!(
            listed[0].request_header("Authorization"),
            Some("Bearer secret-bearer")
        );
        assert_eq!(
            listed[0].query.as_deref(),
            Some("refresh_token=secret-refresh")
        );
        assert_eq!(
            listed[0].request_body_text(),
            r#"{"passcode":"secret-passcode"}"#
        );
        assert_eq!(recorder.take(), listed);
        assert!(recorder.list().is_empty());
    }
}
