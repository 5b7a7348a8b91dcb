//! Mailroom filter importer for Sieve scripts (RFC 5228) with the
//! extensions mail servers' filter editors write: `fileinto`, `copy`,
//! `imap4flags`, `envelope`, `body`, `relational`, `regex`, `variables`,
//! `reject`/`ereject` and `vacation` (the last three reported, not imported).
//!
//! Our own lexer ([`lexer`]) and parser ([`parser`]); the maintained Rust
//! Sieve crates are AGPL. [`import`] is the whole importer as a pure function:
//! a script is refused (an error with its line and column) when it is larger
//! than [`MAX_SCRIPT_BYTES`], not UTF-8, nests blocks and tests deeper than
//! [`parser::MAX_NESTING`], or is not Sieve; otherwise every command becomes
//! part of a rule ([`convert`] says how) or a warning with its line and column.
//!
//! Actions: `fileinto` → move to the folder (`fileinto :copy` → add a label,
//! the message staying where it is; `INBOX` → `inbox`), `keep` → nothing
//! (the message stays), `discard` → trash, `redirect` → forward, `stop` →
//! stop, `addflag`/`setflag` → `\Seen` mark read, `\Flagged` star, keywords
//! labels (`setflag` replaces Sieve's internal flag list; new mail has no
//! flags, so it adds like `addflag`), `removeflag` → `\Seen` mark unread,
//! keywords remove the label.

pub mod condition;
pub mod convert;
pub mod lexer;
pub mod parser;
pub mod variables;

use filter_common::{error, line_column};
use mailroom_plugin_sdk::filter_importer::{FilterFormat, ImportError, ImportedRules};
use mailroom_plugin_sdk::prelude::*;

/// The format id this plugin handles.
pub const FORMAT: &str = "sieve";

/// The largest script read (Dovecot's default `sieve_max_script_size` is 1M too).
pub const MAX_SCRIPT_BYTES: usize = 1024 * 1024;

pub struct SieveFilters;

impl Plugin for SieveFilters {
    fn metadata() -> Metadata {
        Metadata::new("filter-sieve", env!("CARGO_PKG_VERSION"), PluginKind::FilterImporter)
            .description("Imports Sieve scripts (RFC 5228: fileinto, imap4flags, copy, envelope, body, relational, regex, variables)")
    }
}

impl FilterImporter for SieveFilters {
    fn formats() -> Vec<FilterFormat> {
        vec![FilterFormat {
            id: FORMAT.to_string(),
            name: "Sieve script".to_string(),
            extensions: vec!["sieve".to_string(), "siv".to_string()],
        }]
    }

    fn import_filters(format: String, data: Vec<u8>) -> Result<ImportedRules, ImportError> {
        if format != FORMAT {
            return Err(error(
                format!("unknown format `{format}`; this plugin reads `{FORMAT}`"),
                None,
            ));
        }
        import(&data)
    }
}

mailroom_plugin_sdk::export_filter_importer!(SieveFilters);

/// A Sieve script as rules and warnings. An error says what was wrong and where; when the
/// file looks like another format, it says which.
pub fn import(data: &[u8]) -> Result<ImportedRules, ImportError> {
    read(data).map_err(|e| filter_common::hint(e, data, FORMAT))
}

fn read(data: &[u8]) -> Result<ImportedRules, ImportError> {
    let text = filter_common::text(data, MAX_SCRIPT_BYTES, "a Sieve script")?;
    if text.trim().is_empty() {
        return Err(error("the script is empty", None));
    }
    let positioned = |e: lexer::LexError| {
        error(
            format!("not a valid Sieve script: {}", e.message),
            Some(line_column(text, e.offset)),
        )
    };
    let tokens = lexer::lex(text).map_err(positioned)?;
    let commands = parser::parse(&tokens, text.len()).map_err(positioned)?;
    let mut importer = convert::Importer::new(text);
    importer.block(&commands, &convert::Guard::top())?;
    Ok(importer.out.finish())
}

#[cfg(test)]
mod tests;
