//! Failed authentications, per client address: each is logged with the
//! address, and an address that fails too often is answered 429 with
//! `Retry-After` until its budget refills. Only failures draw on the budget,
//! so valid tokens are never slowed, even from an address that also fails.
//!
//! IPv6 addresses are grouped by /64 (what one host usually has), so a
//! client cannot get a fresh budget by changing the low bits.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::time::Duration;

/// How many failures an address may make: `burst` at once, then
/// `per_minute` (the budget refills evenly over the minute).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailureBudget {
    pub per_minute: NonZeroU32,
    pub burst: NonZeroU32,
}

/// Tracked addresses kept before old ones (with full budgets) are forgotten.
const FORGET_ABOVE: usize = 10_000;

pub struct AuthFailures {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

impl AuthFailures {
    pub fn new(budget: FailureBudget) -> Self {
        let quota = Quota::per_minute(budget.per_minute).allow_burst(budget.burst);
        Self {
            limiter: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }

    /// Counts a failure from `client`; `Some(wait)` when the address is over
    /// its budget and must wait that long before trying again.
    pub fn failed(&self, client: IpAddr) -> Option<Duration> {
        if self.limiter.len() > FORGET_ABOVE {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&bucket(client))
            .err()
            .map(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// The key an address is counted under.
fn bucket(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(per_minute: u32, burst: u32) -> FailureBudget {
        FailureBudget {
            per_minute: NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN),
            burst: NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN),
        }
    }

    #[test]
    fn an_address_over_its_budget_waits_and_others_do_not() {
        let f = AuthFailures::new(budget(6, 3));
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        for _ in 0..3 {
            assert_eq!(f.failed(a), None);
        }
        let wait = f.failed(a).expect("over budget");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(10),
            "{wait:?}"
        );
        assert_eq!(f.failed(b), None);
    }

    #[test]
    fn ipv6_addresses_share_their_slash_64() {
        let f = AuthFailures::new(budget(1, 1));
        assert_eq!(f.failed("2001:db8::1".parse().expect("ip")), None);
        assert!(f.failed("2001:db8::2:3".parse().expect("ip")).is_some());
        assert_eq!(f.failed("2001:db8:0:1::1".parse().expect("ip")), None);
        assert_eq!(
            bucket("::ffff:192.0.2.7".parse().expect("ip")),
            "192.0.2.7".parse::<IpAddr>().expect("ip")
        );
    }
}
