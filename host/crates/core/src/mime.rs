//! Parsing raw RFC 5322 messages into the fields the store indexes and
//! plugins read. Parsing never fails: a message is mail the user relies on
//! even when it is malformed, so whatever can be read is read, and what
//! could not be is listed in `problems`.

use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
/// One mailbox of an address header.
pub struct MailAddress {
    /// The display name, when the header gives one.
    pub name: Option<String>,
    /// As written; compare lower-cased.
    pub email: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
/// What the store and plugins know of an attachment (never its bytes).
pub struct AttachmentInfo {
    /// The file name the sender gave, if any.
    pub filename: Option<String>,
    /// `type/subtype`, lower-cased.
    pub content_type: String,
    /// Decoded size in bytes.
    pub size: u64,
    /// `Content-ID`, for inline images an HTML body refers to.
    pub content_id: Option<String>,
    /// Shown in the body rather than offered as a file.
    pub inline: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
/// The fields of one raw message, as far as they could be read.
pub struct ParsedMessage {
    /// Without angle brackets.
    pub message_id: Option<String>,
    /// `In-Reply-To`, without angle brackets.
    pub in_reply_to: Option<String>,
    /// `References`, oldest first, without angle brackets.
    pub references: Vec<String>,
    /// `From` (usually one mailbox).
    pub from: Vec<MailAddress>,
    /// `Sender`, when someone sent on behalf of `from`.
    pub sender: Option<MailAddress>,
    /// `To`.
    pub to: Vec<MailAddress>,
    /// `Cc`.
    pub cc: Vec<MailAddress>,
    /// `Bcc` (only on the sender's own copy).
    pub bcc: Vec<MailAddress>,
    /// `Reply-To`.
    pub reply_to: Vec<MailAddress>,
    /// `Subject`, decoded; empty when absent.
    pub subject: String,
    /// Date header, milliseconds since the Unix epoch.
    pub date: Option<i64>,
    /// `List-Id`, for mailing-list mail.
    pub list_id: Option<String>,
    /// Every header in order, values unfolded.
    pub headers: Vec<(String, String)>,
    /// The plain-text body (derived from the HTML one when there is no text part).
    pub text_body: String,
    /// The HTML body, if the message has one.
    pub html_body: Option<String>,
    /// Every attachment, inline ones included.
    pub attachments: Vec<AttachmentInfo>,
    /// Size of the raw message in bytes.
    pub size: u64,
    /// What could not be parsed; empty for a well-formed message.
    pub problems: Vec<String>,
}

impl ParsedMessage {
    /// A short plain-text preview for lists.
    pub fn snippet(&self, max_chars: usize) -> String {
        let collapsed = self
            .text_body
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        collapsed.chars().take(max_chars).collect()
    }
}

/// Parses `raw`; never fails (see the module doc).
pub fn parse(raw: &[u8]) -> ParsedMessage {
    let mut parsed = ParsedMessage {
        size: raw.len() as u64,
        ..Default::default()
    };
    let Some(msg) = MessageParser::default().parse(raw) else {
        parsed
            .problems
            .push("no message headers could be read".into());
        parsed.text_body = String::from_utf8_lossy(raw).into_owned();
        return parsed;
    };

    parsed.message_id = msg.message_id().map(strip_brackets);
    parsed.in_reply_to = text_list(msg.in_reply_to()).into_iter().next();
    parsed.references = text_list(msg.references());
    parsed.from = addresses(msg.from());
    parsed.sender = addresses(msg.sender()).into_iter().next();
    parsed.to = addresses(msg.to());
    parsed.cc = addresses(msg.cc());
    parsed.bcc = addresses(msg.bcc());
    parsed.reply_to = addresses(msg.reply_to());
    parsed.subject = msg.subject().unwrap_or_default().to_owned();
    parsed.date = msg.date().map(|d| d.to_timestamp() * 1000);
    parsed.list_id = msg.list_id().as_text().map(|s| strip_brackets(s.trim()));
    parsed.headers = msg
        .headers_raw()
        .map(|(name, value)| (name.to_owned(), unfold(value)))
        .collect();
    parsed.text_body = msg.body_text(0).map(|s| s.into_owned()).unwrap_or_default();
    parsed.html_body = msg
        .body_html(0)
        .map(|s| s.into_owned())
        .filter(|_| msg.html_body_count() > 0);
    if parsed.text_body.is_empty()
        && let Some(html) = &parsed.html_body
    {
        parsed.text_body = html_to_text(html);
    }
    parsed.attachments = msg
        .attachments()
        .map(|part| AttachmentInfo {
            filename: part.attachment_name().map(str::to_owned),
            content_type: part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_owned(),
                })
                .unwrap_or_else(|| "application/octet-stream".into())
                .to_ascii_lowercase(),
            size: part.len() as u64,
            content_id: part.content_id().map(strip_brackets),
            inline: part
                .content_disposition()
                .is_some_and(|d| d.ctype().eq_ignore_ascii_case("inline")),
        })
        .collect();

