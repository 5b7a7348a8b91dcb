//! placeholder, replaced by the build script crate
