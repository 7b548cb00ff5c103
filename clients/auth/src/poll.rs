//! [`PollPolicy`]: how often and how long a waiter polls, and how a failed
//! attempt is classified (done, not yet, transient, fatal).

use std::time::Duration;

use crate::Error;
use passage_runtime::{Backoff, Jitter};

/// How a waiter spaces its attempts: exponential backoff with jitter (the
/// crate's one [`Backoff`]), bounded by an overall deadline.
///
/// ```
/// use std::time::Duration;
/// use passage_auth_client::PollPolicy;
///
/// let policy = PollPolicy::default()
///     .initial_interval(Duration::from_millis(500))
///     .max_wait(Duration::from_secs(120));
/// assert_eq!(policy.max_interval_value(), Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollPolicy {
    backoff: Backoff,
    max_wait: Duration,
}

impl Default for PollPolicy {
    /// 1 s growing by 1.5× to 5 s, ±10 % jitter, 5 minute deadline.
    fn default() -> Self {
        Self {
            backoff: Backoff::new(Duration::from_secs(1), Duration::from_secs(5))
                .factor(1.5)
                .jitter(Jitter::Proportional(0.1)),
            max_wait: Duration::from_secs(300),
        }
    }
}

impl PollPolicy {
    /// The delay after the first attempt.
    pub fn initial_interval(mut self, interval: Duration) -> Self {
        self.backoff = self.backoff.with_initial(interval);
        self
    }

    /// The factor applied to the delay after each attempt (values below 1 are taken as 1).
    pub fn multiplier(mut self, multiplier: f64) -> Self {
        self.backoff = self.backoff.factor(multiplier);
        self
    }

    /// The largest delay between two attempts (a `Retry-After` may ask for more).
    pub fn max_interval(mut self, interval: Duration) -> Self {
        self.backoff = self.backoff.with_max(interval);
        self
    }

    /// Random spread of each delay, as a fraction (0.1 = ±10 %; clamped to 0..=1).
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.backoff = self.backoff.jitter(Jitter::Proportional(jitter));
        self
    }

    /// The overall deadline, measured from the first attempt.
    pub fn max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// The configured initial interval.
    pub fn initial_interval_value(&self) -> Duration {
        self.backoff.initial()
    }

    /// The configured largest interval.
    pub fn max_interval_value(&self) -> Duration {
        self.backoff.max()
    }

    /// The configured deadline.
    pub fn max_wait_value(&self) -> Duration {
        self.max_wait
    }

    /// The backoff between attempts.
    pub fn backoff_value(&self) -> &Backoff {
        &self.backoff
    }

    /// The jittered delay after attempt `attempts` (1 after the first).
    pub(crate) fn delay_after(&self, attempts: u32) -> Duration {
        self.backoff.jittered_delay(attempts.saturating_sub(1))
    }
}

/// What one failed call means for a poller.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The server may answer differently later: back off (at least the given delay).
    Transient(Option<Duration>),
    /// Stop polling with this error.
    Fatal,
}

/// Classifies a failed call: 5xx, 429 and transport errors are transient
/// (with the server's `Retry-After`, if any); the rest is fatal.
pub(crate) fn classify(error: &Error) -> Failure {
    if error.is_transient() {
        Failure::Transient(retry_after(error))
    } else {
        Failure::Fatal
    }
}

/// The `Retry-After` of a transient answer (5xx, 429), in seconds or as an HTTP date.
pub(crate) fn retry_after(error: &Error) -> Option<Duration> {
    error.retry_after().filter(|_| error.is_transient())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    #[test]
    fn delays_grow_to_the_cap() {
        let p = PollPolicy::default()
            .initial_interval(Duration::from_secs(1))
            .multiplier(2.0)
            .max_interval(Duration::from_secs(5))
            .jitter(0.0);
        let secs: Vec<u64> = (1..=5).map(|n| p.delay_after(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 5, 5]);
    }

    #[test]
    fn jitter_stays_in_its_band() {
        let p = PollPolicy::default()
            .initial_interval(Duration::from_secs(10))
            .max_interval(Duration::from_secs(10))
            .jitter(0.5);
        for _ in 0..100 {
            let d = p.delay_after(1);
            assert!(
                d >= Duration::from_secs(5) && d <= Duration::from_secs(15),
                "{d:?}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn no_policy_panics(
            initial in proptest::num::u64::ANY,
            max in proptest::num::u64::ANY,
            multiplier in proptest::num::f64::ANY,
            jitter in proptest::num::f64::ANY,
            attempts in proptest::num::u32::ANY,
        ) {
            let p = PollPolicy::default()
                .initial_interval(Duration::from_secs(initial))
                .max_interval(Duration::from_secs(max))
                .multiplier(multiplier)
                .jitter(jitter)
                .max_wait(Duration::MAX);
            let d = p.delay_after(attempts);
            // At most the cap plus its jitter (at most ±100 %).
            proptest::prop_assert!(d <= passage_runtime::backoff::mul_f64(Duration::from_secs(max), 2.0));
        }
    }

    #[test]
    fn only_a_transient_answers_retry_after_counts() {
        let with =
            |status: StatusCode| Error::unexpected_status(status, Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after(&with(StatusCode::TOO_MANY_REQUESTS)),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&with(StatusCode::SERVICE_UNAVAILABLE)),
            Some(Duration::from_secs(7))
        );
        assert_eq!(retry_after(&with(StatusCode::IM_A_TEAPOT)), None);
    }
}
