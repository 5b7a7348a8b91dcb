//! CSV import of contacts and leads: any file a user uploads is read
//! without panicking, and every row with a value is accounted for once —
//! imported or reported on its own line, never both, never lost; what is
//! imported passes the store's checks, and after the duplicate check no
//! email is imported twice or over an existing record's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailroom_core::ids::UserId;
use mailroom_crm::csv_import::{self, Owners, emails_of, parse_csv, reject_duplicates};
use mailroom_crm::check_record;
use std::collections::{HashMap, HashSet};

/// Lines of the file as a text editor counts them (`\r\n`, `\r`, `\n`).
fn line_count(data: &[u8]) -> u64 {
    let crlf = data.windows(2).filter(|w| w == b"\r\n").count();
    let ends = data.iter().filter(|b| matches!(b, b'\r' | b'\n')).count();
    (ends - crlf) as u64 + 1
}

fuzz_target!(|data: &[u8]| {
    let ann = UserId("usr_ann".into());
    let owners = Owners::new([(&ann, "ann@example.com")]);
    let Ok(parsed) = parse_csv(data, &owners) else {
        return;
    };
    let lines = line_count(data);
    let mut rows = HashSet::new();
    let all = parsed.good.iter().map(|g| g.row);
    for row in all.chain(parsed.errors.iter().map(|e| e.row)) {
        assert!(rows.insert(row), "line {row} is reported twice");
        assert!((2..=lines).contains(&row), "line {row} of {lines}");
    }
    for e in &parsed.errors {
        assert!(!e.message.trim().is_empty(), "an error says what is wrong");
    }
    // The rows a reader sees: every one holding a value must be answered.
    let with_value = csv_import::reader(data)
        .byte_records()
        .filter_map(Result::ok)
        .filter(|r| {
            r.iter()
                .any(|f| !String::from_utf8_lossy(f).trim().is_empty())
        })
        .count();
    assert_eq!(
        parsed.good.len() + parsed.errors.len(),
        with_value,
        "every row with a value is imported or reported"
    );
    for g in &parsed.good {
        assert!(check_record(&g.record).is_ok(), "line {} is storable", g.row);
    }
    let before = parsed.good.len();
    let existing = [("ann@example.com".to_owned(), "con_1".to_owned())];
    let (kept, duplicates) = reject_duplicates(parsed.good, &existing, "contact");
    assert_eq!(kept.len() + duplicates.len(), before);
    let mut imported_on: HashMap<String, u64> = HashMap::new();
    for g in &kept {
        for e in emails_of(&g.record) {
            assert_ne!(e, "ann@example.com", "an existing record's email");
            // A record may repeat its own address; two records may not share one.
            if let Some(first) = imported_on.insert(e.clone(), g.row) {
                assert_eq!(first, g.row, "{e} imported on lines {first} and {}", g.row);
            }
        }
    }
});
