//! The time, from the host. WASI clocks are not granted to plugins; this is
//! the one clock they have.

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    crate::host::now()
}

/// Milliseconds in one day, for due dates and message ages.
pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;
