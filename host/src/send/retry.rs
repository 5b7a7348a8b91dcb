//! When to try again: exponential backoff with jitter, and a cap on the
//! number of attempts. The jitter keeps a whole outbox that failed together
//! (the server was down) from retrying in one burst when it comes back.

use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure.
    pub base: Duration,
    /// The longest wait between two attempts.
    pub max: Duration,
    /// Attempts in all, the first one included; then the entry gives up.
    pub max_attempts: u32,
}

impl Backoff {
    /// The wait after `attempt` attempts failed (1 = the first one): `base ·
    /// 2^(attempt-1)`, capped at `max`, then a random point in its upper
    /// half ("equal jitter": never much sooner than planned, never later).
    pub fn delay(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        let planned = self.base.saturating_mul(1u32 << doublings).min(self.max);
        let half = planned / 2;
        half + half.mul_f64(rand::random::<f64>())
    }

    /// Whether another attempt is allowed after `attempts` were made.
    pub fn may_retry(&self, attempts: u32) -> bool {
        attempts < self.max_attempts
    }
}

/// `now` plus `delay`, in the store's milliseconds.
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
            max_attempts: 5,
        };
        for (attempt, planned) in [(1, 10), (2, 20), (3, 40), (4, 60), (9, 60), (200, 60)] {
            let planned = Duration::from_secs(planned);
            for _ in 0..50 {
                let d = b.delay(attempt);
                assert!(d >= planned / 2 && d <= planned, "attempt {attempt}: {d:?}");
            }
        }
        assert!(b.may_retry(4));
        assert!(!b.may_retry(5));
        assert_eq!(at(1_000, Duration::from_millis(500)), 1_500);
    }
}
