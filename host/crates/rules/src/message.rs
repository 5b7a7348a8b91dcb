//! The message as the engine reads it: borrowed fields of whatever parsed
//! the mail (the pipeline's contract message, a test's literal), and the
//! values each rule field stands for, derived once per message and shared by
//! every condition of every rule.

use crate::model::Field;
use std::cell::OnceCell;

/// One mailbox address.
#[derive(Clone, Copy, Debug, Default)]
pub struct Address<'a> {
    /// The display name, if the header had one.
    pub name: Option<&'a str>,
    /// The address.
    pub email: &'a str,
}

/// One attachment.
#[derive(Clone, Copy, Debug, Default)]
pub struct Attachment<'a> {
    /// Its file name, if it has one.
    pub filename: Option<&'a str>,
    /// Shown inside the body (an image of a signature) rather than attached.
    pub inline: bool,
}

/// The parts of a parsed message rules look at.
#[derive(Clone, Debug, Default)]
pub struct MessageView<'a> {
    /// `From`.
    pub from: Vec<Address<'a>>,
    /// `To`.
    pub to: Vec<Address<'a>>,
    /// `Cc`.
    pub cc: Vec<Address<'a>>,
    /// `Bcc`.
    pub bcc: Vec<Address<'a>>,
    /// `Reply-To`.
    pub reply_to: Vec<Address<'a>>,
    /// The decoded subject.
    pub subject: &'a str,
    /// The plain-text body.
    pub body: &'a str,
    /// Every header, in order, values decoded and unfolded.
    pub headers: Vec<(&'a str, &'a str)>,
    /// Every attachment.
    pub attachments: Vec<Attachment<'a>>,
    /// The raw size in bytes.
    pub size: u64,
}

/// The text values of one field, and their lower-cased forms when a
/// condition ignoring case first asks.
pub(crate) struct Values<'a> {
    pub original: Vec<&'a str>,
    lower: OnceCell<Vec<String>>,
}

impl<'a> Values<'a> {
    fn new(original: Vec<&'a str>) -> Self {
        Self {
            original,
            lower: OnceCell::new(),
        }
    }

    /// Whether `test` holds for any value, as written or lower-cased.
    pub fn any(&self, case_sensitive: bool, mut test: impl FnMut(&str) -> bool) -> bool {
        if case_sensitive {
            self.original.iter().any(|s| test(s))
        } else {
            let lower = self
                .lower
                .get_or_init(|| self.original.iter().map(|s| s.to_lowercase()).collect());
            lower.iter().any(|s| test(s))
        }
    }
}

/// Number of [`Field`]s whose values are cached (all but `header`, `size`
/// and `has-attachment`, which are cheap or keyed by name).
const CACHED_FIELDS: usize = 17;

/// A message with its field values derived lazily, once.
pub(crate) struct Prepared<'m, 'a> {
    pub view: &'m MessageView<'a>,
    cache: [OnceCell<Values<'a>>; CACHED_FIELDS],
}

impl<'m, 'a> Prepared<'m, 'a> {
    pub fn new(view: &'m MessageView<'a>) -> Self {
        Self {
            view,
            cache: std::array::from_fn(|_| OnceCell::new()),
        }
    }

    /// The text values `field` stands for (`header` is read by
    /// [`Self::header`]).
    pub fn values(&self, field: Field) -> &Values<'a> {
        self.cache[field as usize].get_or_init(|| Values::new(self.derive(field)))
    }

    /// Every value of the header `name` (lower-case), in order.
    pub fn header(&self, name: &str) -> Values<'a> {
        Values::new(self.header_values(name).collect())
    }

    fn header_values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'a str> + 's {
        self.view
            .headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    /// Whether a file is attached (inline parts count when they have a name).
    pub fn has_attachment(&self) -> bool {
        self.view
            .attachments
            .iter()
            .any(|a| !a.inline || a.filename.is_some_and(|f| !f.is_empty()))
    }

    fn derive(&self, field: Field) -> Vec<&'a str> {
        let v = self.view;
        let addresses = |lists: &[&Vec<Address<'a>>]| -> Vec<&'a str> {
            lists
                .iter()
                .flat_map(|list| list.iter())
                .flat_map(|a| std::iter::once(a.email).chain(a.name))
                .collect()
        };
        match field {
            Field::From => addresses(&[&v.from]),
            Field::To => addresses(&[&v.to]),
            Field::Cc => addresses(&[&v.cc]),
            Field::Bcc => addresses(&[&v.bcc]),
            Field::Recipients => addresses(&[&v.to, &v.cc, &v.bcc]),
            Field::ToOrCc => addresses(&[&v.to, &v.cc]),
            Field::ReplyTo => addresses(&[&v.reply_to]),
            Field::Subject => vec![v.subject],
            Field::Body => vec![v.body],
            Field::AttachmentName => v.attachments.iter().filter_map(|a| a.filename).collect(),
            Field::ListId => self
                .header_values("list-id")
                .flat_map(|value| std::iter::once(value.trim()).chain(angle_inside(value)))
                .collect(),
            Field::Priority => vec![self.priority()],
            Field::EnvelopeFrom => self
                .header_values("return-path")
                .map(|value| angle_inside(value).unwrap_or(value.trim()))
                .collect(),
            Field::EnvelopeTo => self
                .header_values("delivered-to")
                .chain(self.header_values("x-original-to"))
                .map(|value| angle_inside(value).unwrap_or(value.trim()))
                .collect(),
            Field::Header | Field::Size | Field::HasAttachment => Vec::new(),
        }
    }

    /// `high`, `normal` or `low`: `X-Priority` (1–2 high, 4–5 low) first,
    /// then `Importance`, then `Priority` (`urgent`, `non-urgent`).
    fn priority(&self) -> &'static str {
        if let Some(value) = self.header_values("x-priority").next() {
            match value.trim().chars().next() {
                Some('1' | '2') => return "high",
                Some('4' | '5') => return "low",
                Some('3') => return "normal",
                _ => {}
            }
        }
        for header in ["importance", "priority"] {
            if let Some(value) = self.header_values(header).next() {
                let value = value.trim().to_ascii_lowercase();
                match value.as_str() {
                    "high" | "urgent" => return "high",
                    "low" | "non-urgent" => return "low",
                    _ => {}
                }
            }
        }
        "normal"
    }
}

/// The text between `<` and `>`, if there is one (`List-Id: Name <id>`,
/// `Return-Path: <a@b>`).
fn angle_inside(value: &str) -> Option<&str> {
    let start = value.find('<')? + 1;
    let end = start + value[start..].find('>')?;
    Some(value[start..end].trim())
}
