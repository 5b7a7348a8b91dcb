//! The Gmail filter importer: any file an admin uploads gives rules or a
//! clear error, never a panic; an error's position lies inside the file.
#![no_main]

#[path = "shared/importer.rs"]
mod importer;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| importer::check(data, filter_gmail::import(data)));
