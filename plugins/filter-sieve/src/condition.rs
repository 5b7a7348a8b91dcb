//! Sieve tests as conditions of the rule model. `header`, `address`,
//! `envelope`, `exists`, `size`, `body`, `allof`, `anyof`, `not`, `true`,
//! `false` and `string` (variables) map to conditions; `:is`, `:contains`,
//! `:matches`, `:regex` and `:value "eq"`/`"ne"` to match types;
//! `i;ascii-casemap` (the default) and `i;unicode-casemap` ignore case,
//! `i;octet` does not. Address parts become patterns over the address:
//! `:localpart :is "joe"` is "begins with `joe@`", `:domain :contains "x"`
//! a pattern after the `@`.
//!
//! Not representable, each a warning at the test's line and column and a
//! part of the condition replaced by "true" (the rule is then imported
//! disabled): `:count`, ordering relations (`:value "gt"`…), other
//! comparators, `:user`/`:detail`, `:regex` on an address part, a pattern
//! the engine would refuse, envelope parts other than `from`/`to`, unknown
//! tests and tags, and values from variables known only at delivery.

use crate::convert::{Args, Importer, and, not, or};
use crate::parser::Test;
use filter_common::check::{self, PATTERN_DFA_LIMIT, PATTERN_SIZE_LIMIT};
use mailroom_plugin_sdk::filter_importer::ImportError;
use mailroom_plugin_sdk::prelude::*;

/// A test as a condition, and whether part of it was lost.
#[derive(Clone, Debug, PartialEq)]
pub struct Translated {
    pub cond: Cond,
    pub lossy: bool,
}

impl Translated {
    fn exact(cond: Cond) -> Self {
        Translated { cond, lossy: false }
    }
}

/// How keys are compared.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mt {
    Is,
    Contains,
    Matches,
    Regex,
    /// `:value "ne"`
    IsNot,
}

/// Which part of an address is compared.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Part {
    All,
    Local,
    Domain,
}

/// What a key is compared with.
#[derive(Clone, Debug, PartialEq)]
enum Target {
    Field(Field),
    Header(String),
}

/// The comparison tags of a test.
struct Options {
    mt: Mt,
    case_sensitive: bool,
    part: Part,
    lossy: bool,
}

