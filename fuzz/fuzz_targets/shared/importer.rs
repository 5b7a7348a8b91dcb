//! What every filter importer promises whatever file it is given: rules or
//! a clear error, never a panic; every rule named; an error's position
//! inside the file. Shared by the importers' fuzz targets.

use mailroom_plugin_sdk::filter_importer::{ImportError, ImportedRules};

pub fn check(data: &[u8], result: Result<ImportedRules, ImportError>) {
    match result {
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
}
