//! The faults armed through `/_emulator/faults` (what each kind does to a request is in
//! [`crate::http::fault_injection`]).

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// What an armed fault does to a matching request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer 500 `internal_server_error` without running the handler.
    Status500,
    /// Answer 503 without running the handler, with `Retry-After: retry_after` when it is set.
    Status503,
    /// Answer 429 with `Retry-After: retry_after` without running the handler.
    Status429,
    /// Wait `delay_ms`, then run the handler normally.
    Delay,
    /// Answer `status` (200 by default) with a JSON body cut short, without running the handler.
    TruncatedBody,
    /// Answer `status` (200 by default) with an HTML body, without running the handler.
    NonJsonBody,
    /// Close the connection without answering, without running the handler.
    DropConnection,
    /// Run the handler (its state changes happen), then close the connection without answering.
    DropAfterProcessing,
    /// Run the handler (its state changes happen), then hold its answer for `delay_ms` (default 1000).
    DelayAfterProcessing,
    /// Run the handler (its state changes happen), then hold its answer until the held answers
    /// are released ([`FaultRegistry::release_held`]: `POST /_emulator/faults/release`), or for
    /// `delay_ms` when that is set (at most [`MAX_FAULT_DELAY_MS`], also the limit without it).
    /// A test waits for the answer to be held ([`FaultRegistry::held_answers`]) instead of for time.
    HoldAfterProcessing,
}

/// An armed fault.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FaultRule {
    /// Requests whose path starts with this are affected (e.g. `/v1/apps/x/tokens`).
    pub path_prefix: String,
    /// Only this method (any when absent).
    #[serde(default)]
    pub method: Option<String>,
    /// How many matching requests to affect.
    #[serde(default = "one")]
    pub count: u32,
    /// The fault.
    pub kind: FaultKind,
    /// Seconds for `Retry-After` (kind `status429`, default 1).
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// Milliseconds (kinds `delay` and `delay_after_processing`, default 1000; the longest hold of
    /// `hold_after_processing`).
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// Status for `truncated_body` / `non_json_body` (default 200).
    #[serde(default)]
    pub status: Option<u16>,
}

fn one() -> u32 {
    1
}

/// Longest delay a fault may hold a request (10 minutes).
pub const MAX_FAULT_DELAY_MS: u64 = 600_000;

/// Why a fault rule cannot be armed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidFault {
    /// `count` is 0.
    #[error("count must be at least 1")]
    ZeroCount,
    /// `delay_ms` above [`MAX_FAULT_DELAY_MS`].
    #[error("delay_ms must be at most 600000")]
    DelayTooLong,
    /// A `status` a client cannot receive with a body: outside 200..=599, or 204, 205 and 304,
    /// which carry no body (1xx answers are interim and never final).
    #[error(
        "status must be between 200 and 599, and not 204, 205 or 304 (answers without a body)"
    )]
    Status(u16),
}

impl FaultRule {
    /// Checks the rule can be armed: a count, a bounded delay, and a status that a client can
    /// receive with the body the fault sends.
    pub fn check(&self) -> Result<(), InvalidFault> {
        if self.count == 0 {
            return Err(InvalidFault::ZeroCount);
        }
        if self.delay_ms.is_some_and(|ms| ms > MAX_FAULT_DELAY_MS) {
            return Err(InvalidFault::DelayTooLong);
        }
        if let Some(status) = self.status {
            if !(200..=599).contains(&status) || matches!(status, 204 | 205 | 304) {
                return Err(InvalidFault::Status(status));
            }
        }
        Ok(())
    }

    /// Whether the rule applies to a request.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        path.starts_with(&self.path_prefix)
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
    }
}

/// The armed faults, and the answers held by `hold_after_processing`.
#[derive(Debug)]
pub struct FaultRegistry {
    rules: Mutex<Vec<FaultRule>>,
    /// How many answers are held now.
    held: tokio::sync::watch::Sender<usize>,
    /// Bumped by every release: the answers held before it go out.
    releases: tokio::sync::watch::Sender<u64>,
    /// Holds that ran out their limit (their answer went out unreleased).
    expired: std::sync::atomic::AtomicUsize,
}

impl Default for FaultRegistry {
    fn default() -> Self {
        Self {
            rules: Mutex::default(),
            held: tokio::sync::watch::Sender::new(0),
            releases: tokio::sync::watch::Sender::new(0),
            expired: std::sync::atomic::AtomicUsize::new(0),
        }
    }
}

