//! Reading a [`Message`]: headers, addresses, threads.
//!
//! The methods are on [`Message`] and [`Address`] themselves; the free
//! functions here are the same helpers for code that prefers them
//! (`header(&msg, "List-Id")`). Header names compare case-insensitively, as
//! in RFC 5322; email addresses are returned as the host parsed them.

use crate::types::{Address, Direction, Message};
use std::fmt;

/// The first header named `name` (any case), decoded.
pub fn header<'a>(message: &'a Message, name: &str) -> Option<&'a str> {
    message.header(name)
}

/// Every header named `name` (any case), in message order.
pub fn headers<'a>(message: &'a Message, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    message.headers_named(name)
}

/// The first From address.
pub fn from_email(message: &Message) -> Option<&str> {
    message.from_email()
}

impl Message {
    /// The first header named `name` (any case), decoded.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// Every header named `name` (any case), in message order. `Received`,
    /// for instance, appears many times.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// Whether the message has a header named `name`.
    pub fn has_header(&self, name: &str) -> bool {
        self.header(name).is_some()
    }

    /// The email of the first From address, or of Sender when From is empty.
    pub fn from_email(&self) -> Option<&str> {
        self.from_address().map(|a| a.email.as_str())
    }

    /// The display name of the first From address, if it has one.
    pub fn from_name(&self) -> Option<&str> {
        self.from_address().and_then(|a| a.name.as_deref())
    }

    /// The first From address, or Sender when From is empty.
    pub fn from_address(&self) -> Option<&Address> {
        self.from.first().or(self.sender.as_ref())
    }

    /// To, Cc and Bcc, in that order.
    pub fn recipients(&self) -> impl Iterator<Item = &Address> {
        self.to.iter().chain(&self.cc).chain(&self.bcc)
    }

    /// Whether `email` (any case) is among To, Cc and Bcc.
    pub fn is_addressed_to(&self, email: &str) -> bool {
        self.recipients()
            .any(|a| a.email.eq_ignore_ascii_case(email))
    }

    /// The list identifier of mailing-list mail: the part of `List-Id` in
    /// angle brackets (`<news.example.com>` gives `news.example.com`), or the
    /// whole trimmed value when it has none.
    pub fn list_id(&self) -> Option<&str> {
        let value = self.header("List-Id")?.trim();
        let id = match (value.rfind('<'), value.rfind('>')) {
            (Some(start), Some(end)) if start < end => &value[start + 1..end],
            _ => value,
        };
        (!id.is_empty()).then_some(id)
    }

    /// Whether the message answers another one (`In-Reply-To` or `References`).
    pub fn is_reply(&self) -> bool {
        self.in_reply_to.is_some() || !self.references.is_empty()
    }

    pub fn is_incoming(&self) -> bool {
        self.direction == Direction::Incoming
    }

    pub fn has_attachments(&self) -> bool {
        // Inline parts (images in HTML mail) are not what people mean by attachments.
        self.attachments.iter().any(|a| !a.inline)
    }

    /// The subject without reply/forward prefixes (`Re:`, `Fwd:`, `AW:`,
    /// `WG:`, `SV:`, `TR:`…, repeated or numbered like `Re[2]:`).
    pub fn base_subject(&self) -> &str {
        base_subject(&self.subject)
    }
}

/// `subject` without leading reply/forward prefixes in common languages.
pub fn base_subject(subject: &str) -> &str {
    const PREFIXES: &[&str] = &[
        "re", "fw", "fwd", "aw", "wg", "sv", "vs", "tr", "rv", "enc", "antw", "doorst", "r", "i",
    ];
    let mut rest = subject.trim_start();
    loop {
        let Some(colon) = rest.find(':') else {
            return rest;
        };
        let head = rest[..colon].trim_end();
        // `Re[2]` and `Re(2)` count as `Re`.
        let word = head.split(['[', '(']).next().unwrap_or(head);
        if colon > 12 || !PREFIXES.iter().any(|p| word.eq_ignore_ascii_case(p)) {
            return rest;
        }
        rest = rest[colon + 1..].trim_start();
    }
}

impl Address {
    pub fn new(name: Option<&str>, email: &str) -> Self {
        Address {
            name: name.map(str::to_string),
            email: email.to_string(),
        }
    }

    /// The domain part of the email, lower-cased; empty if there is no `@`.
    pub fn domain(&self) -> String {
        self.email
            .rsplit_once('@')
            .map(|(_, d)| d.to_ascii_lowercase())
            .unwrap_or_default()
    }

    /// The display name, or the email when there is none.
    pub fn name_or_email(&self) -> &str {
        self.name
            .as_deref()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(&self.email)
    }
}

/// `"Name" <email>` or the bare email.
impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) if !name.is_empty() => write!(f, "\"{name}\" <{}>", self.email),
            _ => f.write_str(&self.email),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_reply_prefixes() {
        assert_eq!(base_subject("Re: AW: Fwd: Offer"), "Offer");
        assert_eq!(base_subject("RE[2]: Offer"), "Offer");
        assert_eq!(base_subject("Meeting: Monday"), "Meeting: Monday");
        assert_eq!(base_subject("Offer"), "Offer");
    }
}
