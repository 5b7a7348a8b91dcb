//! Generated bindings for every contract version the host has shipped.
//!
//! Each version lives in its own module. `latest` is what the rest of the
//! host programs against; an older version's module converts its values to
//! and from `latest`, so adapting old plugins happens here and nowhere else.

pub mod v0_1_0;

pub use v0_1_0 as latest;
