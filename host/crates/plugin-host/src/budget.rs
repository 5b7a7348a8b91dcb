//! Per-org plugin time budgets: how much plugin time one org may use per
//! window, over all its plugins. Plugin time is the wall-clock time of its
//! calls, which for a plugin that computes is the CPU it takes.
//!
//! The registry charges every call to its org; the pipeline waits for an
//! org's budget before it evaluates that org's next message. An org whose
//! plugins burn their whole deadline on every message then slows only its own
//! mail, and the cores it would have kept busy go to the other orgs' mail.
//! Nothing is dropped: a throttled org's messages wait their turn.
//!
//! The budget is a token bucket per org: full (`per_window`) at first,
//! refilled continuously at `per_window / window`, never above
//! `per_window`. Calls already running when it runs out finish and leave it
//! negative; the org waits until it is positive again.

use mailroom_core::ids::OrgId;
use parking_lot::Mutex;
use serde::Serialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How much plugin time an org may use per window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CpuBudget {
    pub per_window: Duration,
    pub window: Duration,
}

impl CpuBudget {
    pub fn per_minute(per_minute: Duration) -> Self {
        Self {
            per_window: per_minute,
            window: Duration::from_secs(60),
        }
    }

    /// Seconds of plugin time regained per second.
    fn rate(&self) -> f64 {
        self.per_window.as_secs_f64() / self.window.as_secs_f64().max(1e-3)
    }
}

#[derive(Debug)]
struct OrgAccount {
    /// Seconds of plugin time left; negative after an overrun.
    balance: f64,
    refilled_at: Instant,
    used: Duration,
    waits: u64,
    waited: Duration,
}

/// One org's use of its budget, as `/metrics` shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BudgetSnapshot {
    /// Plugin time charged since the server started, in seconds.
    pub used_seconds: f64,
    /// Times the pipeline waited for this org's budget.
    pub waits: u64,
    /// Time the pipeline spent waiting for it, in seconds.
    pub waited_seconds: f64,
    /// What is left now (negative: owed), in seconds; `None` without a budget.
    pub remaining_seconds: Option<f64>,
}

/// The budgets of every org, charged by the registry.
#[derive(Debug)]
pub struct OrgBudgets {
    budget: Option<CpuBudget>,
    orgs: Mutex<HashMap<OrgId, OrgAccount>>,
}

impl OrgBudgets {
    /// `None`: plugin time is counted but never limited.
    pub fn new(budget: Option<CpuBudget>) -> Self {
        Self {
            budget: budget.filter(|b| !b.per_window.is_zero() && !b.window.is_zero()),
            orgs: Mutex::default(),
        }
    }

    pub fn budget(&self) -> Option<CpuBudget> {
        self.budget
    }

    /// Runs `f` on the org's account, refilled up to now.
    fn with_account<T>(&self, org: &OrgId, f: impl FnOnce(&mut OrgAccount) -> T) -> T {
        let now = Instant::now();
        let full = self.budget.map_or(0.0, |b| b.per_window.as_secs_f64());
        let mut orgs = self.orgs.lock();
        let account = orgs.entry(org.clone()).or_insert_with(|| OrgAccount {
            balance: full,
            refilled_at: now,
            used: Duration::ZERO,
            waits: 0,
            waited: Duration::ZERO,
        });
        if let Some(budget) = self.budget {
            let regained = now.duration_since(account.refilled_at).as_secs_f64() * budget.rate();
            account.balance = (account.balance + regained).min(full);
        }
        account.refilled_at = now;
        f(account)
    }

    /// Charges a finished call's time to its org.
    pub fn charge(&self, org: &OrgId, elapsed: Duration) {
        self.with_account(org, |account| {
            account.used += elapsed;
            account.balance -= elapsed.as_secs_f64();
        });
    }

    /// How long the org must wait before its next plugin work; `None` when
    /// it may go now.
    pub fn wait_needed(&self, org: &OrgId) -> Option<Duration> {
        let budget = self.budget?;
        self.with_account(org, |account| {
            (account.balance <= 0.0).then(|| {
                // A millisecond more than the debt, so the wait ends with
                // the balance positive rather than at zero again.
                Duration::from_secs_f64(-account.balance / budget.rate()) + Duration::from_millis(1)
            })
        })
    }

    /// Waits until the org may run plugin work again (at once when it has
    /// budget left), counting the wait.
    pub async fn until_available(&self, org: &OrgId) {
        while let Some(wait) = self.wait_needed(org) {
            self.with_account(org, |account| {
                account.waits += 1;
                account.waited += wait;
            });
            tokio::time::sleep(wait).await;
        }
    }

    /// Every org that used plugin time, by org id.
    pub fn snapshot(&self) -> Vec<(OrgId, BudgetSnapshot)> {
        let mut ids: Vec<OrgId> = self.orgs.lock().keys().cloned().collect();
        ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        ids.into_iter()
            .map(|org| {
                let snapshot = self.of(&org);
                (org, snapshot)
            })
            .collect()
    }

