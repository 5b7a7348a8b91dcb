//! Which filter format a file is, from its bytes alone: [`detect`] says
//! Gmail's `mailFilters.xml` (`gmail-xml`), Mailroom's Zoho Mail JSON
//! (`zoho-json`) or a Sieve script (`sieve`), or why it is none of them.
//!
//! A pure function without dependencies, so the host (`POST
//! /v1/rules/import` without a `format`) and the importers (to say "this
//! looks like a Gmail export" when handed the wrong file) share one answer,
//! like `imap-utf7`. It reads at most the first [`SCAN_BYTES`] and decides
//! by the first thing in the file: an XML root element, a JSON object's
//! `"format"` marker, or a Sieve command. It does not validate: the
//! importer of the detected format does, with positions.

/// How much of the file is looked at.
pub const SCAN_BYTES: usize = 64 * 1024;

/// A format an importer reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Gmail's `mailFilters.xml` (an Atom feed of `apps:property` entries).
    GmailXml,
    /// Mailroom's JSON for Zoho Mail filters (`"format": "zoho-mail-filters"`).
    ZohoJson,
    /// A Sieve script (RFC 5228).
    Sieve,
}

impl Format {
    /// The importer's format id.
    pub fn id(self) -> &'static str {
        match self {
            Format::GmailXml => "gmail-xml",
            Format::ZohoJson => "zoho-json",
            Format::Sieve => "sieve",
        }
    }

    /// What the file is, in words.
    pub fn name(self) -> &'static str {
        match self {
            Format::GmailXml => "a Gmail filter export (mailFilters.xml)",
            Format::ZohoJson => "a Zoho Mail filter file (zoho-json)",
            Format::Sieve => "a Sieve script",
        }
    }
}

/// Why a file is none of the formats.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unknown {
    pub reason: String,
}

impl std::fmt::Display for Unknown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for Unknown {}

const KNOWN: &str =
    "Mailroom imports Gmail filter exports (XML), Zoho Mail filter files (JSON) and Sieve scripts";

/// Sieve's commands (RFC 5228 and the common extensions), any of which a
/// script starts with.
const SIEVE_COMMANDS: &[&str] = &[
    "require",
    "if",
    "fileinto",
    "keep",
    "discard",
    "redirect",
    "stop",
    "reject",
    "ereject",
    "vacation",
    "set",
    "addflag",
    "setflag",
    "removeflag",
    "notify",
    "include",
    "global",
    "return",
];

fn unknown<T>(reason: String) -> Result<T, Unknown> {
    Err(Unknown { reason })
}

/// The format of `bytes`, or why it has none Mailroom reads.
pub fn detect(bytes: &[u8]) -> Result<Format, Unknown> {
    let head = &bytes[..bytes.len().min(SCAN_BYTES)];
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        // Cut inside a character at the end of the scanned part: fine.
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or("")
        }
        Err(e) => {
            return unknown(format!(
                "not text: byte {} is not UTF-8 (a binary file?); {KNOWN}",
                e.valid_up_to() + 1
            ));
        }
    };
    let text = text.trim_start_matches('\u{feff}').trim_start();
    match text.chars().next() {
        None => unknown("the file is empty".into()),
        Some('<') => xml(text),
        Some('{') => json(text),
        Some('[') => unknown(format!(
            "a JSON list, not a filter file: a Zoho Mail filter file is an object with \"format\": \"zoho-mail-filters\"; {KNOWN}"
        )),
        Some(_) => sieve(text),
    }
}

/// Gmail's export: the first element is an Atom `<feed>` naming Google's
/// `apps` namespace.
fn xml(text: &str) -> Result<Format, Unknown> {
    let mut rest = text;
    // Skip the declaration, processing instructions, comments and a DOCTYPE.
    loop {
        rest = rest.trim_start();
        let skip = if rest.starts_with("<?") {
            rest.find("?>").map(|i| i + 2)
        } else if rest.starts_with("<!--") {
            rest.find("-->").map(|i| i + 3)
        } else if rest.starts_with("<!") {
            rest.find('>').map(|i| i + 1)
        } else {
            break;
        };
        match skip {
            Some(n) => rest = &rest[n..],
            None => return unknown(format!("XML that ends before its first element; {KNOWN}")),
        }
    }
    let Some(tag) = rest.strip_prefix('<') else {
        let what = if rest.is_empty() {
            "ends before its first element"
        } else {
            "has text before its first element"
        };
        return unknown(format!("XML that {what}; {KNOWN}"));
    };
    let name: String = tag
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, '>' | '/'))
        .collect();
    let local = name.rsplit(':').next().unwrap_or(&name);
    if !local.eq_ignore_ascii_case("feed") {
        let kind = if local.eq_ignore_ascii_case("html") {
            "an HTML page"
        } else {
            "XML"
        };
        return unknown(format!(
            "{kind} whose root element is <{name}>, not a Gmail filter export (an Atom <feed> of filters); {KNOWN}"
        ));
    }
    if !rest.contains("http://schemas.google.com/apps/2006") {
        return unknown(format!(
            "an XML feed, but not a Gmail filter export: it does not use Google's apps namespace (http://schemas.google.com/apps/2006); {KNOWN}"
        ));
    }
    Ok(Format::GmailXml)
}

