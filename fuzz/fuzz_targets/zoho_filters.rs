//! The Zoho Mail (`zoho-json`) importer and its advanced-pattern parser:
//! any file gives rules or a positioned error, never a panic.
#![no_main]

#[path = "shared/importer.rs"]
mod importer;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| importer::check(data, filter_zoho::import(data)));
