//! Injectable clock: real time plus an offset that admin calls can advance.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Latest emulator time (9999-12-31T23:59:59Z): far enough that any expiry added to it stays in `i64`
/// and still formats as RFC 3339.
pub const MAX_EMULATOR_TIME: i64 = 253_402_300_799;

/// Emulator clock; every expiry (passcodes, links, tokens, JWT claims) reads it.
#[derive(Debug, Default)]
pub struct Clock {
    offset_seconds: AtomicI64,
}

impl Clock {
    /// A clock that starts at real time.
    pub fn new() -> Self {
        Self::default()
    }

    /// Current emulator time, in Unix seconds (kept between 0 and [`MAX_EMULATOR_TIME`]).
    pub fn now(&self) -> i64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        real.saturating_add(self.offset_seconds.load(Ordering::SeqCst))
            .clamp(0, MAX_EMULATOR_TIME)
    }

    /// Moves the clock by `seconds` (the admin API only allows forward steps); saturates instead of
    /// overflowing. Returns the new emulator time.
    pub fn advance(&self, seconds: i64) -> i64 {
        let _ = self
            .offset_seconds
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |offset| {
                Some(offset.saturating_add(seconds))
            });
        self.now()
    }

    /// How far the clock is ahead of real time.
    pub fn offset_seconds(&self) -> i64 {
        self.offset_seconds.load(Ordering::SeqCst)
    }
}

/// Formats Unix seconds as RFC 3339 UTC text.
pub fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_now() {
        let clock = Clock::new();
        let before = clock.now();
        clock.advance(3600);
        assert!(clock.now() >= before + 3600);
        assert_eq!(clock.offset_seconds(), 3600);
    }

    #[test]
    fn extreme_advances_stay_in_range() {
        let clock = Clock::new();
        assert_eq!(clock.advance(i64::MAX), MAX_EMULATOR_TIME);
        assert_eq!(clock.advance(i64::MAX), MAX_EMULATOR_TIME);
        assert_eq!(rfc3339(clock.now()), "9999-12-31T23:59:59Z");
        // Expiries computed from the clock cannot overflow.
        assert!(clock.now().checked_add(100 * 365 * 24 * 3600).is_some());
        let clock = Clock::new();
        assert_eq!(clock.advance(i64::MIN), 0);
        assert!(clock.now().checked_sub(5).is_some());
    }

    #[test]
    fn formats_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
