//! The request log: every request to the Auth API (`/v1`) and the Management API
//! (`/management/v1`) that reached the emulator, in order (for `GET /_emulator/requests`), and,
//! when switched on, what each request carried and what it was answered, secrets redacted.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::base::redact::{redact_header, redact_json, redact_query};

/// The request log keeps this many most recent requests.
pub const MAX_LOGGED_REQUESTS: usize = 10_000;

/// One logged request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedRequest {
    /// HTTP method.
    pub method: String,
    /// Path without query (where a revoked refresh token would travel).
    pub path: String,
    /// Status sent, or `null` when the connection was dropped.
    pub status: Option<u16>,
    /// What was sent and answered, when exchanges are captured
    /// ([`RequestLog::capture_exchanges`]); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange: Option<LoggedExchange>,
}

/// The request headers an exchange keeps (the ones that tell which client sent it and how): every
/// other header is left out.
pub const CAPTURED_REQUEST_HEADERS: &[&str] = &[
    "authorization",
    "content-type",
    "cookie",
    "passage-flex-version",
    "passage-version",
    "user-agent",
];

/// A request's query, chosen headers and body and the answer's body, with every secret (tokens, API
/// keys, passcodes, magic links, nonces, OAuth codes) replaced by `[redacted]`: safe to print in a
/// test's failure message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedExchange {
    /// The query string (without `?`), when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The [`CAPTURED_REQUEST_HEADERS`] the request had, by lower-case name (`Authorization` and
    /// `Cookie` with their values redacted).
    pub request_headers: BTreeMap<String, String>,
    /// The request body: `null` when empty, the JSON when it is JSON, else a string saying how
    /// many bytes of what it was.
    pub request_body: Value,
    /// The answer's body, in the same form (`null` as well when the connection was dropped).
    pub response_body: Value,
}

impl LoggedExchange {
    /// The exchange of a request with `query`, `headers` (any; only the captured ones are kept)
    /// and `request_body`, answered with `response_body`, every secret redacted.
    pub fn redacted<'a>(
        query: Option<&str>,
        headers: impl IntoIterator<Item = (&'a str, &'a [u8])>,
        request_body: &[u8],
        response_body: &[u8],
    ) -> Self {
        let request_headers = headers
            .into_iter()
            .filter_map(|(name, value)| {
                let name = name.to_ascii_lowercase();
                CAPTURED_REQUEST_HEADERS
                    .contains(&name.as_str())
                    .then(|| {
                        let value = redact_header(&name, &String::from_utf8_lossy(value));
                        (name, value)
                    })
            })
            .collect();
        Self {
            query: query.map(redact_query),
            request_headers,
            request_body: redacted_body(request_body),
            response_body: redacted_body(response_body),
        }
    }
}

/// A body as an exchange shows it: `null`, redacted JSON, or what it was (never its text, which
/// could hold a secret in a shape the redaction does not know).
fn redacted_body(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(mut json) => {
            redact_json(&mut json);
            json
        }
        Err(_) => Value::String(format!("[{} bytes, not JSON]", bytes.len())),
    }
}

/// The most recent [`MAX_LOGGED_REQUESTS`] requests.
#[derive(Debug, Default)]
pub struct RequestLog {
    entries: Mutex<VecDeque<LoggedRequest>>,
    capture_exchanges: AtomicBool,
}

impl RequestLog {
    /// Switches the capture of [`LoggedExchange`]s for the requests logged from now on (off by
    /// default: it holds every body in memory, and is meant for tests that need to show them).
    pub fn capture_exchanges(&self, on: bool) {
        self.capture_exchanges.store(on, Ordering::Relaxed);
    }

    /// Whether exchanges are captured.
    pub fn captures_exchanges(&self) -> bool {
        self.capture_exchanges.load(Ordering::Relaxed)
    }

    /// Appends a request, forgetting the oldest one when full.
    pub fn push(&self, entry: LoggedRequest) {
        let mut entries = self.lock();
        if entries.len() >= MAX_LOGGED_REQUESTS {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// The logged requests, oldest first.
    pub fn list(&self) -> Vec<LoggedRequest> {
        self.lock().iter().cloned().collect()
    }

    /// Keeps only the requests for which `keep` is true.
    pub fn retain(&self, keep: impl FnMut(&LoggedRequest) -> bool) {
        self.lock().retain(keep);
    }

    /// Forgets every request.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<LoggedRequest>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_most_recent_requests() {
        let log = RequestLog::default();
        for i in 0..=MAX_LOGGED_REQUESTS {
            log.push(LoggedRequest {
                method: "GET".into(),
                path: format!("/v1/{i}"),
                status: Some(200),
                exchange: None,
            });
        }
        let entries = log.list();
        assert_eq!(entries.len(), MAX_LOGGED_REQUESTS);
        assert_eq!(entries[0].path, "/v1/1");
        log.clear();
        assert!(log.list().is_empty());
    }

    #[test]
    fn exchanges_keep_only_the_chosen_headers_and_redact_secrets() {
        let exchange = LoggedExchange::redacted(
            Some("limit=1&code=oauth"),
            [
                ("Authorization", b"Bearer api-key-1".as_slice()),
                ("User-Agent", b"node-fetch/1.0".as_slice()),
                ("X-Forwarded-For", b"10.0.0.1".as_slice()),
            ],
            br#"{"refresh_token":"rt-1","email":"ada@example.com"}"#,
            b"<html>",
        );
        assert_eq!(exchange.query.as_deref(), Some("limit=1&code=[redacted]"));
        assert_eq!(
            exchange.request_headers,
            BTreeMap::from([
                ("authorization".to_owned(), "Bearer [redacted]".to_owned()),
                ("user-agent".to_owned(), "node-fetch/1.0".to_owned()),
            ])
        );
        assert_eq!(
            exchange.request_body,
            serde_json::json!({"refresh_token": "[redacted]", "email": "ada@example.com"})
        );
        assert_eq!(
            exchange.response_body,
            Value::String("[6 bytes, not JSON]".into())
        );
        let shown = format!("{exchange:?}");
        assert!(!shown.contains("api-key-1") && !shown.contains("rt-1") && !shown.contains("oauth"));
    }
}
