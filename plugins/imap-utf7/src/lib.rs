//! IMAP's modified UTF-7 (RFC 3501 §5.1.3), the encoding of non-ASCII
//! mailbox names: `Entw&APw-rfe` is `Entwürfe`, `&kAFP4W4IMH8wojCkMMYw4A-` is
//! `送信済みアイテム`. Only decoding is needed: plugins compare names and
//! the host shows them; neither creates a mailbox.

/// Decodes a mailbox name. Names that are not valid modified UTF-7 are
/// returned unchanged, because some servers (and IMAP4rev2 with UTF8=ACCEPT)
/// send UTF-8 as it is.
pub fn decode_modified_utf7(name: &str) -> String {
    if !name.contains('&') {
        return name.to_string();
    }
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let Some(dash) = after.find('-') else {
            return name.to_string();
        };
        if dash == 0 {
            out.push('&'); // "&-" is a literal ampersand
        } else {
            match decode_base64_utf16(&after[..dash]) {
                Some(decoded) => out.push_str(&decoded),
                None => return name.to_string(),
            }
        }
        rest = &after[dash + 1..];
    }
    out.push_str(rest);
    out
}

/// Modified base64 (`,` instead of `/`, no padding) of big-endian UTF-16.
fn decode_base64_utf16(encoded: &str) -> Option<String> {
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut bytes = Vec::with_capacity(encoded.len());
    for c in encoded.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b',' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            bytes.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|p| u16::from_be_bytes([p[0], p[1]]))
        .collect();
    String::from_utf16(&units).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_latin_and_cjk() {
        assert_eq!(decode_modified_utf7("Entw&APw-rfe"), "Entwürfe");
        assert_eq!(
            decode_modified_utf7("&AMk-l&AOk-ments envoy&AOk-s"),
            "Éléments envoyés"
        );
        assert_eq!(
            decode_modified_utf7("&kAFP4W4IMH8wojCkMMYw4A-"),
            "送信済みアイテム"
        );
    }

    #[test]
    fn literal_ampersand_and_broken_input() {
        assert_eq!(decode_modified_utf7("Tom &- Jerry"), "Tom & Jerry");
        assert_eq!(decode_modified_utf7("broken &AB"), "broken &AB");
        assert_eq!(decode_modified_utf7("plain"), "plain");
    }
}
