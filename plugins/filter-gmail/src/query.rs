//! Gmail's search syntax, as used in the `from`, `to`, `subject`,
//! `hasTheWord` and `doesNotHaveTheWord` properties, turned into a [`Cond`].
//!
//! Every operator Gmail documents (support.google.com/mail/answer/7190) is
//! either a condition or reported in [`Parsed::unsupported`] by name:
//!
//! - words and `"quoted phrases"`, implicit AND, `OR` (and `|`), `-`
//!   negation, `( … )` grouping, `{ … }` (any of); as in Gmail, `OR` binds
//!   tighter than the implicit AND: `a b OR c` is `a AND (b OR c)`;
//! - `from:` `to:` `cc:` `bcc:` `replyto:` `subject:` `filename:` `list:`
//!   `deliveredto:` (the envelope recipient) `rfc822msgid:` (the
//!   `Message-ID` header) `larger:` `smaller:` `size:` `has:attachment`,
//!   each taking a word, a phrase or a group (`list:{a b}`);
//! - `has:drive`, `has:document`, `has:spreadsheet`, `has:presentation`,
//!   `has:youtube`: a link to it in the body (`drive.google.com`,
//!   `docs.google.com/document` …, `youtube.com/`, `youtu.be/`), which is
//!   how such mail reaches a non-Gmail mailbox;
//! - `+word` (this word exactly, not a variant) and `a AROUND n b` (within
//!   `n` words, either order; in quotes, in that order): a regular
//!   expression with word boundaries;
//! - not expressible, hence reported: `is:` `in:` `label:` `category:` and
//!   the other `has:` values (stars, `userlabels`, `nouserlabels`: state in
//!   the Gmail mailbox), `after:` `before:` `older:` `newer:`
//!   `older_than:` `newer_than:` (time relative to the search).
//!
//! A filter with a reported part must not run blindly, since it is broader
//! than the original: the caller imports it disabled.

use mailroom_plugin_sdk::rules::Cond;
use mailroom_plugin_sdk::types::{Field, MatchType};

/// What a bare word means where it appears.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scope {
    /// One field, e.g. the `from` property or a `from:` operator.
    Field(Field),
    /// Gmail's "has the words": subject or body.
    Anywhere,
    /// `list:` — the List-Id.
    List,
    /// `larger:` / `size:` and `smaller:`.
    Larger,
    Smaller,
    /// `has:` — attachments and links to Google documents.
    Has,
    /// `rfc822msgid:` — the Message-ID header.
    MessageId,
    /// An operator Mailroom cannot express; the name is kept for the warning.
    Unsupported(&'static str),
}

#[derive(Debug, Default)]
pub struct Parsed {
    /// `None` when nothing expressible was left.
    pub cond: Option<Cond>,
    /// Operators and terms that were left out.
    pub unsupported: Vec<String>,
}

pub fn parse(query: &str, scope: Scope) -> Parsed {
    let tokens = lex(query);
    let mut parser = Parser {
        tokens,
        pos: 0,
        unsupported: Vec::new(),
    };
    let mut parts = Vec::new();
    while parser.pos < parser.tokens.len() {
        if matches!(parser.peek(), Some(Tok::Close(_))) {
            parser.unsupported.push("unbalanced bracket".into());
            parser.pos += 1;
            continue;
        }
        // `and_item` always consumes at least one token, so this ends.
        if let Some(c) = parser.and_item(scope) {
            parts.push(c);
        }
    }
    Parsed {
        cond: (!parts.is_empty()).then(|| Cond::all(parts)),
        unsupported: parser.unsupported,
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Phrase(String),
    Open(char),
    Close(char),
    Minus,
    Or,
}

fn lex(query: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut chars = query.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | '{' => {
                chars.next();
                out.push(Tok::Open(c));
            }
            ')' | '}' => {
                chars.next();
                out.push(Tok::Close(c));
            }
            '"' => {
                chars.next();
                let phrase: String = chars.by_ref().take_while(|&c| c != '"').collect();
                out.push(Tok::Phrase(phrase));
            }
            '-' if out
                .last()
                .is_none_or(|t| !matches!(t, Tok::Word(w) if w.ends_with(':'))) =>
            {
                chars.next();
                out.push(Tok::Minus);
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '{' | '}' | '"') {
                        break;
                    }
                    word.push(c);
                    chars.next();
                    // `subject:"x"` and `list:{a b}`: the operator stands alone.
                    if c == ':' && chars.peek().is_some_and(|n| matches!(n, '"' | '(' | '{')) {
                        break;
                    }
                }
                out.push(if word == "OR" || word == "|" {
                    Tok::Or
                } else {
                    Tok::Word(word)
                });
            }
        }
    }
    out
}