    /// Prometheus text: every org's plugin time, waits and what is left.
    pub fn write_prometheus(&self, out: &mut String) {
        use std::fmt::Write as _;
        out.push_str(
            "# HELP mailroom_org_plugin_seconds_total Plugin time an org's calls took, over all its plugins.\n\
             # TYPE mailroom_org_plugin_seconds_total counter\n\
             # HELP mailroom_org_plugin_budget_waits_total Times the pipeline waited for an org's plugin time budget.\n\
             # TYPE mailroom_org_plugin_budget_waits_total counter\n\
             # HELP mailroom_org_plugin_budget_wait_seconds_total Time the pipeline waited for an org's budget.\n\
             # TYPE mailroom_org_plugin_budget_wait_seconds_total counter\n\
             # HELP mailroom_org_plugin_budget_remaining_seconds Plugin time an org has left (negative: owed).\n\
             # TYPE mailroom_org_plugin_budget_remaining_seconds gauge\n",
        );
        for (org, s) in self.snapshot() {
            let org = crate::metrics::escape(org.as_str());
            let _ = writeln!(
                out,
                "mailroom_org_plugin_seconds_total{{org=\"{org}\"}} {}\n\
                 mailroom_org_plugin_budget_waits_total{{org=\"{org}\"}} {}\n\
                 mailroom_org_plugin_budget_wait_seconds_total{{org=\"{org}\"}} {}",
                s.used_seconds, s.waits, s.waited_seconds
            );
            if let Some(remaining) = s.remaining_seconds {
                let _ = writeln!(
                    out,
                    "mailroom_org_plugin_budget_remaining_seconds{{org=\"{org}\"}} {remaining}"
                );
            }
        }
    }

    /// One org's use of its budget.
    pub fn of(&self, org: &OrgId) -> BudgetSnapshot {
        self.with_account(org, |a| BudgetSnapshot {
            used_seconds: a.used.as_secs_f64(),
            waits: a.waits,
            waited_seconds: a.waited.as_secs_f64(),
            remaining_seconds: self.budget.map(|_| a.balance),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(name: &str) -> OrgId {
        OrgId::from(name)
    }

    #[test]
    fn an_org_waits_only_for_its_own_debt() {
        let budgets = OrgBudgets::new(Some(CpuBudget {
            per_window: Duration::from_secs(1),
            window: Duration::from_secs(10),
        }));
        assert_eq!(budgets.wait_needed(&org("a")), None, "full at first");
        budgets.charge(&org("a"), Duration::from_millis(1500));
        // Owes 0.5 s at 0.1 s per second: about five seconds.
        let wait = budgets.wait_needed(&org("a")).expect("throttled");
        assert!(
            wait > Duration::from_millis(4900) && wait <= Duration::from_millis(5002),
            "{wait:?}"
        );
        assert_eq!(
            budgets.wait_needed(&org("b")),
            None,
            "another org is untouched"
        );
        let a = budgets.of(&org("a"));
        assert!((a.used_seconds - 1.5).abs() < 1e-9);
        assert!(a.remaining_seconds.is_some_and(|r| r < -0.49));
    }

    #[test]
    fn prometheus_text_names_each_org() {
        let budgets = OrgBudgets::new(Some(CpuBudget::per_minute(Duration::from_secs(60))));
        budgets.charge(&org("acme"), Duration::from_millis(250));
        let mut out = String::new();
        budgets.write_prometheus(&mut out);
        assert!(
            out.contains("mailroom_org_plugin_seconds_total{org=\"acme\"} 0.25"),
            "{out}"
        );
        assert!(
            out.contains("mailroom_org_plugin_budget_waits_total{org=\"acme\"} 0"),
            "{out}"
        );
        assert!(
            out.contains("mailroom_org_plugin_budget_remaining_seconds{org=\"acme\"} 59.7"),
            "{out}"
        );
    }

    #[test]
    fn without_a_budget_time_is_counted_and_never_limited() {
        let budgets = OrgBudgets::new(None);
        budgets.charge(&org("a"), Duration::from_secs(3600));
        assert_eq!(budgets.wait_needed(&org("a")), None);
        let snapshot = budgets.snapshot();
        assert_eq!(snapshot.len(), 1);
        assert_eq!(snapshot[0].1.remaining_seconds, None);
        assert!((snapshot[0].1.used_seconds - 3600.0).abs() < 1e-6);
    }

    #[test]
    fn the_balance_refills_but_never_above_the_budget() {
        let budgets = OrgBudgets::new(Some(CpuBudget {
            per_window: Duration::from_millis(100),
            window: Duration::from_millis(100),
        }));
        budgets.charge(&org("a"), Duration::from_millis(150));
        std::thread::sleep(Duration::from_millis(120));
        assert_eq!(budgets.wait_needed(&org("a")), None, "repaid by now");
        std::thread::sleep(Duration::from_millis(300));
        let remaining = budgets.of(&org("a")).remaining_seconds.expect("budget");
        assert!(remaining <= 0.1 + 1e-9, "{remaining}");
    }

    #[tokio::test]
    async fn waiting_is_counted() {
        let budgets = OrgBudgets::new(Some(CpuBudget {
            per_window: Duration::from_millis(10),
            window: Duration::from_millis(100),
        }));
        budgets.charge(&org("a"), Duration::from_millis(15));
        budgets.until_available(&org("a")).await;
        let a = budgets.of(&org("a"));
        assert!(a.waits >= 1);
        assert!(a.waited_seconds >= 0.04, "{a:?}");
        assert_eq!(budgets.wait_needed(&org("a")), None);
    }
}
