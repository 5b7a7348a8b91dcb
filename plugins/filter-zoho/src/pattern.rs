//! Zoho's advanced condition pattern: condition numbers (from 1) combined
//! with `AND`, `OR`, `NOT` (any case) and parentheses, e.g.
//! `(1 AND (2 OR 3)) AND NOT 4`. `NOT` binds tightest, then `AND`, then
//! `OR`. Errors give the column in the pattern; nesting and length are
//! bounded so a hostile pattern cannot exhaust the stack.

/// A parsed pattern.
#[derive(Clone, Debug, PartialEq)]
pub enum Pattern {
    /// A condition, 0-based.
    Condition(usize),
    All(Vec<Pattern>),
    Any(Vec<Pattern>),
    Not(Box<Pattern>),
}

/// The longest pattern read.
pub const MAX_PATTERN_CHARS: usize = 2_000;
/// Parentheses and `NOT`s nested at most.
pub const MAX_DEPTH: usize = 64;

/// What is wrong, at which 1-based column of the pattern.
#[derive(Clone, Debug, PartialEq)]
pub struct PatternError {
    pub message: String,
    pub column: usize,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Number(u64),
    And,
    Or,
    Not,
    Open,
    Close,
}

/// `pattern` over `conditions` conditions.
pub fn parse(pattern: &str, conditions: usize) -> Result<Pattern, PatternError> {
    if pattern.chars().count() > MAX_PATTERN_CHARS {
        return Err(PatternError {
            message: format!("the pattern is longer than {MAX_PATTERN_CHARS} characters"),
            column: 1,
        });
    }
    let tokens = lex(pattern)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
        conditions,
        end: pattern.chars().count() + 1,
    };
    let tree = parser.or()?;
    match parser.tokens.get(parser.pos) {
        None => Ok(tree),
        Some((_, column)) => Err(PatternError {
            message: "expected AND, OR or the end of the pattern".into(),
            column: *column,
        }),
    }
}

fn lex(pattern: &str) -> Result<Vec<(Tok, usize)>, PatternError> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let column = i + 1;
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' || c == ')' {
            tokens.push((if c == '(' { Tok::Open } else { Tok::Close }, column));
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let digits: String = chars[start..i].iter().collect();
            let n = digits.parse().map_err(|_| PatternError {
                message: format!("`{digits}` is not a condition number"),
                column,
            })?;
            tokens.push((Tok::Number(n), column));
        } else if c.is_ascii_alphabetic() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_alphabetic() {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let tok = match word.to_ascii_uppercase().as_str() {
                "AND" => Tok::And,
                "OR" => Tok::Or,
                "NOT" => Tok::Not,
                _ => {
                    return Err(PatternError {
                        message: format!("`{word}` is not AND, OR or NOT"),
                        column,
                    });
                }
            };
            tokens.push((tok, column));
        } else {
            return Err(PatternError {
                message: format!(
                    "unexpected `{c}`: a pattern has condition numbers, AND, OR, NOT and parentheses"
                ),
                column,
            });
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<(Tok, usize)>,
    pos: usize,
    depth: usize,
    conditions: usize,
    /// The column after the pattern, for "ends too early".
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|t| &t.0)
    }

    fn column(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.end, |t| t.1)
    }

    fn fail<T>(&self, message: impl Into<String>) -> Result<T, PatternError> {
        Err(PatternError {
            message: message.into(),
            column: self.column(),
        })
    }

    fn or(&mut self) -> Result<Pattern, PatternError> {
        let mut parts = vec![self.and()?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Pattern::Any(parts)
        })
    }

    fn and(&mut self) -> Result<Pattern, PatternError> {
        let mut parts = vec![self.unary()?];
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Pattern::All(parts)
        })
    }

    fn unary(&mut self) -> Result<Pattern, PatternError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.fail(format!("nested more than {MAX_DEPTH} levels deep"));
        }
        let result = match self.peek().cloned() {
            Some(Tok::Not) => {
                self.pos += 1;
                self.unary().map(|p| Pattern::Not(Box::new(p)))
            }
            Some(Tok::Open) => {
                self.pos += 1;
                let inner = self.or()?;
                if self.peek() != Some(&Tok::Close) {
                    return self.fail("expected `)`");
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(Tok::Number(n)) => {
                if n == 0 || n > self.conditions as u64 {
                    return self.fail(format!(
                        "there is no condition {n}: the filter has {} (numbered from 1)",
                        self.conditions
                    ));
                }
                self.pos += 1;
                Ok(Pattern::Condition((n - 1) as usize))
            }
            _ => self.fail("expected a condition number, NOT or `(`"),
        };
        self.depth -= 1;
        result
    }
}

impl Pattern {
    /// Which conditions the pattern names, marked in `used`.
    pub fn mark(&self, used: &mut [bool]) {
        match self {
            Pattern::Condition(i) => {
                if let Some(u) = used.get_mut(*i) {
                    *u = true;
                }
            }
            Pattern::All(parts) | Pattern::Any(parts) => parts.iter().for_each(|p| p.mark(used)),
            Pattern::Not(inner) => inner.mark(used),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Pattern::*;

    #[test]
    fn precedence_and_grouping() {
        assert_eq!(
            parse("(1 AND (2 OR 3))", 3).unwrap(),
            All(vec![Condition(0), Any(vec![Condition(1), Condition(2)])])
        );
        assert_eq!(
            parse("1 or 2 and not 3", 3).unwrap(),
            Any(vec![
                Condition(0),
                All(vec![Condition(1), Not(Box::new(Condition(2)))])
            ])
        );
    }

    #[test]
    fn errors_name_the_column() {
        let e = parse("1 AND (2 OR", 2).unwrap_err();
        assert_eq!(e.column, 12);
        let e = parse("1 AND 4", 3).unwrap_err();
        assert_eq!(e.column, 7);
        assert!(e.message.contains("no condition 4"));
        assert_eq!(parse("1 XOR 2", 2).unwrap_err().column, 3);
        assert_eq!(parse("1 2", 2).unwrap_err().column, 3);
        assert!(parse("", 1).is_err());
        assert!(
            parse("1 & 2", 2)
                .unwrap_err()
                .message
                .contains("unexpected `&`")
        );
        assert!(parse("99999999999999999999999", 1).is_err());
        let deep = "(".repeat(1000) + "1" + &")".repeat(1000);
        assert!(parse(&deep, 1).is_err());
        let nots = "NOT ".repeat(400) + "1";
        assert!(parse(&nots, 1).unwrap_err().message.contains("nested"));
    }
}