impl FaultRegistry {
    /// Holds an answer until the next [`release_held`](Self::release_held) or for `limit`,
    /// whichever comes first; counted in [`held_answers`](Self::held_answers) meanwhile.
    pub async fn hold(&self, limit: std::time::Duration) {
        let mut releases = self.releases.subscribe();
        releases.mark_unchanged();
        self.held.send_modify(|n| *n += 1);
        // Counted out however the hold ends (released, timed out, or the connection dropped).
        let _count = HeldCount(&self.held);
        if tokio::time::timeout(limit, releases.changed())
            .await
            .is_err()
        {
            self.expired
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// How many holds ran out their limit, so that their answer went out unreleased. A hold that
    /// was released, or whose client hung up (the request dropped), is not counted: a test tells
    /// by it whether a client waited for a held answer or gave up on it.
    pub fn holds_expired(&self) -> usize {
        self.expired.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Sends every answer held now.
    pub fn release_held(&self) {
        self.releases.send_modify(|generation| *generation += 1);
    }

    /// The number of answers held now, to wait on (e.g. `wait_for(|n| *n >= 1)`).
    pub fn held_answers(&self) -> tokio::sync::watch::Receiver<usize> {
        self.held.subscribe()
    }

    /// Arms a fault.
    pub fn add(&self, rule: FaultRule) {
        if rule.count > 0 {
            self.lock().push(rule);
        }
    }

    /// Disarms every fault.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Disarms the faults for which `keep` is false.
    pub fn retain(&self, keep: impl FnMut(&FaultRule) -> bool) {
        self.lock().retain(keep);
    }

    /// The armed faults and their remaining counts.
    pub fn list(&self) -> Vec<FaultRule> {
        self.lock().clone()
    }

    /// Takes one use of the first fault matching the request.
    pub fn take(&self, method: &str, path: &str) -> Option<FaultRule> {
        let mut rules = self.lock();
        let idx = rules.iter().position(|r| r.matches(method, path))?;
        let rule = rules[idx].clone();
        rules[idx].count -= 1;
        if rules[idx].count == 0 {
            rules.remove(idx);
        }
        Some(rule)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<FaultRule>> {
        self.rules.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Takes one held answer off the count when dropped.
struct HeldCount<'a>(&'a tokio::sync::watch::Sender<usize>);

impl Drop for HeldCount<'_> {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_count_down_and_match_method() {
        let reg = FaultRegistry::default();
        reg.add(FaultRule {
            path_prefix: "/v1/apps/a/tokens".into(),
            method: Some("POST".into()),
            count: 2,
            kind: FaultKind::Status500,
            retry_after: None,
            delay_ms: None,
            status: None,
        });
        assert!(reg.take("DELETE", "/v1/apps/a/tokens").is_none());
        assert!(reg.take("post", "/v1/apps/a/tokens").is_some());
        assert!(reg.take("POST", "/v1/apps/a/tokens").is_some());
        assert!(reg.take("POST", "/v1/apps/a/tokens").is_none());
        assert!(reg.list().is_empty());
    }

    #[test]
    fn only_statuses_a_client_can_receive_with_a_body_are_armed() {
        let rule = |status: Option<u16>| FaultRule {
            path_prefix: "/v1".into(),
            method: None,
            count: 1,
            kind: FaultKind::NonJsonBody,
            retry_after: None,
            delay_ms: None,
            status,
        };
        for ok in [None, Some(200), Some(201), Some(404), Some(502), Some(599)] {
            assert_eq!(rule(ok).check(), Ok(()), "{ok:?}");
        }
        for bad in [0, 99, 100, 101, 199, 204, 205, 304, 600, 999] {
            assert_eq!(rule(Some(bad)).check(), Err(InvalidFault::Status(bad)));
        }
        let zero = FaultRule {
            count: 0,
            ..rule(None)
        };
        assert_eq!(zero.check(), Err(InvalidFault::ZeroCount));
    }

    #[test]
    fn kinds_parse_from_snake_case() {
        let rule: FaultRule =
            serde_json::from_str(r#"{"path_prefix":"/v1","kind":"status429","retry_after":3}"#)
                .unwrap();
        assert_eq!(rule.kind, FaultKind::Status429);
        assert_eq!(rule.count, 1);
        let rule: FaultRule = serde_json::from_str(
            r#"{"path_prefix":"/v1","kind":"delay_after_processing","delay_ms":1500}"#,
        )
        .unwrap();
        assert_eq!(rule.kind, FaultKind::DelayAfterProcessing);
        assert_eq!(rule.delay_ms, Some(1500));
    }

    #[tokio::test]
    async fn a_held_answer_is_counted_until_released() {
        let reg = std::sync::Arc::new(FaultRegistry::default());
        let mut held = reg.held_answers();
        let holder = {
            let reg = reg.clone();
            tokio::spawn(async move { reg.hold(std::time::Duration::from_secs(600)).await })
        };
        held.wait_for(|n| *n == 1).await.unwrap();
        assert!(!holder.is_finished());
        reg.release_held();
        holder.await.unwrap();
        assert_eq!(*held.borrow(), 0, "counted out once released");
        // A release before a hold starts does not release it.
        reg.release_held();
        let early = {
            let reg = reg.clone();
            tokio::spawn(async move { reg.hold(std::time::Duration::from_secs(600)).await })
        };
        held.wait_for(|n| *n == 1).await.unwrap();
        assert!(!early.is_finished());
        reg.release_held();
        early.await.unwrap();
        assert_eq!(reg.holds_expired(), 0, "released holds did not expire");
    }

    #[tokio::test]
    async fn only_a_hold_that_runs_out_its_limit_counts_as_expired() {
        let reg = std::sync::Arc::new(FaultRegistry::default());
        let limit = std::time::Duration::from_secs(600);
        let mut held = reg.held_answers();
        // Dropped while held (a client that hung up): not expired.
        let dropped = {
            let reg = reg.clone();
            tokio::spawn(async move { reg.hold(limit).await })
        };
        held.wait_for(|n| *n == 1).await.unwrap();
        dropped.abort();
        assert!(dropped.await.unwrap_err().is_cancelled());
        held.wait_for(|n| *n == 0).await.unwrap();
        assert_eq!(reg.holds_expired(), 0);
        // Left alone: it runs out its limit.
        reg.hold(std::time::Duration::from_millis(5)).await;
        assert_eq!(reg.holds_expired(), 1);
    }
}