    if parsed.from.is_empty() {
        parsed.problems.push("no readable From address".into());
    }
    if msg.date().is_none() && msg.header_raw("Date").is_some() {
        parsed
            .problems
            .push("the Date header could not be read".into());
    }
    parsed
}

fn strip_brackets(s: &str) -> String {
    s.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned()
}

fn text_list(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => t.split_whitespace().map(strip_brackets).collect(),
        HeaderValue::TextList(list) => list.iter().map(|t| strip_brackets(t)).collect(),
        _ => Vec::new(),
    }
}

fn addresses(address: Option<&Address<'_>>) -> Vec<MailAddress> {
    let Some(address) = address else {
        return Vec::new();
    };
    address
        .iter()
        .filter_map(|a| {
            let email = a.address()?.trim();
            (!email.is_empty()).then(|| MailAddress {
                name: a
                    .name()
                    .map(|n| n.trim().to_owned())
                    .filter(|n| !n.is_empty()),
                email: email.to_owned(),
            })
        })
        .collect()
}

fn unfold(value: &str) -> String {
    value
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Text of an HTML body for messages that have no text part: tags dropped,
/// block ends turned into line breaks, common entities decoded.
fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut in_tag = false;
    let mut tag = String::new();
    let mut skip_depth = 0u32;
    for c in html.chars() {
        match (in_tag, c) {
            (false, '<') => {
                in_tag = true;
                tag.clear();
            }
            (true, '>') => {
                in_tag = false;
                let name = tag
                    .trim_start_matches('/')
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                if matches!(name.as_str(), "style" | "script") {
                    if tag.starts_with('/') {
                        skip_depth = skip_depth.saturating_sub(1)
                    } else {
                        skip_depth += 1
                    }
                }
                if matches!(
                    name.as_str(),
                    "br" | "p" | "div" | "tr" | "li" | "h1" | "h2" | "h3"
                ) {
                    out.push('\n');
                }
            }
            (true, c) => tag.push(c),
            (false, c) if skip_depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_fields_plugins_and_the_index_need() {
        let raw = b"From: \"Ann Example\" <ann@example.com>\r\nTo: bob@example.org, Carl <carl@example.net>\r\n\
Cc: dee@example.com\r\nSubject: Quote for\r\n 20 seats\r\nMessage-ID: <abc@example.com>\r\n\
In-Reply-To: <prev@example.com>\r\nList-Id: Sales <sales.example.com>\r\n\
Date: Tue, 3 Nov 2026 10:00:00 +0000\r\n\r\nHello Bob,\r\nplease send the quote.\r\n";
        let m = parse(raw);
        assert_eq!(m.message_id.as_deref(), Some("abc@example.com"));
        assert_eq!(m.in_reply_to.as_deref(), Some("prev@example.com"));
        assert_eq!(
            m.from,
            vec![MailAddress {
                name: Some("Ann Example".into()),
                email: "ann@example.com".into()
            }]
        );
        assert_eq!(m.to.len(), 2);
        assert_eq!(m.cc[0].email, "dee@example.com");
        assert_eq!(m.subject, "Quote for 20 seats");
        assert_eq!(m.date, Some(1_793_700_000_000));
        assert!(m.text_body.contains("please send the quote"));
        assert!(
            m.headers
                .iter()
                .any(|(n, v)| n == "Subject" && v == "Quote for 20 seats")
        );
        assert!(m.problems.is_empty(), "{:?}", m.problems);
    }

    #[test]
    fn garbage_is_kept_as_text_with_a_problem() {
        let m = parse(b"\x00\x01 not a message at all");
        assert_eq!(m.size, 23);
        assert!(!m.problems.is_empty());
    }

    #[test]
    fn html_only_messages_get_a_text_body() {
        let raw = b"From: a@b.c\r\nContent-Type: text/html\r\n\r\n<html><style>p{}</style><p>Hi &amp; welcome</p></html>";
        let m = parse(raw);
        assert!(m.text_body.contains("Hi & welcome"), "{:?}", m.text_body);
        assert!(!m.text_body.contains("p{}"));
    }
}
