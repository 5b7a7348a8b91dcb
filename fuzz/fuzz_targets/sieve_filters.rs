//! The Sieve importer (our own lexer and parser): any script gives rules
//! and warnings or a positioned error, never a panic or a runaway.
#![no_main]

#[path = "shared/importer.rs"]
mod importer;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| importer::check(data, filter_sieve::import(data)));
