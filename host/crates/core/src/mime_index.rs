//! The indexed fields the store keeps next to a message's raw bytes
//! (subject, date, from, every address, snippet …), derived from
//! [`crate::mime::parse`]. Best effort by design: nothing here can fail,
//! because malformed mail must still be stored — the raw bytes are the truth
//! and the index only helps finding them. Text is cleaned so it fits both
//! databases (PostgreSQL rejects NUL in text columns).

use crate::mime::{MailAddress, ParsedMessage};

/// Longest subject / name / header value kept in the index (characters).
const MAX_TEXT: usize = 1000;
/// Length of the body preview.
const SNIPPET_CHARS: usize = 200;

/// The header an indexed address came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressField {
    /// `From:`
    From,
    /// `Sender:`
    Sender,
    /// `To:`
    To,
    /// `Cc:`
    Cc,
    /// `Bcc:` (only on mail the user sent)
    Bcc,
    /// `Reply-To:`
    ReplyTo,
}

impl AddressField {
    /// The name the store and the API use for the field.
    pub fn as_str(self) -> &'static str {
        match self {
            AddressField::From => "from",
            AddressField::Sender => "sender",
            AddressField::To => "to",
            AddressField::Cc => "cc",
            AddressField::Bcc => "bcc",
            AddressField::ReplyTo => "reply_to",
        }
    }

    /// The field named `s` (as [`AddressField::as_str`] writes it).
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::From,
            Self::Sender,
            Self::To,
            Self::Cc,
            Self::Bcc,
            Self::ReplyTo,
        ]
        .into_iter()
        .find(|f| f.as_str() == s)
    }
}

/// One address of a message, as the store indexes it (and links it to CRM
/// records by).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexedAddress {
    /// The header it came from.
    pub field: AddressField,
    /// Lower-cased.
    pub address: String,
    /// The display name, cleaned.
    pub name: Option<String>,
}

/// The parsed fields of one message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MimeIndex {
    /// Message-ID header without angle brackets.
    pub header_message_id: Option<String>,
    /// Subject, cleaned; `None` when empty.
    pub subject: Option<String>,
    /// Date header, ms since the epoch.
    pub sent_at: Option<i64>,
    /// The first `From:` address, lower-cased.
    pub from_address: Option<String>,
    /// Its display name.
    pub from_name: Option<String>,
    /// Whether any attachment (inline or not) was found.
    pub has_attachments: bool,
    /// A body preview of at most 200 characters.
    pub snippet: String,
    /// `In-Reply-To` without angle brackets.
    pub in_reply_to: Option<String>,
    /// The conversation's root: the first Message-ID of `References` (RFC
    /// 5322 keeps it first when trimming), else `In-Reply-To`, else the
    /// message's own Message-ID.
    pub thread_id: Option<String>,
    /// Every address of every address header, without repeats per header.
    pub addresses: Vec<IndexedAddress>,
    /// Why the index may be incomplete (damaged structure, unparseable …).
    pub parse_problem: Option<String>,
}

/// Makes text safe for both databases (PostgreSQL rejects NUL in text) and
/// for display: control characters become spaces, runs of whitespace
/// collapse, length is capped on a character boundary.
pub fn clean_text(s: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max_chars * 4));
    let mut count = 0;
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_whitespace() || c.is_control() {
            pending_space = !out.is_empty();
            continue;
        }
        if count >= max_chars {
            break;
        }
        if pending_space {
            out.push(' ');
            count += 1;
            pending_space = false;
            if count >= max_chars {
                break;
            }
        }
        out.push(c);
        count += 1;
    }
    out
}

fn clean_opt(s: Option<&str>) -> Option<String> {
    s.map(|s| clean_text(s, MAX_TEXT)).filter(|s| !s.is_empty())
}

/// Normalises an address for the index: trimmed, lower-cased, no spaces or
/// controls. `None` when nothing usable is left.
pub fn index_address(address: &str) -> Option<String> {
    let a: String = address
        .trim()
        .trim_matches(|c| c == '<' || c == '>')
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .flat_map(char::to_lowercase)
        .collect();
    (!a.is_empty() && a.len() <= 320).then_some(a)
}

