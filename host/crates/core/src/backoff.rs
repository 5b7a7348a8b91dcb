//! When to try again after a failure, for everything the host retries
//! (sending, syncing an account, writing a change back to a server, push
//! connections): exponential backoff with jitter. The jitter keeps what
//! failed together (a server was down) from retrying in one burst when it
//! comes back.

use std::time::Duration;

/// `base · 2^(failures-1)`, capped at `max`, then a random point in its
/// upper half ("equal jitter": never much sooner than planned, never later).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure.
    pub base: Duration,
    /// The longest wait between two attempts.
    pub max: Duration,
}

impl Backoff {
    /// The wait after `failures` consecutive failures (1 = the first one),
    /// before jitter.
    pub fn planned(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(30);
        self.base.saturating_mul(1u32 << doublings).min(self.max)
    }

    /// The wait after `failures` consecutive failures, jittered.
    pub fn delay(&self, failures: u32) -> Duration {
        self.delay_with(failures, rand::random::<f64>())
    }

    /// [`delay`](Self::delay) with the random draw given (`jitter` in 0..=1),
    /// so callers' tests can pin it.
    pub fn delay_with(&self, failures: u32, jitter: f64) -> Duration {
        let half = self.planned(failures) / 2;
        half + half.mul_f64(jitter.clamp(0.0, 1.0))
    }
}

/// `now` (the store's milliseconds) plus `delay`, saturating.
pub fn at(now: i64, delay: Duration) -> i64 {
    now.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_with_jitter_in_the_upper_half() {
        let b = Backoff {
            base: Duration::from_secs(10),
            max: Duration::from_secs(60),
        };
        for (failures, planned) in [(1, 10), (2, 20), (3, 40), (4, 60), (9, 60), (200, 60)] {
            let planned = Duration::from_secs(planned);
            assert_eq!(b.planned(failures), planned);
            for _ in 0..50 {
                let d = b.delay(failures);
                assert!(
                    d >= planned / 2 && d <= planned,
                    "failure {failures}: {d:?}"
                );
            }
        }
        assert_eq!(b.delay_with(1, 0.0), Duration::from_secs(5));
        assert_eq!(b.delay_with(1, 1.0), Duration::from_secs(10));
        assert_eq!(at(1_000, Duration::from_millis(500)), 1_500);
        assert_eq!(at(i64::MAX - 1, Duration::from_secs(1)), i64::MAX);
    }
}
