//! What the filter importers (`filter-gmail`, `filter-sieve`, `filter-zoho`)
//! share, so each one only knows its own format:
//!
//! - [`input`]: the size limit and UTF-8 check every importer applies before
//!   parsing, byte offsets turned into the 1-based line and column that
//!   errors and warnings carry, and a hint (from `filter-detect`) when the
//!   refused file looks like another format;
//! - [`check`]: the host rule engine's limits (nodes, actions, value sizes,
//!   pattern sizes, labels, addresses) checked on the importer's side, so an
//!   importer only returns rules the engine accepts;
//! - [`output`]: the rules and warnings of one import, each rule checked as
//!   it is added and the counts kept inside the contract's bounds.

pub mod check;
pub mod input;
pub mod output;

pub use check::check_rule;
pub use input::{Position, Positions, error, hint, line_column, text};
pub use output::Output;
