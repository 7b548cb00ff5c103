//! Retry policy of the client: bounded attempts within a time budget,
//! exponential backoff with full jitter, `Retry-After` honoured.
//!
//! Which operations may be retried is not decided here: the spec declares it
//! per operation (`x-idempotent`, in each generated crate's operation table,
//! [`crate::OperationSpec::idempotent`]).
//! - idempotent operations retry on connection errors, timeouts, 429, 500,
//!   502, 503 and 504;
//! - the others (they send an e-mail or SMS, consume a one-time secret or
//!   rotate a token) retry only when the request provably never reached the
//!   server: a connection error.

use std::time::Duration;

use reqwest::StatusCode;

use crate::backoff::{Backoff, Jitter};

/// How the client retries a failed call.
///
/// ```
/// use std::time::Duration;
/// use passage_runtime::RetryPolicy;
/// let patient = RetryPolicy::default().max_attempts(5).budget(Duration::from_secs(30));
/// let never = RetryPolicy::none();
/// # let _ = (patient, never);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    backoff: Backoff,
    budget: Duration,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// 3 attempts, backoff from 100 ms up to 2 s (full jitter), 25 s in all,
    /// `Retry-After` up to 5 s. The budget leaves room for a second attempt
    /// after one that took the whole default request timeout
    /// ([`crate::DEFAULT_TIMEOUT`]).
    fn default() -> Self {
        Self {
            max_attempts: 3,
            backoff: Backoff::new(Duration::from_millis(100), Duration::from_secs(2))
                .jitter(Jitter::Full),
            budget: Duration::from_secs(25),
            max_retry_after: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// One attempt, never a retry.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Attempts in all, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The first backoff (before jitter); it doubles up to [`Self::max_backoff`].
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.backoff = self.backoff.with_initial(backoff);
        self
    }

    /// The longest backoff between two attempts (before jitter).
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.backoff = self.backoff.with_max(backoff);
        self
    }

    /// The whole backoff (growth, cap and jitter; the default has full jitter).
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Total time for all attempts and waits; no retry starts after it.
    pub fn budget(mut self, budget: Duration) -> Self {
        self.budget = budget;
        self
    }

    /// The longest `Retry-After` the client waits for; a longer one ends the retries.
    pub fn max_retry_after(mut self, wait: Duration) -> Self {
        self.max_retry_after = wait;
        self
    }

    /// Attempts in all.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The time budget.
    pub fn time_budget(&self) -> Duration {
        self.budget
    }

    /// The backoff between attempts.
    pub fn backoff_value(&self) -> &Backoff {
        &self.backoff
    }

    /// The `Retry-After` wait this policy accepts, if any.
    pub(crate) fn accept_retry_after(&self, wait: Duration) -> Option<Duration> {
        (wait <= self.max_retry_after).then_some(wait)
    }

    /// The wait before another attempt, after `attempt` attempts (1 after
    /// the first) that took `elapsed`, the server having asked for
    /// `retry_after`; `None` when no attempt may follow (attempts used up, a
    /// `Retry-After` beyond [`Self::max_retry_after`], or the wait would end
    /// past the budget).
    pub fn wait_before_retry(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        elapsed: Duration,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let wait = match retry_after {
            Some(after) => self.accept_retry_after(after)?,
            None => self.backoff.jittered_delay(attempt.saturating_sub(1)),
        };
        (elapsed.saturating_add(wait) < self.budget).then_some(wait)
    }
}

/// What a failed attempt means for the next one.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Hand the result to the caller.
    Done,
    /// Try again (after the given server-requested wait, if any).
    Retry(Option<Duration>),
}

/// Classifies an answered attempt.
pub(crate) fn classify_status(
    status: StatusCode,
    headers: &reqwest::header::HeaderMap,
    idempotent: bool,
) -> Verdict {
    if !(idempotent && is_transient_status(status)) {
        return Verdict::Done;
    }
    Verdict::Retry(retry_after(headers))
}

/// Classifies a transport failure.
pub(crate) fn classify_error(error: &reqwest::Error, idempotent: bool) -> Verdict {
    if error.is_connect()
        || (idempotent && (error.is_timeout() || error.is_request() || error.is_body()))
    {
        Verdict::Retry(None)
    } else {
        Verdict::Done
    }
}

/// Statuses that a later attempt may not repeat: 429 and the 5xx that mean
/// "not now" (500, 502, 503, 504); 501 and 505 will not change on a retry.
pub fn is_transient_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