impl Importer<'_> {
    /// `test` as a condition; warnings for what is lost.
    pub fn condition(&mut self, test: &Test) -> Result<Translated, ImportError> {
        let name = test.name.as_str();
        match name {
            "true" | "false" | "not" | "allof" | "anyof" if !test.args.is_empty() => {
                Err(self.fail(test.args[0].at, format!("`{name}` takes no arguments")))
            }
            "true" | "false" if !test.tests.is_empty() => {
                Err(self.fail(test.at, format!("`{name}` takes no tests")))
            }
            "true" => Ok(Translated::exact(and(Vec::new()))),
            "false" => Ok(Translated::exact(or(Vec::new()))),
            "not" => match test.tests.as_slice() {
                [inner] => {
                    let t = self.condition(inner)?;
                    Ok(Translated {
                        cond: not(t.cond),
                        lossy: t.lossy,
                    })
                }
                _ => Err(self.fail(test.at, "`not` takes one test: `not TEST`")),
            },
            "allof" | "anyof" => {
                if test.tests.is_empty() {
                    return Err(self.fail(
                        test.at,
                        format!("`{name}` takes a list of tests: `{name} (T1, T2)`"),
                    ));
                }
                let mut conds = Vec::with_capacity(test.tests.len());
                let mut lossy = false;
                for inner in &test.tests {
                    let t = self.condition(inner)?;
                    conds.push(t.cond);
                    lossy |= t.lossy;
                }
                let cond = if name == "allof" {
                    and(conds)
                } else {
                    or(conds)
                };
                Ok(Translated { cond, lossy })
            }
            _ if !test.tests.is_empty() => {
                Err(self.fail(test.at, format!("`{name}` takes no nested tests")))
            }
            _ => self.leaf(test),
        }
    }

    fn lost(&mut self, at: usize, message: String) -> Translated {
        self.warn(at, message);
        Translated {
            cond: and(Vec::new()),
            lossy: true,
        }
    }

    fn leaf(&mut self, test: &Test) -> Result<Translated, ImportError> {
        let name = test.name.as_str();
        let args = Args::from(self, &test.args)?;
        let extra: &[&str] = match name {
            "size" => &["over", "under"],
            "body" => &["raw", "text", "content"],
            _ => &[],
        };
        let known = matches!(
            name,
            "header" | "address" | "envelope" | "exists" | "size" | "body" | "string"
        );
        if !known {
            return Ok(self.lost(
                test.at,
                format!("test `{name}` is not supported; replaced by \"true\""),
            ));
        }
        let options = self.options(&args, name, extra);
        let lists = &args.strings;
        let two = |imp: &Importer<'_>, what: &str| -> Result<(), ImportError> {
            match lists.len() {
                2 => Ok(()),
                _ => Err(imp.fail(test.at, format!("`{name}` takes {what}"))),
            }
        };
        let mut t = match name {
            "header" => {
                two(self, "a list of header names and a list of keys")?;
                let targets = self.header_targets(&lists[0].0, lists[0].1);
                self.keyed(&targets, &lists[1], &options, test.at)
            }
            "address" => {
                two(self, "a list of header names and a list of addresses")?;
                let mut lossy = false;
                let mut targets = Vec::new();
                for header in &lists[0].0 {
                    match header.to_ascii_lowercase().as_str() {
                        "from" => targets.push(Target::Field(Field::From)),
                        "to" => targets.push(Target::Field(Field::To)),
                        "cc" => targets.push(Target::Field(Field::Cc)),
                        "bcc" => targets.push(Target::Field(Field::Bcc)),
                        "reply-to" => targets.push(Target::Field(Field::ReplyTo)),
                        other if options.mt == Mt::Contains && options.part == Part::All => {
                            targets.extend(self.header_targets(&[other.to_string()], lists[0].1));
                        }
                        other => {
                            self.warn(lists[0].1, format!(
                                "`address` on `{other}`: Mailroom reads addresses from From, To, Cc, Bcc and Reply-To \
                                 (other headers only with `:all :contains`); replaced by \"true\""
                            ));
                            lossy = true;
                        }
                    }
                }
                let mut t = self.keyed(&targets, &lists[1], &options, test.at);
                t.lossy |= lossy;
                t
            }
            "envelope" => {
                two(
                    self,
                    "an envelope part (\"from\" or \"to\") and a list of addresses",
                )?;
                let mut lossy = false;
                let mut targets = Vec::new();
                for part in &lists[0].0 {
                    match part.to_ascii_lowercase().as_str() {
                        "from" => targets.push(Target::Field(Field::EnvelopeFrom)),
                        "to" => targets.push(Target::Field(Field::EnvelopeTo)),
                        other => {
                            self.warn(lists[0].1, format!(
                                "envelope part `{other}`: Mailroom knows the envelope's `from` and `to` only; replaced by \"true\""
                            ));
                            lossy = true;
                        }
                    }
                }
                let mut t = self.keyed(&targets, &lists[1], &options, test.at);
                t.lossy |= lossy;
                t
            }
            "exists" => {
                let [(names, at)] = lists.as_slice() else {
                    return Err(self.fail(test.at, "`exists` takes a list of header names"));
                };
                let before = self.out.warning_count();
                let targets = self.header_targets(names, *at);
                let conds = targets
                    .iter()
                    .map(|t| test_of(t, MatchType::Exists, String::new(), false))
                    .collect();
                Translated {
                    cond: and(conds),
                    lossy: self.out.warning_count() > before,
                }
            }
            "size" => {
                let over = args.has("over");
                let under = args.has("under");
                let ([(limit, _)], true) = (args.numbers.as_slice(), over != under) else {
                    return Err(self.fail(
                        test.at,
                        "`size` takes `:over` or `:under` and a number, e.g. `size :over 1M`",
                    ));
                };
                let mt = if over {
                    MatchType::GreaterThan
                } else {
                    MatchType::LessThan
                };
                Translated::exact(Cond::test(Field::Size, mt, limit.to_string()))
            }
            "body" => {
                let [keys] = lists.as_slice() else {
                    return Err(self.fail(test.at, "`body` takes a list of keys"));
                };
                if args.has("raw") || args.tag_value("content").is_some() {
                    self.warn(
                        test.at,
                        "`body :raw` and `:content` are compared with the message's text body",
                    );
                }
                self.keyed(&[Target::Field(Field::Body)], keys, &options, test.at)
            }
            _ => {
                two(self, "a list of source strings and a list of keys")?;
                self.string_test(&lists[0], &lists[1], &options, test.at)
            }
        };
        t.lossy |= options.lossy;
        Ok(t)
    }

    /// The comparison tags; warnings for those that cannot be represented.
    fn options(&mut self, args: &Args, test: &str, extra: &[&str]) -> Options {
        let mut o = Options {
            mt: Mt::Is,
            case_sensitive: false,
            part: Part::All,
            lossy: false,
        };
        for (tag, at, value) in &args.tags {
            let first = value
                .as_ref()
                .and_then(|v| v.first())
                .map(|v| v.to_ascii_lowercase())
                .unwrap_or_default();
            match tag.as_str() {
                "is" => o.mt = Mt::Is,
                "contains" => o.mt = Mt::Contains,
                "matches" => o.mt = Mt::Matches,
                "regex" => o.mt = Mt::Regex,
                "value" if first == "eq" => o.mt = Mt::Is,
                "value" if first == "ne" => o.mt = Mt::IsNot,
                "value" | "count" => {
                    self.warn(*at, format!(
                        "`:{tag} \"{first}\"`: Mailroom compares text for equality, containment and patterns, \
                         not by order or by count; replaced by \"true\""
                    ));
                    o.lossy = true;
                }
                "comparator" => match first.as_str() {
                    "i;ascii-casemap" | "i;unicode-casemap" => o.case_sensitive = false,
                    "i;octet" => o.case_sensitive = true,
                    other => {
                        self.warn(*at, format!(
                            "comparator `{other}`: Mailroom compares text with or without case only; replaced by \"true\""
                        ));
                        o.lossy = true;
                    }
                },
                "all" => o.part = Part::All,
                "localpart" => o.part = Part::Local,
                "domain" => o.part = Part::Domain,
                "user" | "detail" => {
                    self.warn(
                        *at,
                        format!("`:{tag}` (sub-addresses) is not supported; replaced by \"true\""),
                    );
                    o.lossy = true;
                }
                other if extra.contains(&other) => {}
                other => {
                    self.warn(
                        *at,
                        format!("`:{other}` on `{test}` is not supported; replaced by \"true\""),
                    );
                    o.lossy = true;
                }
            }
        }
        o
    }

    /// Header names as targets; a name no header can have is warned about.
    fn header_targets(&mut self, names: &[String], at: usize) -> Vec<Target> {
        let mut targets = Vec::new();
        for name in names {
            let Some(name) = self.expand(name, at) else {
                continue;
            };
            let valid =
                !name.is_empty() && name.bytes().all(|b| (33..=126).contains(&b) && b != b':');
            if !valid {
                self.warn(
                    at,
                    format!("`{}` is not a header name; left out", check::shorten(&name)),
                );
            } else if name.eq_ignore_ascii_case("subject") {
                targets.push(Target::Field(Field::Subject));
            } else {
                targets.push(Target::Header(name));
            }
        }
        targets
    }

    /// Any of `targets` compared with any of `keys`.
    fn keyed(
        &mut self,
        targets: &[Target],
        keys: &(Vec<String>, usize),
        o: &Options,
        at: usize,
    ) -> Translated {
        let (keys, keys_at) = (&keys.0, keys.1);
        if targets.len().saturating_mul(keys.len()) > check::MAX_NODES {
            return self.lost(
                at,
                format!(
                    "compares {} headers with {} keys: more conditions than a rule's {} nodes hold; replaced by \"true\"",
                    targets.len(),
                    keys.len(),
                    check::MAX_NODES
                ),
            );
        }
        let mut lossy = targets.is_empty();
        let mut conds = Vec::new();
        for key in keys {
            let Some(key) = self.expand(key, keys_at) else {
                lossy = true;
                continue;
            };
            if o.mt == Mt::Regex
                && let Err(why) = check::check_pattern(&key, o.case_sensitive)
            {
                self.warn(keys_at, format!("{why}; replaced by \"true\""));
                lossy = true;
                continue;
            }
            for target in targets {
                match address_test(target, o.part, o.mt, &key, o.case_sensitive) {
                    Some(cond) => conds.push(cond),
                    None => {
                        self.warn(at, "`:regex` on a local part or domain is not supported; replaced by \"true\"");
                        lossy = true;
                    }
                }
            }
        }
        if lossy && conds.is_empty() {
            return Translated {
                cond: and(Vec::new()),
                lossy,
            };
        }
        Translated {
            cond: or(conds),
            lossy,
        }
    }

    /// `string` (RFC 5229): decided now when its sources are known.
    fn string_test(
        &mut self,
        sources: &(Vec<String>, usize),
        keys: &(Vec<String>, usize),
        o: &Options,
        at: usize,
    ) -> Translated {
        let expand_all = |imp: &mut Self, list: &(Vec<String>, usize)| -> Option<Vec<String>> {
            list.0.iter().map(|s| imp.expand(s, list.1)).collect()
        };
        let (Some(sources), Some(keys)) = (expand_all(self, sources), expand_all(self, keys))
        else {
            return Translated {
                cond: and(Vec::new()),
                lossy: true,
            };
        };
        let mut result = false;
        for source in &sources {
            for key in &keys {
                match compare(o.mt, o.case_sensitive, source, key) {
                    Some(hit) => result |= hit,
                    None => return self.lost(at, format!("`string` with the pattern `{}` cannot be decided; replaced by \"true\"", check::shorten(key))),
                }
            }
        }
        Translated::exact(if result {
            and(Vec::new())
        } else {
            or(Vec::new())
        })
    }
}

