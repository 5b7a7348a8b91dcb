//! Whether the pipeline keeps up, from its backlog: how many runs wait in
//! how many orgs, and how long the oldest has waited. `/healthz` reports
//! it (degraded once the oldest waits longer than a threshold) and
//! `/metrics` exports it; it is a plain function of the backlog so both
//! read the same numbers.

use mailroom_store::pipeline::OrgBacklog;
use serde::Serialize;
use std::fmt::Write as _;

/// The pipeline's backlog as `/healthz` shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PipelineHealth {
    /// Messages waiting for their pipeline run, over all orgs.
    pub pending: u64,
    /// Orgs with at least one waiting message.
    pub orgs_waiting: usize,
    /// How long the oldest waiting message has waited, in seconds (0: none waits).
    pub oldest_pending_seconds: u64,
    /// Waiting messages of the org whose oldest message has waited longest.
    pub worst_org_pending: u64,
    /// The oldest may wait this long before the pipeline counts as behind.
    pub stale_after_seconds: u64,
    /// Whether the oldest waiting message is older than `stale_after_seconds`.
    pub behind: bool,
}

impl PipelineHealth {
    /// The health of `backlog` (oldest org first, as the store lists it) at `now_ms`.
    pub fn of(backlog: &[OrgBacklog], now_ms: i64, stale_after_seconds: u64) -> Self {
        let oldest_ms = backlog.iter().map(|o| o.oldest_queued_at).min();
        let oldest_pending_seconds = oldest_ms.map_or(0, |at| {
            u64::try_from(now_ms.saturating_sub(at) / 1000).unwrap_or(0)
        });
        let worst_org_pending = backlog
            .iter()
            .min_by_key(|o| o.oldest_queued_at)
            .map_or(0, |o| o.pending);
        Self {
            pending: backlog.iter().map(|o| o.pending).sum(),
            orgs_waiting: backlog.len(),
            oldest_pending_seconds,
            worst_org_pending,
            stale_after_seconds,
            behind: oldest_pending_seconds > stale_after_seconds,
        }
    }

    /// The pipeline's series in Prometheus text: the oldest waiting
    /// message's age, the waiting messages in all and per org.
    pub fn write_prometheus(backlog: &[OrgBacklog], now_ms: i64, out: &mut String) {
        let health = Self::of(backlog, now_ms, 0);
        out.push_str(
            "# HELP mailroom_pipeline_oldest_pending_seconds How long the oldest message waiting for its pipeline run has waited.\n\
             # TYPE mailroom_pipeline_oldest_pending_seconds gauge\n",
        );
        let _ = writeln!(
            out,
            "mailroom_pipeline_oldest_pending_seconds {}",
            health.oldest_pending_seconds
        );
        out.push_str(
            "# HELP mailroom_pipeline_pending Messages waiting for their pipeline run, by org.\n\
             # TYPE mailroom_pipeline_pending gauge\n",
        );
        for org in backlog {
            let _ = writeln!(
                out,
                "mailroom_pipeline_pending{{org=\"{}\"}} {}",
                org.org.as_str(),
                org.pending
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_core::ids::OrgId;

    fn org(id: &str, pending: u64, oldest_queued_at: i64) -> OrgBacklog {
        OrgBacklog {
            org: OrgId(id.into()),
            pending,
            oldest_queued_at,
        }
    }

    #[test]
    fn nothing_waiting_is_healthy() {
        let h = PipelineHealth::of(&[], 1_000_000, 300);
        assert_eq!(
            (h.pending, h.oldest_pending_seconds, h.behind),
            (0, 0, false)
        );
    }

    #[test]
    fn behind_once_the_oldest_waits_past_the_threshold() {
        let now = 10_000_000;
        let backlog = [org("a", 3, now - 400_000), org("b", 50, now - 10_000)];
        let h = PipelineHealth::of(&backlog, now, 300);
        assert_eq!(h.pending, 53);
        assert_eq!(h.orgs_waiting, 2);
        assert_eq!(h.oldest_pending_seconds, 400);
        assert_eq!(h.worst_org_pending, 3);
        assert!(h.behind);
        assert!(!PipelineHealth::of(&backlog, now, 500).behind);
        let mut text = String::new();
        PipelineHealth::write_prometheus(&backlog, now, &mut text);
        assert!(
            text.contains("mailroom_pipeline_oldest_pending_seconds 400\n"),
            "{text}"
        );
        assert!(
            text.contains("mailroom_pipeline_pending{org=\"b\"} 50\n"),
            "{text}"
        );
    }
}
