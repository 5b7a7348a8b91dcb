//! MIME ingestion: any bytes a server hands over are parsed and indexed
//! without panicking, and the index keeps the promises the store and the
//! CRM linking rely on (no NUL or control characters in text columns,
//! bounded lengths, lower-cased addresses, a sane date).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailroom_core::mime::parse;
use mailroom_core::mime_index::index_parsed;

fn clean(s: &str, max_chars: usize) {
    assert!(
        !s.chars().any(char::is_control),
        "control character in {s:?}"
    );
    assert!(
        s.chars().count() <= max_chars,
        "{} chars > {max_chars}",
        s.chars().count()
    );
}

fuzz_target!(|raw: &[u8]| {
    let parsed = parse(raw);
    let ix = index_parsed(&parsed);
    clean(&ix.snippet, 200);
    for text in [
        &ix.subject,
        &ix.from_name,
        &ix.header_message_id,
        &ix.in_reply_to,
    ]
    .into_iter()
    .flatten()
    {
        assert!(!text.is_empty());
        clean(text, 1000);
    }
    if let Some(problem) = &ix.parse_problem {
        clean(problem, 1000);
    }
    if let Some(sent_at) = ix.sent_at {
        assert!((0..=253_402_300_799_000).contains(&sent_at));
    }
    for a in &ix.addresses {
        assert!(!a.address.is_empty() && a.address.len() <= 320);
        assert!(
            !a.address
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        );
        assert_eq!(
            a.address,
            a.address.to_lowercase(),
            "addresses are linked lower-cased"
        );
        if let Some(name) = &a.name {
            clean(name, 1000);
        }
    }
    assert_eq!(
        ix.from_address.is_some(),
        ix.addresses
            .iter()
            .any(|a| a.field == mailroom_core::mime_index::AddressField::From)
    );
});