/// One comparison of `target` with `key`.
fn test_of(target: &Target, mt: MatchType, value: String, case_sensitive: bool) -> Cond {
    let mut cond = match target {
        Target::Field(field) => Cond::test(*field, mt, value),
        Target::Header(name) => Cond::header(name, mt, value),
    };
    if let Cond::Test(c) = &mut cond {
        c.case_sensitive = case_sensitive;
    }
    cond
}

/// `target`'s `part` compared with `key`; `None` when not representable.
fn address_test(target: &Target, part: Part, mt: Mt, key: &str, cs: bool) -> Option<Cond> {
    let whole = |mt| test_of(target, mt, key.to_string(), cs);
    let re = |pattern: String| test_of(target, MatchType::Regex, pattern, cs);
    let escaped = regex::escape(key);
    Some(match (part, mt) {
        (Part::All, Mt::Is) => whole(MatchType::Is),
        (Part::All, Mt::IsNot) => not(whole(MatchType::Is)),
        (Part::All, Mt::Contains) => whole(MatchType::Contains),
        (Part::All, Mt::Matches) => whole(MatchType::Matches),
        (Part::All, Mt::Regex) => whole(MatchType::Regex),
        (_, Mt::Regex) => return None,
        (Part::Local, Mt::Is | Mt::IsNot) => {
            let c = test_of(target, MatchType::BeginsWith, format!("{key}@"), cs);
            if mt == Mt::IsNot { not(c) } else { c }
        }
        (Part::Local, Mt::Contains) => re(format!("^[^@]*{escaped}[^@]*@")),
        (Part::Local, Mt::Matches) => re(format!("(?s)^{}@[^@]*$", check::glob_body(key))),
        (Part::Domain, Mt::Is | Mt::IsNot) => {
            let c = test_of(target, MatchType::EndsWith, format!("@{key}"), cs);
            if mt == Mt::IsNot { not(c) } else { c }
        }
        (Part::Domain, Mt::Contains) => re(format!("@[^@]*{escaped}[^@]*$")),
        (Part::Domain, Mt::Matches) => re(format!("(?s)@{}$", check::glob_body(key))),
    })
}

/// `source` compared with `key` now; `None` for a pattern that does not compile.
fn compare(mt: Mt, cs: bool, source: &str, key: &str) -> Option<bool> {
    let fold = |s: &str| if cs { s.to_string() } else { s.to_lowercase() };
    let pattern = |p: &str| {
        regex::RegexBuilder::new(p)
            .case_insensitive(!cs)
            .size_limit(PATTERN_SIZE_LIMIT)
            .dfa_size_limit(PATTERN_DFA_LIMIT)
            .build()
            .ok()
            .map(|re| re.is_match(source))
    };
    match mt {
        Mt::Is => Some(fold(source) == fold(key)),
        Mt::IsNot => Some(fold(source) != fold(key)),
        Mt::Contains => Some(fold(source).contains(&fold(key))),
        Mt::Matches => pattern(&check::wildcards(key)),
        Mt::Regex => pattern(key),
    }
}
