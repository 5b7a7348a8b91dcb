//! Sieve's grammar (RFC 5228, section 8.2) over the [`lexer`](crate::lexer)'s
//! tokens: commands with arguments, a test or test list, and `;` or a block.
//! Nesting of blocks and tests together is limited to [`MAX_NESTING`], so
//! hostile input cannot exhaust the stack; every error has a byte offset.

use crate::lexer::{LexError, Tok, Token};

/// Blocks and tests nested inside each other, at most (Pigeonhole allows 32
/// blocks and 32 tests).
pub const MAX_NESTING: usize = 64;

/// One argument.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    /// `:name` (lower-cased).
    Tag(String),
    Number(u64),
    /// A string or a `[…]` list of strings.
    Strings(Vec<String>),
}

/// An argument and its byte offset.
#[derive(Clone, Debug, PartialEq)]
pub struct Argument {
    pub arg: Arg,
    pub at: usize,
}

/// A test: `name arguments [test / (test, …)]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Test {
    /// Lower-cased.
    pub name: String,
    pub at: usize,
    /// Byte offset after its last token.
    pub end: usize,
    pub args: Vec<Argument>,
    pub tests: Vec<Test>,
}

/// A command: `name arguments [test / (test, …)] (";" / block)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Command {
    /// Lower-cased.
    pub name: String,
    pub at: usize,
    pub args: Vec<Argument>,
    pub tests: Vec<Test>,
    /// Byte offset where its test (list) ends, or its name when it has none.
    pub head_end: usize,
    pub block: Option<Vec<Command>>,
}

/// The script's commands.
pub fn parse(tokens: &[Token], text_len: usize) -> Result<Vec<Command>, LexError> {
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
        text_len,
    };
    let commands = parser.commands()?;
    match parser.peek() {
        None => Ok(commands),
        Some(t) => Err(LexError {
            message: format!("{} here has no matching `{{`", t.tok.describe()),
            offset: t.start,
        }),
    }
}

