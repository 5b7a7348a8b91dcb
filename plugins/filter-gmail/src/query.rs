//! Gmail's search syntax, as used in the `from`, `to`, `subject`,
//! `hasTheWord` and `doesNotHaveTheWord` properties, turned into a [`Cond`].
//!
//! Supported: words and `"quoted phrases"`, implicit AND, `OR` (and `|`),
//! `-` negation, `( … )` grouping, `{ … }` (any of), and the operators
//! `from:` `to:` `cc:` `bcc:` `deliveredto:` `replyto:` `subject:` `list:`
//! `filename:` `has:attachment` `larger:` `smaller:` `size:`, each taking a
//! word, a phrase or a group (`list:{a b}`). As in Gmail, `OR` binds tighter
//! than the implicit AND: `a b OR c` is `a AND (b OR c)`.
//!
//! Anything else (`is:`, `label:`, `in:`, `category:`, dates…) cannot be
//! expressed in Mailroom's rule model; it is reported in
//! [`Parsed::unsupported`] and left out, and the caller must not run the
//! resulting rule blindly since it is broader than the original.

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
    /// `has:` — only `has:attachment` can be expressed.
    Has,
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
        let mut alternatives = vec![self.unary(scope)];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            alternatives.push(self.unary(scope));
        }
        // An OR with a part that cannot be expressed cannot be expressed.
        let all: Option<Vec<Cond>> = alternatives.into_iter().collect();
        all.map(Cond::any)
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
            Tok::Phrase(p) => self.term(scope, &p),
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
        let text = |field| {
            let mt = if value.contains(['*', '?']) {
                MatchType::Matches
            } else {
                MatchType::Contains
            };
            Cond::test(field, mt, value)
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
            Scope::Has if value.eq_ignore_ascii_case("attachment") => {
                Some(Cond::test(Field::HasAttachment, MatchType::Exists, ""))
            }
            Scope::Has => {
                self.unsupported.push(format!("has:{value}"));
                None
            }
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
        "deliveredto" => Scope::Unsupported("deliveredto"),
        "after" => Scope::Unsupported("after"),
        "before" => Scope::Unsupported("before"),
        "older" => Scope::Unsupported("older"),
        "newer" => Scope::Unsupported("newer"),
        "older_than" => Scope::Unsupported("older_than"),
        "newer_than" => Scope::Unsupported("newer_than"),
        "rfc822msgid" => Scope::Unsupported("rfc822msgid"),
        _ => return None,
    })
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
    fn garbage_does_not_hang() {
        for q in [
            ")", "((", "{", "-", "OR", "a OR", "from:", "\"open", "} a {",
        ] {
            let _ = parse(q, Scope::Anywhere);
        }
    }
}