fn push_all(out: &mut Vec<IndexedAddress>, field: AddressField, list: &[MailAddress]) {
    for mailbox in list {
        if let Some(address) = index_address(&mailbox.email)
            && !out.iter().any(|a| a.field == field && a.address == address)
        {
            out.push(IndexedAddress {
                field,
                address,
                name: clean_opt(mailbox.name.as_deref()),
            });
        }
    }
}

/// Indexes `raw`. Never fails: what cannot be read is left out and
/// explained in `parse_problem`.
pub fn index_message(raw: &[u8]) -> MimeIndex {
    index_parsed(&crate::mime::parse(raw))
}

/// Indexes an already parsed message.
pub fn index_parsed(p: &ParsedMessage) -> MimeIndex {
    let mut addresses = Vec::new();
    push_all(&mut addresses, AddressField::From, &p.from);
    push_all(&mut addresses, AddressField::Sender, p.sender.as_slice());
    push_all(&mut addresses, AddressField::To, &p.to);
    push_all(&mut addresses, AddressField::Cc, &p.cc);
    push_all(&mut addresses, AddressField::Bcc, &p.bcc);
    push_all(&mut addresses, AddressField::ReplyTo, &p.reply_to);
    let (from_address, from_name) = addresses
        .iter()
        .find(|a| a.field == AddressField::From)
        .map(|a| (Some(a.address.clone()), a.name.clone()))
        .unwrap_or((None, None));
    MimeIndex {
        header_message_id: clean_opt(p.message_id.as_deref()),
        subject: clean_opt(Some(&p.subject)),
        // Dates before the epoch or absurdly far out are as good as none.
        sent_at: p.date.filter(|d| (0..=253_402_300_799_000).contains(d)),
        from_address,
        from_name,
        has_attachments: !p.attachments.is_empty(),
        snippet: clean_text(&p.snippet(SNIPPET_CHARS * 2), SNIPPET_CHARS),
        in_reply_to: clean_opt(p.in_reply_to.as_deref()),
        thread_id: p
            .references
            .iter()
            .chain(&p.in_reply_to)
            .chain(&p.message_id)
            .find_map(|id| clean_opt(Some(id))),
        addresses,
        parse_problem: (!p.problems.is_empty())
            .then(|| clean_text(&p.problems.join("; "), MAX_TEXT)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_strips_nul_and_collapses() {
        assert_eq!(clean_text("  a\0b\r\n\tc  ", 100), "a b c");
        assert_eq!(clean_text("héllo wörld", 5), "héllo");
        assert_eq!(clean_text("ab cd", 3), "ab ");
    }

    #[test]
    fn indexes_a_simple_message() {
        let raw =
            b"From: Ann <ANN@Example.com>\r\nTo: bob@example.com, Group: c@x.org, d@x.org;\r\n\
            Cc: <e@x.org>\r\nSubject: Hi\r\nMessage-ID: <m1@example.com>\r\n\
            Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n\r\nHello there!\r\n";
        let ix = index_message(raw);
        assert_eq!(ix.subject.as_deref(), Some("Hi"));
        assert_eq!(ix.header_message_id.as_deref(), Some("m1@example.com"));
        assert_eq!(ix.from_address.as_deref(), Some("ann@example.com"));
        assert_eq!(ix.from_name.as_deref(), Some("Ann"));
        assert_eq!(ix.sent_at, Some(1_057_049_557_000));
        assert_eq!(ix.snippet, "Hello there!");
        let to: Vec<_> = ix
            .addresses
            .iter()
            .filter(|a| a.field == AddressField::To)
            .map(|a| a.address.as_str())
            .collect();
        assert_eq!(to, ["bob@example.com", "c@x.org", "d@x.org"]);
        assert!(ix.parse_problem.is_none());
    }

    #[test]
    fn garbage_still_indexes() {
        let ix = index_message(b"\0\0\xff\xfe not mail at all");
        assert!(ix.subject.is_none());
        let ix = index_message(b"");
        assert!(ix.addresses.is_empty());
    }
}