struct Parser {
    tokens: Vec<Tok>,
    pos: usize,
    unsupported: Vec<String>,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    /// One item of an implicit AND: unary (`OR` unary)*.
    fn and_item(&mut self, scope: Scope) -> Option<Cond> {
        if let Some(near) = self.around(scope) {
            return near;
        }
        let mut alternatives = vec![self.unary(scope)];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            alternatives.push(self.unary(scope));
        }
        // An OR with a part that cannot be expressed cannot be expressed.
        let all: Option<Vec<Cond>> = alternatives.into_iter().collect();
        all.map(Cond::any)
    }

    /// `a AROUND n b` at the cursor, if that is what is there: words within
    /// `n` of each other, in either order. `None` when it is not; `Some(None)`
    /// when it is but cannot be expressed.
    fn around(&mut self, scope: Scope) -> Option<Option<Cond>> {
        let (Some(Tok::Word(a)), Some(Tok::Word(op)), Some(Tok::Word(n))) = (
            self.tokens.get(self.pos),
            self.tokens.get(self.pos + 1),
            self.tokens.get(self.pos + 2),
        ) else {
            return None;
        };
        if op != "AROUND" {
            return None;
        }
        let (a, n) = (a.clone(), n.clone());
        self.pos += 3;
        let b = match self.next() {
            Some(Tok::Word(b)) | Some(Tok::Phrase(b)) => b,
            _ => {
                self.unsupported.push(format!("{a} AROUND {n}"));
                return Some(None);
            }
        };
        let Ok(n) = n.parse::<u32>() else {
            self.unsupported.push(format!("{a} AROUND {n} {b}"));
            return Some(None);
        };
        Some(self.near(scope, &a, n, &b, false))
    }

    /// `a` within `n` words before `b` (or after it, unless `ordered`).
    fn near(&mut self, scope: Scope, a: &str, n: u32, b: &str, ordered: bool) -> Option<Cond> {
        let fields: &[Field] = match scope {
            Scope::Field(f) => &[f][..],
            Scope::Anywhere => &[Field::Subject, Field::Body],
            _ => {
                self.unsupported.push(format!("{a} AROUND {n} {b}"));
                return None;
            }
        };
        let (a, b) = (regex::escape(a), regex::escape(b));
        let gap = format!(r"(?:\s+\S+){{0,{n}}}\s+");
        let mut pattern = format!(r"\b{a}\b{gap}\b{b}\b");
        if !ordered {
            pattern = format!(r"{pattern}|\b{b}\b{gap}\b{a}\b");
        }
        Some(Cond::any(
            fields
                .iter()
                .map(|f| Cond::test(*f, MatchType::Regex, pattern.clone()))
                .collect(),
        ))
    }

    fn unary(&mut self, scope: Scope) -> Option<Cond> {
        if self.peek() == Some(&Tok::Minus) {
            self.pos += 1;
            return self.unary(scope).map(Cond::not);
        }
        self.primary(scope)
    }

    fn primary(&mut self, scope: Scope) -> Option<Cond> {
        let Some(token) = self.next() else {
            self.unsupported.push("incomplete search expression".into());
            return None;
        };
        match token {
            Tok::Open(open) => {
                let close = if open == '(' { ')' } else { '}' };
                let mut items = Vec::new();
                let mut complete = true;
                while let Some(t) = self.peek() {
                    if *t == Tok::Close(close) {
                        break;
                    }
                    if matches!(t, Tok::Close(_)) {
                        self.pos += 1;
                        continue;
                    }
                    match self.and_item(scope) {
                        Some(c) => items.push(c),
                        None => complete = false,
                    }
                }
                self.pos += 1; // the closing bracket (or the end)
                if items.is_empty() || (open == '{' && !complete) {
                    return None;
                }
                // `{a b}` is "any of"; `(a b)` is "all of".
                Some(if open == '{' {
                    Cond::any(items)
                } else {
                    Cond::all(items)
                })
            }
            Tok::Close(_) | Tok::Or | Tok::Minus => {
                self.unsupported.push("malformed search expression".into());
                None
            }
            Tok::Phrase(p) => match quoted_around(&p) {
                Some((a, n, b)) => self.near(scope, a, n, b, true),
                None => self.term(scope, &p),
            },
            Tok::Word(w) => match w.split_once(':') {
                Some((op, value)) if operator(op).is_some() => {
                    let inner = operator(op).unwrap_or(scope);
                    if value.is_empty() {
                        self.primary(inner)
                    } else {
                        self.term(inner, value)
                    }
                }
                _ => self.term(scope, &w),
            },
        }
    }

    fn term(&mut self, scope: Scope, value: &str) -> Option<Cond> {
        let exact = value.len() > 1 && value.starts_with('+');
        let text = |field| {
            if exact {
                let word = regex::escape(&value[1..]);
                Cond::test(field, MatchType::Regex, format!(r"\b{word}\b"))
            } else if value.contains(['*', '?']) {
                Cond::test(field, MatchType::Matches, value)
            } else {
                Cond::test(field, MatchType::Contains, value)
            }
        };
        match scope {
            Scope::Field(field) => Some(text(field)),
            Scope::Anywhere => Some(Cond::any(vec![text(Field::Subject), text(Field::Body)])),
            Scope::List => Some(text(Field::ListId)),
            Scope::Larger | Scope::Smaller => match size_bytes(value) {
                Some(bytes) => {
                    let mt = if scope == Scope::Larger {
                        MatchType::GreaterThan
                    } else {
                        MatchType::LessThan
                    };
                    Some(Cond::test(Field::Size, mt, bytes.to_string()))
                }
                None => {
                    self.unsupported.push(format!("size `{value}`"));
                    None
                }
            },
            Scope::Has => {
                let links = |hosts: &[&str]| {
                    Cond::any(
                        hosts
                            .iter()
                            .map(|h| Cond::test(Field::Body, MatchType::Contains, *h))
                            .collect(),
                    )
                };
                match value.to_ascii_lowercase().as_str() {
                    "attachment" => Some(Cond::test(Field::HasAttachment, MatchType::Exists, "")),
                    "drive" => Some(links(&["drive.google.com/", "docs.google.com/"])),
                    "document" => Some(links(&["docs.google.com/document/"])),
                    "spreadsheet" => Some(links(&["docs.google.com/spreadsheets/"])),
                    "presentation" => Some(links(&["docs.google.com/presentation/"])),
                    "youtube" => Some(links(&["youtube.com/", "youtu.be/"])),
                    _ => {
                        self.unsupported.push(format!("has:{value}"));
                        None
                    }
                }
            }
            Scope::MessageId => Some(Cond::header(
                "Message-ID",
                MatchType::Contains,
                value.trim_start_matches('<').trim_end_matches('>'),
            )),
            Scope::Unsupported(op) => {
                self.unsupported.push(format!("{op}:{value}"));
                None
            }
        }
    }
}

