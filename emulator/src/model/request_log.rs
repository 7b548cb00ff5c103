//! The request log: every `/v1` request that reached the emulator, in order (for `GET /_emulator/requests`).

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

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
}

/// The most recent [`MAX_LOGGED_REQUESTS`] requests.
#[derive(Debug, Default)]
pub struct RequestLog {
    entries: Mutex<VecDeque<LoggedRequest>>,
}

impl RequestLog {
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
            });
        }
        let entries = log.list();
        assert_eq!(entries.len(), MAX_LOGGED_REQUESTS);
        assert_eq!(entries[0].path, "/v1/1");
        log.clear();
        assert!(log.list().is_empty());
    }
}
