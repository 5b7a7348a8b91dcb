//! How much one plugin of one org may log: at most [`LINES_PER_MINUTE`]
//! lines and [`BYTES_PER_MINUTE`] bytes per minute, shared by all its calls
//! (a call is also capped on its own, `state.rs`). What goes past the
//! budget is counted, not logged, and the count is logged as one
//! "suppressed N lines" line when the next minute's first line comes.

use parking_lot::Mutex;
use std::time::{Duration, Instant};

pub const LINES_PER_MINUTE: u32 = 600;
pub const BYTES_PER_MINUTE: usize = 256 << 10;
const WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Window {
    started: Instant,
    lines: u32,
    bytes: usize,
    suppressed: u64,
}

/// One (org, plugin)'s log budget; see the module doc.
#[derive(Debug)]
pub struct LogBudget(Mutex<Window>);

impl Default for LogBudget {
    fn default() -> Self {
        Self(Mutex::new(Window {
            started: Instant::now(),
            lines: 0,
            bytes: 0,
            suppressed: 0,
        }))
    }
}

/// What to do with a line the plugin logs.
#[derive(Debug, PartialEq, Eq)]
pub struct Admission {
    pub log_line: bool,
    /// Lines suppressed in the window that just ended, to report first.
    pub report_suppressed: Option<u64>,
}

impl LogBudget {
    /// Spends budget for a line of `bytes` bytes.
    pub fn admit(&self, bytes: usize) -> Admission {
        self.admit_at(Instant::now(), bytes)
    }

    /// Counts a line refused before the budget was asked (a call's own cap).
    pub fn count_suppressed(&self) {
        self.0.lock().suppressed += 1;
    }

    fn admit_at(&self, now: Instant, bytes: usize) -> Admission {
        let mut window = self.0.lock();
        let mut report_suppressed = None;
        if now.duration_since(window.started) >= WINDOW {
            if window.suppressed > 0 {
                report_suppressed = Some(window.suppressed);
            }
            *window = Window {
                started: now,
                lines: 0,
                bytes: 0,
                suppressed: 0,
            };
        }
        let log_line = window.lines < LINES_PER_MINUTE && window.bytes + bytes <= BYTES_PER_MINUTE;
        if log_line {
            window.lines += 1;
            window.bytes += bytes;
        } else {
            window.suppressed += 1;
        }
        Admission {
            log_line,
            report_suppressed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_past_the_budget_are_counted_and_reported_the_next_minute() {
        let budget = LogBudget::default();
        let start = Instant::now();
        for _ in 0..LINES_PER_MINUTE {
            assert!(budget.admit_at(start, 10).log_line);
        }
        for _ in 0..5 {
            assert!(!budget.admit_at(start, 10).log_line);
        }
        let next = budget.admit_at(start + WINDOW, 10);
        assert_eq!(
            next,
            Admission {
                log_line: true,
                report_suppressed: Some(5)
            }
        );
        assert_eq!(budget.admit_at(start + WINDOW, 10).report_suppressed, None);
    }

    #[test]
    fn bytes_are_budgeted_too() {
        let budget = LogBudget::default();
        let start = Instant::now();
        assert!(budget.admit_at(start, BYTES_PER_MINUTE).log_line);
        assert!(!budget.admit_at(start, 1).log_line);
    }
}