fn operator(op: &str) -> Option<Scope> {
    Some(match op.to_ascii_lowercase().as_str() {
        "from" => Scope::Field(Field::From),
        // Gmail's `to:` also finds mail where the address is in Cc.
        "to" => Scope::Field(Field::Recipients),
        "cc" => Scope::Field(Field::Cc),
        "bcc" => Scope::Field(Field::Bcc),
        "replyto" => Scope::Field(Field::ReplyTo),
        "subject" => Scope::Field(Field::Subject),
        "filename" => Scope::Field(Field::AttachmentName),
        "list" => Scope::List,
        "larger" | "size" => Scope::Larger,
        "smaller" => Scope::Smaller,
        "has" => Scope::Has,
        "is" => Scope::Unsupported("is"),
        "in" => Scope::Unsupported("in"),
        "label" => Scope::Unsupported("label"),
        "category" => Scope::Unsupported("category"),
        "deliveredto" => Scope::Field(Field::EnvelopeTo),
        "after" => Scope::Unsupported("after"),
        "before" => Scope::Unsupported("before"),
        "older" => Scope::Unsupported("older"),
        "newer" => Scope::Unsupported("newer"),
        "older_than" => Scope::Unsupported("older_than"),
        "newer_than" => Scope::Unsupported("newer_than"),
        "rfc822msgid" => Scope::MessageId,
        _ => return None,
    })
}

