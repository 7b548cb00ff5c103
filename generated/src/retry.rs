//! Retry policy of the client: bounded attempts within a time budget,
//! exponential backoff with full jitter, `Retry-After` honoured.
//!
//! Which operations may be retried is not decided here: the spec declares it
//! per operation (`x-idempotent`, in [`crate::operations::OPERATIONS`]).
//! - idempotent operations retry on connection errors, timeouts, 429, 500,
//!   502, 503 and 504;
//! - the others (they send an e-mail or SMS, consume a one-time secret or
//!   rotate a token) retry only when the request provably never reached the
//!   server: a connection error.

use std::time::Duration;

use backon::BackoffBuilder;
use rand::Rng;
use reqwest::StatusCode;

/// How the client retries a failed call.
///
/// ```
/// use std::time::Duration;
/// use passage_auth_client::RetryPolicy;
/// let patient = RetryPolicy::default().max_attempts(5).budget(Duration::from_secs(30));
/// let never = RetryPolicy::none();
/// # let _ = (patient, never);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    budget: Duration,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// 3 attempts, backoff from 100 ms up to 2 s, 10 s in all, `Retry-After` up to 5 s.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            budget: Duration::from_secs(10),
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
        self.initial_backoff = backoff;
        self
    }

    /// The longest backoff between two attempts (before jitter).
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
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

    /// The capped exponential delays between attempts (before jitter).
    pub(crate) fn backoffs(&self) -> impl Iterator<Item = Duration> {
        backon::ExponentialBuilder::default()
            .with_min_delay(self.initial_backoff)
            .with_max_delay(self.max_backoff)
            .with_factor(2.0)
            .with_max_times(self.max_attempts.saturating_sub(1) as usize)
            .build()
    }

    /// Full jitter: a uniformly random wait between zero and `cap`.
    pub(crate) fn jitter(cap: Duration) -> Duration {
        if cap.is_zero() {
            return cap;
        }
        let nanos = rand::thread_rng().gen_range(0..=cap.as_nanos().min(u64::MAX as u128) as u64);
        Duration::from_nanos(nanos)
    }

    /// The `Retry-After` wait this policy accepts, if any.
    pub(crate) fn accept_retry_after(&self, wait: Duration) -> Option<Duration> {
        (wait <= self.max_retry_after).then_some(wait)
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
pub(crate) fn is_transient_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

/// `Retry-After` as a wait: delta-seconds or an HTTP date (a date in the past is no wait).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = date.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    #[test]
    fn backoffs_double_up_to_the_cap_and_stop_at_the_attempts() {
        let policy = RetryPolicy::default()
            .max_attempts(5)
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(300));
        let delays: Vec<u128> = policy.backoffs().map(|d| d.as_millis()).collect();
        assert_eq!(delays, [100, 200, 300, 300]);
        assert_eq!(RetryPolicy::none().backoffs().count(), 0);
    }

    #[test]
    fn jitter_stays_within_the_cap() {
        for _ in 0..100 {
            assert!(RetryPolicy::jitter(Duration::from_millis(50)) <= Duration::from_millis(50));
        }
        assert_eq!(RetryPolicy::jitter(Duration::ZERO), Duration::ZERO);
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
