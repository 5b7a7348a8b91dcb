//! Logging through the host's `log` import.
//!
//! The host records each line with the org, plugin and invocation it came
//! from, so there is no need to add them. Use the macros like `format!`:
//!
//! ```text
//! use mailroom_plugin_sdk::log;
//! log::info!("classified {} as {}", message.id, label);
//! ```
//!
//! Logging is a host call per line: log decisions, not every loop turn.
//! `println!`/`eprintln!` go to the WASI stdout/stderr, which the host may
//! discard; prefer these.

pub use crate::host::LogLevel as Level;

/// Sends one line to the host log at `level`.
pub fn log(level: Level, message: &str) {
    crate::host::log(level, message);
}

pub fn trace(message: &str) {
    log(Level::Trace, message);
}

pub fn debug(message: &str) {
    log(Level::Debug, message);
}

pub fn info(message: &str) {
    log(Level::Info, message);
}

pub fn warn(message: &str) {
    log(Level::Warn, message);
}

pub fn error(message: &str) {
    log(Level::Error, message);
}

// `#[macro_export]` puts macros at the crate root; re-exporting them here under
// their short names gives `log::info!` without clashing with other crates'
// `info!` at the root.

#[doc(hidden)]
#[macro_export]
macro_rules! __log_trace {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Trace, &::std::format!($($arg)*)) };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __log_debug {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Debug, &::std::format!($($arg)*)) };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __log_info {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Info, &::std::format!($($arg)*)) };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __log_warn {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Warn, &::std::format!($($arg)*)) };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __log_error {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Error, &::std::format!($($arg)*)) };
}

/// Logs a `format!`-style line at trace level.
#[doc(inline)]
pub use crate::__log_trace as trace;

/// Logs a `format!`-style line at debug level.
#[doc(inline)]
pub use crate::__log_debug as debug;

/// Logs a `format!`-style line at info level.
#[doc(inline)]
pub use crate::__log_info as info;

/// Logs a `format!`-style line at warn level.
#[doc(inline)]
pub use crate::__log_warn as warn;

/// Logs a `format!`-style line at error level.
#[doc(inline)]
pub use crate::__log_error as error;
