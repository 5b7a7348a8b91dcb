//! How often an outgoing message (or its copy to Sent) is tried: the host's
//! one backoff, plus a cap on the number of attempts after which the entry
//! gives up and says so.

use mailroom_core::backoff::Backoff;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The spacing of attempts.
    pub backoff: Backoff,
    /// Attempts in all, the first one included; then the entry gives up.
    pub max_attempts: u32,
}

impl RetryPolicy {
    /// The wait after `attempts` attempts failed (1 = the first one).
    pub fn delay(&self, attempts: u32) -> Duration {
        self.backoff.delay(attempts)
    }

    /// Whether another attempt is allowed after `attempts` were made.
    pub fn may_retry(&self, attempts: u32) -> bool {
        attempts < self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_are_capped() {
        let p = RetryPolicy {
            backoff: Backoff {
                base: Duration::from_secs(10),
                max: Duration::from_secs(60),
            },
            max_attempts: 5,
        };
        assert!(p.may_retry(4));
        assert!(!p.may_retry(5));
        assert!(p.delay(3) <= Duration::from_secs(40) && p.delay(3) >= Duration::from_secs(20));
    }
}