/// `"a AROUND n b"` inside quotes: (a, n, b).
fn quoted_around(phrase: &str) -> Option<(&str, u32, &str)> {
    let words: Vec<&str> = phrase.split_whitespace().collect();
    match words.as_slice() {
        [a, "AROUND", n, b] => Some((a, n.parse().ok()?, b)),
        _ => None,
    }
}

/// `10M`, `100K`, `2000`, `5MB` → bytes (binary units, as Gmail uses).
pub fn size_bytes(value: &str) -> Option<u64> {
    let v = value.trim().to_ascii_uppercase();
    let v = v.strip_suffix('B').unwrap_or(&v);
    let (digits, unit) = match v.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => v.split_at(i),
        None => (v, ""),
    };
    let n: u64 = digits.parse().ok()?;
    let factor = match unit {
        "" => 1,
        "K" => 1024,
        "M" => 1024 * 1024,
        "G" => 1024 * 1024 * 1024,
        _ => return None,
    };
    n.checked_mul(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(field: Field, v: &str) -> Cond {
        Cond::test(field, MatchType::Contains, v)
    }

    #[test]
    fn operators_and_negation() {
        let p = parse(
            "cc:peeker@yahoo.com -subject:\"a subject\"",
            Scope::Anywhere,
        );
        assert_eq!(
            p.cond,
            Some(Cond::All(vec![
                t(Field::Cc, "peeker@yahoo.com"),
                t(Field::Subject, "a subject").not()
            ]))
        );
        assert!(p.unsupported.is_empty());
    }

    #[test]
    fn brace_groups_are_any() {
        let p = parse("list:{a b} -to:none@gmail.com", Scope::Anywhere);
        assert_eq!(
            p.cond,
            Some(Cond::All(vec![
                Cond::Any(vec![t(Field::ListId, "a"), t(Field::ListId, "b")]),
                t(Field::Recipients, "none@gmail.com").not(),
            ]))
        );
    }

    #[test]
    fn or_binds_tighter_than_and() {
        let p = parse("a OR b c", Scope::Field(Field::From));
        assert_eq!(
            p.cond,
            Some(Cond::All(vec![
                Cond::Any(vec![t(Field::From, "a"), t(Field::From, "b")]),
                t(Field::From, "c")
            ]))
        );
    }

    #[test]
    fn phrases_anywhere() {
        let p = parse("\"buy this thing\"", Scope::Anywhere);
        assert_eq!(
            p.cond,
            Some(Cond::Any(vec![
                t(Field::Subject, "buy this thing"),
                t(Field::Body, "buy this thing")
            ]))
        );
    }

    #[test]
    fn unsupported_is_reported() {
        let p = parse("is:muted from:x", Scope::Anywhere);
        assert_eq!(p.cond, Some(t(Field::From, "x")));
        assert_eq!(p.unsupported, ["is:muted"]);
    }

    #[test]
    fn sizes() {
        assert_eq!(size_bytes("10M"), Some(10 * 1024 * 1024));
        assert_eq!(size_bytes("512k"), Some(512 * 1024));
        assert_eq!(size_bytes("300"), Some(300));
        assert_eq!(size_bytes("lots"), None);
        let p = parse("larger:1M has:attachment", Scope::Anywhere);
        assert_eq!(
            p.cond,
            Some(Cond::All(vec![
                Cond::test(Field::Size, MatchType::GreaterThan, "1048576"),
                Cond::test(Field::HasAttachment, MatchType::Exists, ""),
            ]))
        );
    }

    #[test]
    fn every_documented_operator_is_a_condition_or_reported() {
        let conds = [
            (
                "deliveredto:me@example.com",
                Cond::test(Field::EnvelopeTo, MatchType::Contains, "me@example.com"),
            ),
            (
                "rfc822msgid:<abc@mail.example.com>",
                Cond::header("Message-ID", MatchType::Contains, "abc@mail.example.com"),
            ),
            (
                "has:youtube",
                Cond::any(vec![
                    Cond::test(Field::Body, MatchType::Contains, "youtube.com/"),
                    Cond::test(Field::Body, MatchType::Contains, "youtu.be/"),
                ]),
            ),
            (
                "has:spreadsheet",
                Cond::test(
                    Field::Body,
                    MatchType::Contains,
                    "docs.google.com/spreadsheets/",
                ),
            ),
            (
                "filename:pdf",
                Cond::test(Field::AttachmentName, MatchType::Contains, "pdf"),
            ),
            ("bcc:boss", t(Field::Bcc, "boss")),
            (
                "+unicorn",
                Cond::any(vec![
                    Cond::test(Field::Subject, MatchType::Regex, r"\bunicorn\b"),
                    Cond::test(Field::Body, MatchType::Regex, r"\bunicorn\b"),
                ]),
            ),
            (
                "subject:(dinner movie)",
                Cond::all(vec![
                    t(Field::Subject, "dinner"),
                    t(Field::Subject, "movie"),
                ]),
            ),
        ];
        for (query, expected) in conds {
            let p = parse(query, Scope::Anywhere);
            assert_eq!(p.cond, Some(expected), "{query}");
            assert!(p.unsupported.is_empty(), "{query}: {:?}", p.unsupported);
        }
        for query in [
            "is:unread",
            "is:starred",
            "in:anywhere",
            "label:work",
            "category:promotions",
            "has:yellow-star",
            "has:userlabels",
            "has:nouserlabels",
            "after:2004/04/16",
            "before:2004/04/18",
            "older:2004/04/16",
            "newer:2004/04/16",
            "older_than:1y",
            "newer_than:2d",
        ] {
            let p = parse(query, Scope::Anywhere);
            assert_eq!(p.cond, None, "{query}");
            assert_eq!(p.unsupported, [query], "{query}");
        }
    }

    #[test]
    fn around_is_a_pattern_within_n_words() {
        let p = parse("holiday AROUND 10 vacation", Scope::Field(Field::Subject));
        let expected = r"\bholiday\b(?:\s+\S+){0,10}\s+\bvacation\b|\bvacation\b(?:\s+\S+){0,10}\s+\bholiday\b";
        assert_eq!(
            p.cond,
            Some(Cond::test(Field::Subject, MatchType::Regex, expected))
        );
        let p = parse("\"secret AROUND 25 birthday\"", Scope::Field(Field::Body));
        assert_eq!(
            p.cond,
            Some(Cond::test(
                Field::Body,
                MatchType::Regex,
                r"\bsecret\b(?:\s+\S+){0,25}\s+\bbirthday\b"
            ))
        );
        let p = parse("a AROUND many b", Scope::Anywhere);
        assert_eq!(p.unsupported, ["a AROUND many b"]);
    }

    #[test]
    fn garbage_does_not_hang() {
        for q in [
            ")", "((", "{", "-", "OR", "a OR", "from:", "\"open", "} a {",
        ] {
            let _ = parse(q, Scope::Anywhere);
        }
    }
}