struct Parser<'t> {
    tokens: &'t [Token],
    pos: usize,
    depth: usize,
    text_len: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn here(&self) -> usize {
        self.peek().map_or(self.text_len, |t| t.start)
    }

    fn found(&self) -> String {
        self.peek()
            .map_or_else(|| "the end of the script".into(), |t| t.tok.describe())
    }

    fn fail<T>(&self, message: String) -> Result<T, LexError> {
        Err(LexError {
            message,
            offset: self.here(),
        })
    }

    fn deeper(&mut self, what: &str) -> Result<(), LexError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return self.fail(format!(
                "{what} nested more than {MAX_NESTING} levels deep; simplify the script"
            ));
        }
        Ok(())
    }

    /// Commands up to the end or a `}`.
    fn commands(&mut self) -> Result<Vec<Command>, LexError> {
        let mut out = Vec::new();
        while let Some(token) = self.peek() {
            match &token.tok {
                Tok::Close('}') => break,
                Tok::Ident(name) => {
                    let (name, at) = (name.to_ascii_lowercase(), token.start);
                    self.pos += 1;
                    out.push(self.command(name, at)?);
                }
                other => {
                    return self.fail(format!(
                        "expected a command (such as `if`, `fileinto` or `stop`), found {}",
                        other.describe()
                    ));
                }
            }
        }
        Ok(out)
    }

    fn command(&mut self, name: String, at: usize) -> Result<Command, LexError> {
        let args = self.arguments()?;
        let tests = self.test_or_list()?;
        let head_end = self
            .pos
            .checked_sub(1)
            .and_then(|p| self.tokens.get(p))
            .map_or(at, |t| t.end);
        let block = match self.peek().map(|t| &t.tok) {
            Some(Tok::Semicolon) => {
                self.pos += 1;
                None
            }
            Some(Tok::Open('{')) => {
                self.pos += 1;
                self.deeper("blocks are")?;
                let commands = self.commands()?;
                self.depth -= 1;
                match self.peek().map(|t| &t.tok) {
                    Some(Tok::Close('}')) => self.pos += 1,
                    _ => {
                        return self.fail(format!(
                            "the block of `{name}` is never closed: expected `}}`, found {}",
                            self.found()
                        ));
                    }
                }
                Some(commands)
            }
            _ => {
                return self.fail(format!(
                    "expected `;` or a `{{` block after `{name}` and its arguments, found {}",
                    self.found()
                ));
            }
        };
        Ok(Command {
            name,
            at,
            args,
            tests,
            head_end,
            block,
        })
    }

    fn arguments(&mut self) -> Result<Vec<Argument>, LexError> {
        let mut args = Vec::new();
        while let Some(token) = self.peek() {
            let at = token.start;
            let arg = match &token.tok {
                Tok::Tag(t) => Arg::Tag(t.to_ascii_lowercase()),
                Tok::Number(n) => Arg::Number(*n),
                Tok::Str(s) => Arg::Strings(vec![s.clone()]),
                Tok::Open('[') => {
                    self.pos += 1;
                    let list = self.string_list()?;
                    args.push(Argument {
                        arg: Arg::Strings(list),
                        at,
                    });
                    continue;
                }
                _ => break,
            };
            self.pos += 1;
            args.push(Argument { arg, at });
        }
        Ok(args)
    }

    /// After `[`: strings separated by commas, then `]`.
    fn string_list(&mut self) -> Result<Vec<String>, LexError> {
        let mut list = Vec::new();
        loop {
            match self.peek().map(|t| &t.tok) {
                Some(Tok::Str(s)) => {
                    list.push(s.clone());
                    self.pos += 1;
                }
                _ => {
                    return self.fail(format!(
                        "expected a string in the list, found {}",
                        self.found()
                    ));
                }
            }
            match self.peek().map(|t| &t.tok) {
                Some(Tok::Comma) => self.pos += 1,
                Some(Tok::Close(']')) => {
                    self.pos += 1;
                    return Ok(list);
                }
                _ => {
                    return self.fail(format!(
                        "expected `,` or `]` in a string list, found {}",
                        self.found()
                    ));
                }
            }
        }
    }

    /// An optional test or `( test, … )`.
    fn test_or_list(&mut self) -> Result<Vec<Test>, LexError> {
        match self.peek().map(|t| &t.tok) {
            Some(Tok::Ident(_)) => Ok(vec![self.test()?]),
            Some(Tok::Open('(')) => {
                self.pos += 1;
                let mut tests = Vec::new();
                loop {
                    if !matches!(self.peek().map(|t| &t.tok), Some(Tok::Ident(_))) {
                        return self.fail(format!("expected a test, found {}", self.found()));
                    }
                    tests.push(self.test()?);
                    match self.peek().map(|t| &t.tok) {
                        Some(Tok::Comma) => self.pos += 1,
                        Some(Tok::Close(')')) => {
                            self.pos += 1;
                            return Ok(tests);
                        }
                        _ => {
                            return self.fail(format!(
                                "expected `,` or `)` in a test list, found {}",
                                self.found()
                            ));
                        }
                    }
                }
            }
            _ => Ok(Vec::new()),
        }
    }

    fn test(&mut self) -> Result<Test, LexError> {
        let Some(Token {
            tok: Tok::Ident(name),
            start,
            ..
        }) = self.peek().cloned()
        else {
            return self.fail(format!("expected a test, found {}", self.found()));
        };
        self.pos += 1;
        self.deeper("tests are")?;
        let args = self.arguments()?;
        let tests = self.test_or_list()?;
        self.depth -= 1;
        let end = self.tokens.get(self.pos - 1).map_or(start, |t| t.end);
        Ok(Test {
            name: name.to_ascii_lowercase(),
            at: start,
            end,
            args,
            tests,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::lex;

    fn script(text: &str) -> Result<Vec<Command>, LexError> {
        parse(&lex(text)?, text.len())
    }

    #[test]
    fn commands_tests_and_blocks() {
        let cmds = script(
            "require [\"fileinto\", \"copy\"];\nif anyof (header :contains \"subject\" \"x\", not exists \"to\") { fileinto :copy \"A\"; } else { stop; }",
        )
        .unwrap();
        assert_eq!(cmds.len(), 3);
        assert_eq!(
            cmds[0].args[0].arg,
            Arg::Strings(vec!["fileinto".into(), "copy".into()])
        );
        let test = &cmds[1].tests[0];
        assert_eq!(test.name, "anyof");
        assert_eq!(test.tests.len(), 2);
        assert_eq!(test.tests[1].tests[0].name, "exists");
        assert_eq!(
            cmds[1].block.as_ref().unwrap()[0].args[0].arg,
            Arg::Tag("copy".into())
        );
        assert_eq!(cmds[2].name, "else");
    }

    #[test]
    fn errors_have_offsets_and_nesting_is_bounded() {
        let e = script("keep;\nfileinto \"x\"").unwrap_err();
        assert!(e.message.contains("expected `;`"), "{}", e.message);
        assert_eq!(e.offset, 18);
        assert!(
            script("if true { stop; ")
                .unwrap_err()
                .message
                .contains("never closed")
        );
        assert!(script("}").is_err());
        assert!(script("if header [\"a\" \"b\"] { }").is_err());
        let deep = "if true {".repeat(100) + &"}".repeat(100);
        assert!(script(&deep).unwrap_err().message.contains("nested"));
        let tests = format!("if {}true {{}}", "not ".repeat(100_000));
        assert!(script(&tests).unwrap_err().message.contains("nested"));
        let lists = format!("if {}true{} {{}}", "anyof(".repeat(1000), ")".repeat(1000));
        assert!(script(&lists).is_err());
    }
}
