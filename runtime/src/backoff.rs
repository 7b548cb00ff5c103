//! [`Backoff`]: the one exponential backoff of every client, shared by the
//! retries ([`RetryPolicy`](crate::RetryPolicy)) and by the client crates'
//! waiters and sessions (their polling, refresh attempts and cool-downs).
//!
//! Every computation saturates: no delay, factor, jitter or deadline can make
//! it panic or wrap, whatever the inputs (`Duration::MAX` included).

use std::time::{Duration, SystemTime};

/// How a delay is spread at random, so that clients that failed together do
/// not all retry at the same instant.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Jitter {
    /// The delay as computed.
    None,
    /// A uniformly random delay between zero and the computed one ("full jitter").
    Full,
    /// The computed delay times a uniformly random factor in `1 - f ..= 1 + f`
    /// (`f` is clamped to `0..=1`; `Proportional(0.1)` is ±10 %).
    Proportional(f64),
}

/// Exponential backoff: the `n`th delay (from 0) is `initial × factor^n`,
/// at most `max`, then spread by the [`Jitter`].
///
/// ```
/// use std::time::Duration;
/// use passage_runtime::backoff::Backoff;
///
/// let backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(5));
/// let delays: Vec<u64> = (0..5).map(|n| backoff.delay(n).as_secs()).collect();
/// assert_eq!(delays, [1, 2, 4, 5, 5]);
/// // Nothing overflows: the cap holds for any attempt number.
/// assert_eq!(backoff.delay(u32::MAX), Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    initial: Duration,
    factor: f64,
    max: Duration,
    jitter: Jitter,
}

// `factor` is always finite (see `Backoff::factor`), so equality is total.
impl Eq for Backoff {}

impl Backoff {
    /// Starts at `initial`, doubles, never exceeds `max`; no jitter.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            factor: 2.0,
            max,
            jitter: Jitter::None,
        }
    }

    /// The growth factor between two delays (below 1, NaN or infinite: 1).
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = if factor.is_finite() {
            factor.max(1.0)
        } else {
            1.0
        };
        self
    }

    /// The random spread of each delay (default [`Jitter::None`]).
    pub fn jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = match jitter {
            Jitter::Proportional(f) if f.is_finite() => Jitter::Proportional(f.clamp(0.0, 1.0)),
            Jitter::Proportional(_) => Jitter::None,
            other => other,
        };
        self
    }

    /// The same backoff starting at `initial`.
    pub fn with_initial(mut self, initial: Duration) -> Self {
        self.initial = initial;
        self
    }

    /// The same backoff capped at `max`.
    pub fn with_max(mut self, max: Duration) -> Self {
        self.max = max;
        self
    }

    /// The first delay.
    pub fn initial(&self) -> Duration {
        self.initial
    }

    /// The largest delay (before jitter).
    pub fn max(&self) -> Duration {
        self.max
    }

    /// The growth factor.
    pub fn growth(&self) -> f64 {
        self.factor
    }

    /// The jitter.
    pub fn spread(&self) -> Jitter {
        self.jitter
    }

    /// The delay before jitter after `n` earlier delays: `initial × factor^n`, at most `max`.
    pub fn delay(&self, n: u32) -> Duration {
        let cap = self.max.min(Duration::MAX);
        let initial = self.initial.min(cap);
        if self.factor == 1.0 || n == 0 {
            return initial;
        }
        // In nanoseconds as f64: exact for every delay below ~104 days, and
        // doubling stays exact; anything non-finite or past the cap is the cap.
        let exponent = i32::try_from(n).unwrap_or(i32::MAX);
        let nanos = initial.as_nanos() as f64 * self.factor.powi(exponent);
        if !nanos.is_finite() || nanos >= cap.as_nanos() as f64 {
            return cap;
        }
        duration_from_nanos_f64(nanos).min(cap)
    }

    /// `delay` spread by this backoff's jitter.
    pub fn jittered(&self, delay: Duration) -> Duration {
        match self.jitter {
            Jitter::None => delay,
            _ if delay.is_zero() => delay,
            Jitter::Full => {
                let cap = u64::try_from(delay.as_nanos()).unwrap_or(u64::MAX);
                let nanos = fastrand::u64(0..=cap);
                // Above 584 years the nanosecond draw would overflow: scale instead.
                if u128::from(cap) < delay.as_nanos() {
                    mul_f64(delay, nanos as f64 / cap as f64)
                } else {
                    Duration::from_nanos(nanos)
                }
            }
            Jitter::Proportional(f) if f > 0.0 => {
                let factor = (1.0 - f) + 2.0 * f * fastrand::f64();
                mul_f64(delay, factor)
            }
            Jitter::Proportional(_) => delay,
        }
    }

    /// The jittered delay after `n` earlier delays.
    pub fn jittered_delay(&self, n: u32) -> Duration {
        self.jittered(self.delay(n))
    }

    /// The jittered delays in order, without end (`take` what is needed).
    pub fn delays(&self) -> impl Iterator<Item = Duration> + '_ {
        (0..=u32::MAX)
            .chain(std::iter::repeat(u32::MAX))
            .map(|n| self.jittered_delay(n))
    }
}

