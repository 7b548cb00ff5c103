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
    /// Milliseconds (kinds `delay` and `delay_after_processing`, default 1000).
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// Status for `truncated_body` / `non_json_body` (default 200).
    #[serde(default)]
    pub status: Option<u16>,
}

fn one() -> u32 {
    1
}

impl FaultRule {
    /// Whether the rule applies to a request.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        path.starts_with(&self.path_prefix)
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
    }
}

/// The armed faults.
#[derive(Debug, Default)]
pub struct FaultRegistry {
    rules: Mutex<Vec<FaultRule>>,
}

impl FaultRegistry {
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
}
