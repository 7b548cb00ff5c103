//! CPU time of the calling thread (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)`), and paired rounds
//! that measure two closures by it and by the wall clock.

use std::time::{Duration, Instant};

/// The CPU time the calling thread has used so far (user and system).
pub fn now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant the kernel knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Per-call costs of a baseline and a candidate from paired rounds, by the thread's CPU time and
/// by the wall clock.
#[derive(Debug, Clone, Copy)]
pub struct Paired {
    /// Median CPU µs per call of the baseline.
    pub baseline_cpu_us: f64,
    /// Median CPU µs per call of the candidate.
    pub candidate_cpu_us: f64,
    /// Median over rounds of candidate CPU / baseline CPU.
    pub cpu_ratio: f64,
    /// Lowest and highest round's CPU ratio.
    pub cpu_range: (f64, f64),
    /// Median over rounds of candidate wall time / baseline wall time.
    pub wall_ratio: f64,
    /// Median wall µs per call of the baseline.
    pub baseline_wall_us: f64,
}

/// Runs `rounds` pairs of rounds, each `calls` calls of `baseline` and `calls` calls of
/// `candidate` on this thread (alternating which goes first), timing each side by this thread's
/// CPU time and by the wall clock; returns the medians.
pub fn paired_rounds(
    rounds: usize,
    calls: usize,
    mut baseline: impl FnMut(),
    mut candidate: impl FnMut(),
) -> Paired {
    let measure = |f: &mut dyn FnMut()| {
        let (cpu, wall) = (now(), Instant::now());
        for _ in 0..calls {
            f();
        }
        let per_call = |d: Duration| d.as_secs_f64() * 1e6 / calls as f64;
        (per_call(now() - cpu), per_call(wall.elapsed()))
    };
    let (mut base, mut cand, mut base_wall) = (Vec::new(), Vec::new(), Vec::new());
    let (mut cpu_ratios, mut wall_ratios) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let (b, c) = if round % 2 == 0 {
            let b = measure(&mut baseline);
            (b, measure(&mut candidate))
        } else {
            let c = measure(&mut candidate);
            (measure(&mut baseline), c)
        };
        base.push(b.0);
        cand.push(c.0);
        base_wall.push(b.1);
        cpu_ratios.push(c.0 / b.0);
        wall_ratios.push(c.1 / b.1);
    }
    let range = (
        cpu_ratios.iter().copied().fold(f64::INFINITY, f64::min),
        cpu_ratios.iter().copied().fold(0.0, f64::max),
    );
    Paired {
        baseline_cpu_us: crate::median(&base),
        candidate_cpu_us: crate::median(&cand),
        cpu_ratio: crate::median(&cpu_ratios),
        cpu_range: range,
        wall_ratio: crate::median(&wall_ratios),
        baseline_wall_us: crate::median(&base_wall),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thread_cpu_time_grows_with_work_and_not_with_sleep() {
        let start = super::now();
        std::thread::sleep(std::time::Duration::from_millis(30));
        let slept = super::now() - start;
        let start = super::now();
        let mut x = 0u64;
        for _ in 0..20_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        let worked = super::now() - start;
        assert!(worked > slept, "worked {worked:?}, slept {slept:?}");
    }
}