/// `Retry-After` as a wait: delta-seconds or an HTTP date (a date in the past is no wait).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = std::time::SystemTime::from(chrono::DateTime::parse_from_rfc2822(value).ok()?);
    Some(
        date.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    fn any_duration() -> impl Strategy<Value = Duration> {
        prop_oneof![
            Just(Duration::ZERO),
            Just(Duration::MAX),
            (any::<u64>(), 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n)),
            (0u64..100_000_000_000).prop_map(Duration::from_nanos),
        ]
    }

    proptest! {
        #[test]
        fn no_policy_or_retry_after_panics(
            attempts in any::<u32>(),
            initial in any_duration(),
            max in any_duration(),
            budget in any_duration(),
            max_retry_after in any_duration(),
            attempt in any::<u32>(),
            retry_after in proptest::option::of(any_duration()),
            elapsed in any_duration(),
        ) {
            let policy = RetryPolicy::default()
                .max_attempts(attempts)
                .initial_backoff(initial)
                .max_backoff(max)
                .budget(budget)
                .max_retry_after(max_retry_after);
            if let Some(wait) = policy.wait_before_retry(attempt, retry_after, elapsed) {
                prop_assert!(attempt < policy.attempts());
                prop_assert!(elapsed.saturating_add(wait) < budget);
                match retry_after {
                    Some(after) => prop_assert_eq!(wait, after),
                    None => prop_assert!(wait <= max),
                }
            }
        }

        #[test]
        fn any_retry_after_header_parses_without_panicking(
            value in prop_oneof![
                any::<u64>().prop_map(|s| s.to_string()),
                "[ -~]{0,40}",
                Just("Fri, 31 Dec 9999 23:59:59 GMT".to_string()),
                Just("Thu, 01 Jan 1970 00:00:00 GMT".to_string()),
            ],
        ) {
            let mut headers = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(RETRY_AFTER, v);
            }
            if let Some(wait) = retry_after(&headers) {
                // A wait this long is refused, never added up into a panic.
                let policy = RetryPolicy::default().max_attempts(2);
                let _ = policy.wait_before_retry(1, Some(wait), Duration::MAX);
            }
        }
    }

    #[test]
    fn retries_stop_at_the_attempts_the_budget_and_a_long_retry_after() {
        let policy = RetryPolicy::default()
            .max_attempts(3)
            .backoff(Backoff::new(
                Duration::from_millis(100),
                Duration::from_millis(300),
            ))
            .budget(Duration::from_secs(1));
        let ms = |w: Option<Duration>| w.map(|d| d.as_millis());
        assert_eq!(
            ms(policy.wait_before_retry(1, None, Duration::ZERO)),
            Some(100)
        );
        assert_eq!(
            ms(policy.wait_before_retry(2, None, Duration::ZERO)),
            Some(200)
        );
        assert_eq!(policy.wait_before_retry(3, None, Duration::ZERO), None);
        assert_eq!(
            policy.wait_before_retry(1, None, Duration::from_millis(950)),
            None,
            "the wait would end past the budget"
        );
        assert_eq!(
            ms(policy.wait_before_retry(1, Some(Duration::from_millis(500)), Duration::ZERO)),
            Some(500)
        );
        assert_eq!(
            policy.wait_before_retry(1, Some(Duration::from_secs(6)), Duration::ZERO),
            None
        );
        assert_eq!(
            RetryPolicy::none().wait_before_retry(1, None, Duration::ZERO),
            None
        );
    }

    #[test]
    fn full_jitter_stays_within_the_delay() {
        let policy = RetryPolicy::default().max_attempts(2).budget(Duration::MAX);
        for _ in 0..100 {
            let wait = policy.wait_before_retry(1, None, Duration::ZERO).unwrap();
            assert!(wait <= Duration::from_millis(100), "{wait:?}");
        }
    }

    #[test]
    fn statuses_retry_only_for_idempotent_operations() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            classify_status(StatusCode::SERVICE_UNAVAILABLE, &headers, true),
            Verdict::Retry(None)
        );
        assert_eq!(
            classify_status(StatusCode::SERVICE_UNAVAILABLE, &headers, false),
            Verdict::Done
        );
        assert_eq!(
            classify_status(StatusCode::BAD_REQUEST, &headers, true),
            Verdict::Done
        );
        assert_eq!(
            classify_status(StatusCode::OK, &headers, true),
            Verdict::Done
        );
        headers.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(
            classify_status(StatusCode::TOO_MANY_REQUESTS, &headers, true),
            Verdict::Retry(Some(Duration::from_secs(2)))
        );
        assert_eq!(
            RetryPolicy::default().accept_retry_after(Duration::from_secs(60)),
            None
        );
    }
}