/// Zoho Mail JSON: an object whose `"format"` is `"zoho-mail-filters"`.
fn json(text: &str) -> Result<Format, Unknown> {
    let mut from = 0;
    while let Some(i) = text[from..].find("\"format\"") {
        let after = text[from + i + "\"format\"".len()..].trim_start();
        if let Some(value) = after.strip_prefix(':')
            && value.trim_start().starts_with("\"zoho-mail-filters\"")
        {
            return Ok(Format::ZohoJson);
        }
        from += i + 1;
    }
    unknown(format!(
        "JSON, but not a Zoho Mail filter file: it has no \"format\": \"zoho-mail-filters\"; {KNOWN}"
    ))
}

/// Sieve: after comments, a known command (or nothing: a script of comments).
fn sieve(text: &str) -> Result<Format, Unknown> {
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        if rest.starts_with('#') {
            rest = rest.find('\n').map_or("", |i| &rest[i + 1..]);
        } else if rest.starts_with("/*") {
            match rest.find("*/") {
                Some(i) => rest = &rest[i + 2..],
                None => return unknown(format!("a `/*` comment that never ends; {KNOWN}")),
            }
        } else {
            break;
        }
    }
    if rest.is_empty() {
        return Ok(Format::Sieve);
    }
    let word: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let next = rest[word.len()..].chars().next();
    let is_command = SIEVE_COMMANDS.iter().any(|c| word.eq_ignore_ascii_case(c))
        && next.is_none_or(|c| {
            c.is_whitespace() || matches!(c, ';' | '"' | '[' | '(' | ':' | '{' | '#')
        });
    if is_command {
        return Ok(Format::Sieve);
    }
    let start: String = rest.chars().take(30).collect();
    unknown(format!(
        "not a filter file Mailroom knows: it starts with `{}`, while a Gmail export starts with `<` (XML), a Zoho Mail filter file with `{{` (JSON) and a Sieve script with a command such as `require` or `if`",
        start.escape_debug()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// This crate's folder, read at run time: a test binary that cargo reuses
    /// from a checkout at another path (a target directory shared between
    /// checkouts) must read this checkout's files, not the path it was built at.
    fn manifest_dir() -> PathBuf {
        std::env::var_os("CARGO_MANIFEST_DIR")
            .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
    }

    fn data(path: &str) -> Vec<u8> {
        let path = manifest_dir().join("../../tests/data").join(path);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn files(dir: &str) -> Vec<PathBuf> {
        let dir = manifest_dir().join("../../tests/data").join(dir);
        let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        out.sort();
        out
    }

    #[test]
    fn the_repositorys_samples_are_recognised() {
        for (dir, format) in [
            ("gmail-filters", Format::GmailXml),
            ("zoho-filters", Format::ZohoJson),
            ("sieve/mailroom", Format::Sieve),
        ] {
            let paths = files(dir);
            assert!(!paths.is_empty(), "{dir}");
            for path in paths {
                let bytes = std::fs::read(&path).unwrap();
                assert_eq!(detect(&bytes), Ok(format), "{}", path.display());
            }
        }
        for script in [
            "compile/trivial.sieve",
            "compile/redirect.sieve",
            "control-if.svtest",
            "lexer.svtest",
        ] {
            assert_eq!(
                detect(&data(&format!("sieve/pigeonhole/{script}"))),
                Ok(Format::Sieve),
                "{script}"
            );
        }
        assert_eq!(Format::ZohoJson.id(), "zoho-json");
    }

    #[test]
    fn small_variants_of_each_format() {
        let cases: &[(&[u8], Format)] = &[
            (b"\xef\xbb\xbf  <?xml version='1.0'?>\n<!-- export -->\n<feed xmlns='http://www.w3.org/2005/Atom' xmlns:apps='http://schemas.google.com/apps/2006'>", Format::GmailXml),
            (b"{ \"version\": 1, \"format\" : \"zoho-mail-filters\", \"filters\": [] }", Format::ZohoJson),
            (b"# only comments\n/* and more */\n", Format::Sieve),
            (b"REQUIRE [\"fileinto\"];", Format::Sieve),
            (b"if header :contains \"subject\" \"x\" { discard; }", Format::Sieve),
            (b"keep;", Format::Sieve),
        ];
        for (bytes, format) in cases {
            assert_eq!(
                detect(bytes),
                Ok(*format),
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn anything_else_has_a_reason() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "empty"),
            (b"  \n ", "empty"),
            (b"\x00\x01\xff\xfe", "not UTF-8"),
            (
                b"<html><body>hi</body></html>",
                "an HTML page whose root element is <html>",
            ),
            (
                b"<rss version='2.0'><channel/></rss>",
                "root element is <rss>",
            ),
            (
                b"<feed xmlns='http://www.w3.org/2005/Atom'><entry/></feed>",
                "apps namespace",
            ),
            (b"<?xml version='1.0'?>", "ends before its first element"),
            (b"{\"filters\": []}", "not a Zoho Mail filter file"),
            (b"{\"format\": \"gmail\"}", "not a Zoho Mail filter file"),
            (b"[1, 2]", "a JSON list"),
            (
                b"from:alice@example.com label:work",
                "starts with `from:alice@example.com label:w`",
            ),
            (b"iffy business", "starts with `iffy business`"),
            (b"/* never closed", "never ends"),
        ];
        for (bytes, expected) in cases {
            let e = detect(bytes).unwrap_err();
            assert!(
                e.reason.contains(expected),
                "{}: {e}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn only_the_start_is_read_and_a_cut_character_is_fine() {
        let mut big = b"require \"fileinto\";\n# \xc3\xa9".to_vec();
        big.resize(SCAN_BYTES - 1, b' ');
        big.extend_from_slice("é".as_bytes());
        big.extend(std::iter::repeat_n(0xff, 1000));
        assert_eq!(detect(&big), Ok(Format::Sieve));
    }
}
