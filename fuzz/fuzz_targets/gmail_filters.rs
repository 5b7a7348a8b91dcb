//! The Gmail filter importer: any file an admin uploads gives rules or a
//! clear error, never a panic; an error's position lies inside the file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match filter_gmail::import(data) {
        Ok(imported) => {
            for rule in &imported.rules {
                assert!(!rule.name.is_empty(), "every rule is named");
            }
        }
        Err(e) => {
            assert!(!e.message.is_empty(), "an error says what was wrong");
            if let Some(line) = e.line {
                let lines = data.iter().filter(|b| **b == b'\n').count() + 1;
                assert!(
                    line >= 1 && line as usize <= lines,
                    "line {line} of {lines}"
                );
            }
        }
    }
});
