//! Sieve's tokens (RFC 5228, section 8.1): identifiers, `:tags`, numbers
//! with `K`/`M`/`G`, quoted strings with `\` escapes, `text:` multi-line
//! strings with dot-stuffing, the punctuation, and both kinds of comment.
//! Every token keeps its byte offset for positions; a lexical error says
//! what was wrong at which offset.

/// One token.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// A command or test name, as written.
    Ident(String),
    /// `:name`, without the colon.
    Tag(String),
    Number(u64),
    /// A quoted or multi-line string, escapes and dot-stuffing undone.
    Str(String),
    Semicolon,
    Comma,
    Open(char),
    Close(char),
}

impl Tok {
    /// The token as an admin would recognise it in a message.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(name) => format!("`{name}`"),
            Tok::Tag(name) => format!("`:{name}`"),
            Tok::Number(n) => format!("the number {n}"),
            Tok::Str(_) => "a string".into(),
            Tok::Semicolon => "`;`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Open(c) | Tok::Close(c) => format!("`{c}`"),
        }
    }
}

/// A token and where it starts and ends (byte offsets).
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

/// What is wrong, and at which byte offset.
#[derive(Clone, Debug, PartialEq)]
pub struct LexError {
    pub message: String,
    pub offset: usize,
}

fn fail<T>(message: impl Into<String>, offset: usize) -> Result<T, LexError> {
    Err(LexError {
        message: message.into(),
        offset,
    })
}

/// The tokens of `text`.
pub fn lex(text: &str) -> Result<Vec<Token>, LexError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let c = bytes[i];
        let tok = match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'#' => {
                i = line_end(bytes, i);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                match text[i + 2..].find("*/") {
                    Some(end) => i += 2 + end + 2,
                    None => return fail("a `/*` comment is never closed with `*/`", start),
                }
                continue;
            }
            b';' => single(&mut i, Tok::Semicolon),
            b',' => single(&mut i, Tok::Comma),
            b'(' | b'[' | b'{' => single(&mut i, Tok::Open(c as char)),
            b')' | b']' | b'}' => single(&mut i, Tok::Close(c as char)),
            b'"' => {
                let (value, end) = quoted(text, i)?;
                i = end;
                Tok::Str(value)
            }
            b':' => {
                let end = identifier_end(bytes, i + 1);
                if end == i + 1 {
                    return fail("`:` must start a tag such as `:is` or `:contains`", start);
                }
                i = end;
                Tok::Tag(text[start + 1..end].to_string())
            }
            b'0'..=b'9' => {
                let (n, end) = number(text, i)?;
                i = end;
                Tok::Number(n)
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let end = identifier_end(bytes, i);
                let word = &text[i..end];
                if word.eq_ignore_ascii_case("text") && bytes.get(end) == Some(&b':') {
                    let (value, after) = multi_line(text, start, end + 1)?;
                    i = after;
                    Tok::Str(value)
                } else {
                    i = end;
                    Tok::Ident(word.to_string())
                }
            }
            _ => {
                let ch = text[i..].chars().next().unwrap_or('?');
                return fail(
                    format!("unexpected character `{}`", ch.escape_debug()),
                    start,
                );
            }
        };
        tokens.push(Token { tok, start, end: i });
    }
    Ok(tokens)
}

fn single(i: &mut usize, tok: Tok) -> Tok {
    *i += 1;
    tok
}

fn line_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| from + p + 1)
}

fn identifier_end(bytes: &[u8], from: usize) -> usize {
    let mut end = from;
    if end < bytes.len() && (bytes[end].is_ascii_alphabetic() || bytes[end] == b'_') {
        end += 1;
        while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
            end += 1;
        }
    }
    end
}

/// A number with an optional `K`, `M` or `G` (1024-based); too large for 64
/// bits is an error.
fn number(text: &str, start: usize) -> Result<(u64, usize), LexError> {
    let bytes = text.as_bytes();
    let mut end = start;
    while end < bytes.len() && bytes[end].is_ascii_digit() {
        end += 1;
    }
    let digits_end = end;
    let too_large = || LexError {
        message: format!(
            "the number `{}` is too large: Sieve numbers are at most 2^64 - 1 bytes",
            filter_common::check::shorten(&text[start..digits_end])
        ),
        offset: start,
    };
    let mut value: u64 = text[start..end].parse().map_err(|_| too_large())?;
    let factor = match bytes.get(end).map(u8::to_ascii_uppercase) {
        Some(b'K') => 1u64 << 10,
        Some(b'M') => 1 << 20,
        Some(b'G') => 1 << 30,
        _ => 1,
    };
    if factor > 1 {
        end += 1;
        value = value.checked_mul(factor).ok_or_else(too_large)?;
    }
    Ok((value, end))
}