fn duration_from_nanos_f64(nanos: f64) -> Duration {
    Duration::try_from_secs_f64(nanos / 1e9)
        .map(|d| {
            // Round to the nearest nanosecond: keeps 0.1 s × 2 at exactly 0.2 s.
            let rounded = nanos.round();
            if rounded < u64::MAX as f64 {
                Duration::from_nanos(rounded as u64)
            } else {
                d
            }
        })
        .unwrap_or(Duration::MAX)
}

/// `d × factor`, saturating at `Duration::MAX` (and zero for a negative or NaN factor).
pub fn mul_f64(d: Duration, factor: f64) -> Duration {
    if factor.is_nan() || factor <= 0.0 {
        return Duration::ZERO;
    }
    Duration::try_from_secs_f64(d.as_secs_f64() * factor).unwrap_or(Duration::MAX)
}

/// About thirty years: what "never" means for a deadline that would overflow.
const FAR_FUTURE: Duration = Duration::from_secs(30 * 365 * 86_400);

/// `start + wait`, or a point about thirty years ahead when that overflows.
pub fn instant_after(start: tokio::time::Instant, wait: Duration) -> tokio::time::Instant {
    start
        .checked_add(wait)
        .or_else(|| start.checked_add(FAR_FUTURE))
        .unwrap_or(start)
}

/// `start + wait`, or a point about thirty years ahead when that overflows.
pub fn time_after(start: SystemTime, wait: Duration) -> SystemTime {
    start
        .checked_add(wait)
        .or_else(|| start.checked_add(FAR_FUTURE))
        .unwrap_or(start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_duration() -> impl Strategy<Value = Duration> {
        prop_oneof![
            Just(Duration::ZERO),
            Just(Duration::MAX),
            (0u64..=u64::MAX, 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n)),
            (0u64..10_000_000_000).prop_map(Duration::from_nanos),
        ]
    }

    fn any_factor() -> impl Strategy<Value = f64> {
        prop_oneof![
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(f64::MAX),
            Just(0.0),
            -10.0f64..1e6,
        ]
    }

    fn any_jitter() -> impl Strategy<Value = Jitter> {
        prop_oneof![
            Just(Jitter::None),
            Just(Jitter::Full),
            any_factor().prop_map(Jitter::Proportional),
        ]
    }

    #[test]
    fn doubling_is_exact() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_millis(300));
        let ms: Vec<u128> = (0..4).map(|n| b.delay(n).as_millis()).collect();
        assert_eq!(ms, [100, 200, 300, 300]);
        let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(60));
        assert_eq!(b.delay(1), Duration::from_millis(200));
        assert_eq!(b.delay(3), Duration::from_millis(800));
    }

    #[test]
    fn proportional_jitter_stays_in_its_band() {
        let b = Backoff::new(Duration::from_secs(10), Duration::from_secs(10))
            .jitter(Jitter::Proportional(0.5));
        for _ in 0..100 {
            let d = b.jittered_delay(0);
            assert!(
                (Duration::from_secs(5)..=Duration::from_secs(15)).contains(&d),
                "{d:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn no_input_panics_and_the_cap_holds(
            initial in any_duration(),
            max in any_duration(),
            factor in any_factor(),
            jitter in any_jitter(),
            n in any::<u32>(),
        ) {
            let b = Backoff::new(initial, max).factor(factor).jitter(jitter);
            let delay = b.delay(n);
            prop_assert!(delay <= max);
            prop_assert!(delay <= initial.max(max));
            let jittered = b.jittered(delay);
            match b.spread() {
                Jitter::None => prop_assert_eq!(jittered, delay),
                Jitter::Full => prop_assert!(jittered <= delay),
                Jitter::Proportional(f) => {
                    prop_assert!((0.0..=1.0).contains(&f));
                    prop_assert!(jittered <= mul_f64(delay, 2.0));
                }
                #[allow(unreachable_patterns)]
                _ => {}
            }
            // Delays never shrink before jitter.
            if n > 0 {
                prop_assert!(b.delay(n - 1) <= delay);
            }
            let _ = b.delays().take(3).count();
        }

        #[test]
        fn deadlines_saturate(wait in any_duration(), factor in any_factor()) {
            let now = tokio::time::Instant::now();
            prop_assert!(instant_after(now, wait) >= now);
            let t = SystemTime::now();
            prop_assert!(time_after(t, wait) >= t);
            let _ = mul_f64(wait, factor);
        }
    }
}
