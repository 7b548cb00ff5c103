//! The exchange recorder: when a harness turns it on ([`EmulatorConfig::record_exchanges`]), every
//! request that reaches the Auth or Management API is kept with the whole answer it got (status,
//! content type, body) and the injected fault that shaped it, for checks that need more than the
//! request log's status: the test harnesses' spec-conformance check, failure reports.
//!
//! Off by default: the bodies hold tokens and passcodes, and the list grows until it is taken.
//!
//! [`EmulatorConfig::record_exchanges`]: crate::settings::instance::EmulatorConfig::record_exchanges

use std::fmt;
use std::sync::{Mutex, MutexGuard};

use super::faults::FaultKind;

/// One request to the Auth or Management API and the answer it got.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Exchange {
    /// HTTP method.
    pub method: String,
    /// Path on the emulator's listener (`/v1/...` or `/management/v1/...`, also for a request
    /// that came through the intercepting proxy), without the query string.
    pub path: String,
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
        // The body may hold tokens and passcodes: only its length is shown.
        f.debug_struct("Exchange")
            .field("method", &self.method)
            .field("path", &self.path)
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
            status,
            content_type,
            body,
            fault,
        }
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
        recorder.record(Exchange::new(
            "POST",
            "/v1/apps/a/otp/activate",
            Some(200),
            Some("application/json".into()),
            br#"{"auth_result":{"auth_token":"secret-token"}}"#.to_vec(),
            None,
        ));
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
        assert!(!format!("{:?}", listed[0]).contains("secret-token"));
        assert_eq!(recorder.take(), listed);
        assert!(recorder.list().is_empty());
    }
}