/// A `"…"` string from `start` (the opening quote): `\` takes the next
/// character as it is. Returns the value and the offset after the closing quote.
fn quoted(text: &str, start: usize) -> Result<(String, usize), LexError> {
    let mut value = String::new();
    let mut chars = text[start + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((value, start + 1 + i + 1)),
            '\\' => match chars.next() {
                Some((_, escaped)) => value.push(escaped),
                None => break,
            },
            other => value.push(other),
        }
    }
    fail(
        "a string is never closed: a `\"` is missing (write `\\\"` for a quote inside a string)",
        start,
    )
}

/// A `text:` string: after `text:` only white space and a `#` comment may
/// follow on its line; then lines up to one holding a single `.`, with a
/// leading `..` read as `.`.
fn multi_line(text: &str, start: usize, after_colon: usize) -> Result<(String, usize), LexError> {
    let bytes = text.as_bytes();
    let mut i = after_colon;
    while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
        i += 1;
    }
    match bytes.get(i) {
        Some(b'#') => i = line_end(bytes, i),
        Some(b'\r') if bytes.get(i + 1) == Some(&b'\n') => i += 2,
        Some(b'\n') => i += 1,
        _ => {
            return fail(
                "after `text:` the string starts on the next line; only a `#` comment may follow on this one",
                i,
            );
        }
    }
    let mut value = String::new();
    while i < bytes.len() {
        let end = line_end(bytes, i);
        let line = &text[i..end];
        let content = line.trim_end_matches(['\r', '\n']);
        if content == "." {
            return Ok((value, end));
        }
        value.push_str(
            line.strip_prefix('.')
                .filter(|_| content.starts_with(".."))
                .unwrap_or(line),
        );
        i = end;
    }
    fail(
        "a `text:` string never ends: it needs a line holding only `.`",
        start,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(text: &str) -> Vec<Tok> {
        lex(text).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn tokens_comments_and_numbers() {
        assert_eq!(
            toks("if size :over 10K { # c\n /* x\n y */ stop; }"),
            vec![
                Tok::Ident("if".into()),
                Tok::Ident("size".into()),
                Tok::Tag("over".into()),
                Tok::Number(10240),
                Tok::Open('{'),
                Tok::Ident("stop".into()),
                Tok::Semicolon,
                Tok::Close('}'),
            ]
        );
        assert_eq!(
            toks("1m 2g 3"),
            vec![Tok::Number(1 << 20), Tok::Number(2 << 30), Tok::Number(3)]
        );
    }

    #[test]
    fn strings_escapes_and_dot_stuffing() {
        assert_eq!(toks(r#""a\"b\\c\d""#), vec![Tok::Str("a\"b\\cd".into())]);
        assert_eq!(
            toks("text: # comment\nLine 1\n..Line 2\n.Line 3\n.\n;"),
            vec![
                Tok::Str("Line 1\n.Line 2\n.Line 3\n".into()),
                Tok::Semicolon
            ]
        );
        assert_eq!(toks("text:\r\nA\r\n.\r\n"), vec![Tok::Str("A\r\n".into())]);
    }

    #[test]
    fn errors_have_offsets() {
        let e = lex("stop;\n\"open").unwrap_err();
        assert_eq!(e.offset, 6);
        assert!(
            lex("/* never")
                .unwrap_err()
                .message
                .contains("never closed")
        );
        assert!(lex("text: x\n.\n").is_err());
        assert!(
            lex("text:\nno end\n")
                .unwrap_err()
                .message
                .contains("never ends")
        );
        assert!(
            lex("size :over 18446744073709551616")
                .unwrap_err()
                .message
                .contains("too large")
        );
        assert!(
            lex("size :over 34359738368G")
                .unwrap_err()
                .message
                .contains("too large")
        );
        assert!(lex("$$$").is_err());
        assert!(lex(": x").is_err());
        assert_eq!(toks("18446744073709551615"), vec![Tok::Number(u64::MAX)]);
    }
}
