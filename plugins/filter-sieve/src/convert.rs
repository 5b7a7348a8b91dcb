//! From the parsed script to rules. Sieve runs commands in order; the rule
//! model is an ordered list of (conditions, actions) with `stop`. So:
//!
//! - consecutive actions under the same conditions become one rule, named
//!   after the line and the test (or action) they come from, with the
//!   position of their first action as the rule's source;
//! - `if T1 {A} elsif T2 {B} else {C}` gives A under `T1`, B under
//!   `not T1 and T2`, C under `not T1 and not T2`, each also under the
//!   tests of the blocks around it;
//! - `stop` ends its rule with the `stop` action (later rules do not run, as
//!   later commands do not), and what follows it in the block is unreachable.
//!
//! What cannot be represented is a warning with its line and column. A rule
//! whose condition lost a part (replaced by "true") is imported disabled, for
//! the admin to review, like the Gmail importer does.

use crate::parser::{Arg, Argument, Command};
use crate::variables::{Value, Variables, modify};
use crate::{FORMAT, condition::Translated};
use filter_common::output::{Output, Place};
use filter_common::{Position, Positions, check, error};
use mailroom_plugin_sdk::filter_importer::ImportError;
use mailroom_plugin_sdk::prelude::*;
use mailroom_plugin_sdk::types::RuleSource;

/// Extensions whose commands and tests this importer reads (or reports as
/// not representable, like `vacation`).
const EXTENSIONS: &[&str] = &[
    "fileinto",
    "envelope",
    "body",
    "relational",
    "copy",
    "imap4flags",
    "variables",
    "reject",
    "ereject",
    "regex",
    "mailbox",
    "vacation",
    "encoded-character",
    "comparator-i;octet",
    "comparator-i;ascii-casemap",
    "comparator-i;unicode-casemap",
];

/// The state of one import.
pub struct Importer<'a> {
    pub text: &'a str,
    positions: Positions<'a>,
    pub out: Output,
    pub vars: Variables,
}

/// The condition commands run under: the tests of the enclosing branches.
#[derive(Clone, Debug)]
pub struct Guard {
    pub cond: Cond,
    /// Part of `cond` could not be represented.
    pub lossy: bool,
    /// The branch's head as written (`if header :contains …`), for names.
    title: Option<(String, usize)>,
}

impl Guard {
    pub fn top() -> Self {
        Guard {
            cond: Cond::all(Vec::new()),
            lossy: false,
            title: None,
        }
    }
}

/// Actions collected for the next rule.
#[derive(Default)]
struct Pending {
    actions: Vec<Action>,
    /// Offset of the first command of the group, and its text.
    first: Option<(usize, String)>,
    first_warning: usize,
}

pub fn is_true(c: &Cond) -> bool {
    matches!(c, Cond::All(children) if children.is_empty())
}

pub fn is_false(c: &Cond) -> bool {
    matches!(c, Cond::Any(children) if children.is_empty())
}

/// How many condition nodes `c` flattens to.
pub fn nodes(c: &Cond) -> usize {
    match c {
        Cond::Test(_) => 1,
        Cond::Not(inner) => 1 + nodes(inner),
        Cond::All(children) | Cond::Any(children) => 1 + children.iter().map(nodes).sum::<usize>(),
    }
}

/// All of `parts`, with constants folded ("true" is an empty all, "false"
/// an empty any).
pub fn and(parts: Vec<Cond>) -> Cond {
    if parts.iter().any(is_false) {
        return Cond::any(Vec::new());
    }
    let parts: Vec<Cond> = parts.into_iter().filter(|c| !is_true(c)).collect();
    match parts.len() {
        0 => Cond::all(Vec::new()),
        _ => Cond::all(parts),
    }
}

/// Any of `parts`, with constants folded.
pub fn or(parts: Vec<Cond>) -> Cond {
    if parts.iter().any(is_true) {
        return Cond::all(Vec::new());
    }
    let parts: Vec<Cond> = parts.into_iter().filter(|c| !is_false(c)).collect();
    match parts.len() {
        0 => Cond::any(Vec::new()),
        _ => Cond::any(parts),
    }
}

/// The negation, with constants folded.
pub fn not(c: Cond) -> Cond {
    if is_true(&c) {
        Cond::any(Vec::new())
    } else if is_false(&c) {
        Cond::all(Vec::new())
    } else {
        c.not()
    }
}

impl<'a> Importer<'a> {
    pub fn new(text: &'a str) -> Self {
        Importer {
            text,
            positions: Positions::new(text),
            out: Output::new(),
            vars: Variables::default(),
        }
    }

    pub fn at(&self, offset: usize) -> Position {
        self.positions.at(offset)
    }

    /// A place for a warning: `line N`, at `offset`.
    pub fn place(&self, offset: usize) -> Place {
        let at = self.at(offset);
        Place::new(format!("line {}", at.line), Some(at))
    }

    pub fn warn(&mut self, offset: usize, message: impl Into<String>) {
        let place = self.place(offset);
        self.out.warn(&place, message);
    }

    pub fn fail(&self, offset: usize, message: impl Into<String>) -> ImportError {
        error(message, Some(self.at(offset)))
    }

    /// The commands of one block, under `guard`.
    pub fn block(&mut self, commands: &[Command], guard: &Guard) -> Result<(), ImportError> {
        let mut pending = Pending::default();
        let mut i = 0;
        while let Some(cmd) = commands.get(i) {
            i += 1;
            match cmd.name.as_str() {
                "if" => {
                    self.flush(&mut pending, guard);
                    let mut chain = vec![cmd];
                    while let Some(next) = commands.get(i).filter(|c| c.name == "elsif") {
                        chain.push(next);
                        i += 1;
                    }
                    let otherwise = commands.get(i).filter(|c| c.name == "else");
                    if otherwise.is_some() {
                        i += 1;
                    }
                    self.if_chain(&chain, otherwise, guard)?;
                }
                "elsif" | "else" => {
                    return Err(self.fail(
                        cmd.at,
                        format!("`{}` must follow an `if` or `elsif` block", cmd.name),
                    ));
                }
                "require" => self.require(cmd)?,
                "stop" => {
                    if !cmd.args.is_empty() || !cmd.tests.is_empty() || cmd.block.is_some() {
                        return Err(
                            self.fail(cmd.at, "`stop` takes no arguments, test or block: `stop;`")
                        );
                    }
                    self.start(&mut pending, cmd);
                    pending.actions.push(Action::Stop);
                    self.flush(&mut pending, guard);
                    // Nothing after `stop` in this block ever runs.
                    return Ok(());
                }
                _ => {
                    self.start(&mut pending, cmd);
                    self.action(cmd, &mut pending.actions, guard)?;
                }
            }
        }
        self.flush(&mut pending, guard);
        Ok(())
    }

    fn start(&mut self, pending: &mut Pending, cmd: &Command) {
        if pending.first.is_none() {
            let head = self.text.get(cmd.at..cmd.head_end).unwrap_or(&cmd.name);
            pending.first = Some((cmd.at, head.to_string()));
            pending.first_warning = self.out.warning_count();
        }
    }

    fn if_chain(
        &mut self,
        chain: &[&Command],
        otherwise: Option<&Command>,
        guard: &Guard,
    ) -> Result<(), ImportError> {
        let mut earlier: Vec<Cond> = Vec::new();
        let mut earlier_nodes = 0usize;
        let mut earlier_lossy = false;
        for branch in chain {
            let (Some(block), [test]) = (&branch.block, branch.tests.as_slice()) else {
                return Err(self.fail(
                    branch.at,
                    format!(
                        "`{}` needs one test and a block: `{} TEST {{ … }}`",
                        branch.name, branch.name
                    ),
                ));
            };
            if !branch.args.is_empty() {
                return Err(self.fail(
                    branch.args[0].at,
                    format!("`{}` takes a test, not arguments", branch.name),
                ));
            }
            let Translated { cond, lossy } = self.condition(test)?;
            // Each branch negates all earlier ones: past the engine's node
            // limit its rules would be refused anyway, and building them
            // would grow with the square of the chain (a hostile script).
            let needed = nodes(&guard.cond) + earlier_nodes + nodes(&cond);
            if needed > check::MAX_NODES {
                self.warn(
                    branch.at,
                    format!(
                        "left out with its block: under the {} branches before it, its condition needs {needed} nodes; a rule may have at most {}",
                        earlier.len(),
                        check::MAX_NODES
                    ),
                );
                earlier_nodes += nodes(&cond);
                earlier.push(not(cond));
                earlier_lossy |= lossy;
                continue;
            }
            let mut parts = vec![guard.cond.clone()];
            parts.extend(earlier.iter().cloned());
            parts.push(cond.clone());
            let inner = Guard {
                cond: and(parts),
                lossy: guard.lossy || earlier_lossy || lossy,
                title: Some((
                    self.text
                        .get(branch.at..branch.head_end)
                        .unwrap_or("if")
                        .to_string(),
                    branch.at,
                )),
            };
            self.block(block, &inner)?;
            earlier_nodes += nodes(&cond);
            earlier.push(not(cond));
            earlier_lossy |= lossy;
        }
        if let Some(cmd) = otherwise {
            let Some(block) = &cmd.block else {
                return Err(self.fail(cmd.at, "`else` needs a block: `else { … }`"));
            };
            if !cmd.args.is_empty() || !cmd.tests.is_empty() {
                return Err(self.fail(cmd.at, "`else` takes no test; use `elsif TEST { … }`"));
            }
            if nodes(&guard.cond) + earlier_nodes > check::MAX_NODES {
                self.warn(
                    cmd.at,
                    format!(
                        "left out with its block: it negates {} branches, more than a rule's {} condition nodes hold",
                        earlier.len(),
                        check::MAX_NODES
                    ),
                );
                return Ok(());
            }
            let mut parts = vec![guard.cond.clone()];
            parts.extend(earlier);
            let inner = Guard {
                cond: and(parts),
                lossy: guard.lossy || earlier_lossy,
                title: Some(("else".to_string(), cmd.at)),
            };
            self.block(block, &inner)?;
        }
        Ok(())
    }

    /// The pending actions as one rule under `guard`.
    fn flush(&mut self, pending: &mut Pending, guard: &Guard) {
        let Some((at, head)) = pending.first.take() else {
            return;
        };
        let actions = std::mem::take(&mut pending.actions);
        if actions.is_empty() {
            return;
        }
        let place = self.place(at);
        if is_false(&guard.cond) {
            self.out.warn(
                &place,
                "never runs (its condition is always false); left out",
            );
            return;
        }
        let title = match &guard.title {
            Some((title, title_at)) => format!("Sieve line {}: {title}", self.at(*title_at).line),
            None => format!("Sieve line {}: {head}", self.at(at).line),
        };
        let position = self.at(at);
        let mut rule = RuleBuilder::new(check::rule_name(&title, 100))
            .source(RuleSource::new(FORMAT).at(position.line, position.column));
        if !is_true(&guard.cond) {
            rule = rule.condition(guard.cond.clone());
        }
        let mut seen: Vec<Action> = Vec::new();
        for action in actions {
            // A message is in one folder: Sieve files a copy into each
            // `fileinto`; here the first moves it and the others label it.
            let action = match action {
                Action::MoveTo(folder) if seen.iter().any(|a| matches!(a, Action::MoveTo(_))) => {
                    self.out.warn(&place, format!(
                        "a message is in one folder in Mailroom: the further `fileinto \"{folder}\"` adds the label `{folder}` instead"
                    ));
                    Action::AddLabel(folder)
                }
                other => other,
            };
            if !seen.contains(&action) {
                seen.push(action);
            }
            // One over the limit is enough for the check to refuse the rule
            // (and keeps a flood of actions from costing quadratic time).
            if seen.len() > check::MAX_ACTIONS {
                break;
            }
        }
        for action in seen {
            rule = rule.then(action);
        }
        if guard.lossy {
            rule = rule.disabled();
        }
        let index = self.out.push_rule(rule.build(), &place);
        if index.is_some() {
            self.out.assign_warnings(pending.first_warning, index);
            if guard.lossy {
                self.out.warn_rule(
                    index,
                    &place,
                    "imported disabled: part of its condition could not be represented \
                     (see the other warnings); review it before enabling it",
                );
            }
        }
    }

    fn require(&mut self, cmd: &Command) -> Result<(), ImportError> {
        let [
            Argument {
                arg: Arg::Strings(names),
                ..
            },
        ] = cmd.args.as_slice()
        else {
            return Err(self.fail(
                cmd.at,
                "`require` takes a string or a list of extension names",
            ));
        };
        for name in names {
            let name = name.to_ascii_lowercase();
            match name.as_str() {
                "variables" => self.vars.enabled = true,
                "encoded-character" => self.vars.encoded = true,
                _ => {}
            }
            if !EXTENSIONS.contains(&name.as_str()) {
                self.warn(
                    cmd.at,
                    format!(
                        "extension `{name}` is not supported: what needs it is left out (with a warning each)"
                    ),
                );
            }
        }
        Ok(())
    }

    /// `s` with variables substituted, or a warning at `at` and `None`.
    pub fn expand(&mut self, s: &str, at: usize) -> Option<String> {
        match self.vars.expand(s) {
            Ok(v) => Some(v),
            Err(var) => {
                self.warn(
                    at,
                    format!("`{var}` is only known when the script runs; what uses it is left out"),
                );
                None
            }
        }
    }

    /// One action command, appended to `actions` (or warned about).
    fn action(
        &mut self,
        cmd: &Command,
        actions: &mut Vec<Action>,
        guard: &Guard,
    ) -> Result<(), ImportError> {
        let name = cmd.name.as_str();
        let known = matches!(
            name,
            "keep"
                | "fileinto"
                | "discard"
                | "redirect"
                | "reject"
                | "ereject"
                | "vacation"
                | "addflag"
                | "setflag"
                | "removeflag"
                | "set"
        );
        if !known {
            self.warn(
                cmd.at,
                format!(
                    "command `{name}` is not supported; left out{}",
                    match cmd.block {
                        Some(_) => ", with its block",
                        None => "",
                    }
                ),
            );
            return Ok(());
        }
        if cmd.block.is_some() || !cmd.tests.is_empty() {
            return Err(self.fail(
                cmd.at,
                format!("`{name}` takes no test or block; end it with `;`"),
            ));
        }
        let args = Args::read(self, cmd)?;
        match name {
            "keep" => {
                self.flags_tag(&args, actions);
            }
            "fileinto" => {
                let folder = args.one_string(self, "fileinto", "a folder name")?;
                let copy = args.has("copy");
                self.flags_tag(&args, actions);
                if let Some(folder) = self.expand(&folder.0, folder.1) {
                    let folder = if folder.eq_ignore_ascii_case("inbox") {
                        "inbox".to_string()
                    } else {
                        folder
                    };
                    actions.push(if copy {
                        Action::AddLabel(folder)
                    } else {
                        Action::MoveTo(folder)
                    });
                }
            }
            "discard" => actions.push(Action::Trash),
            "redirect" => {
                let (target, at) = args.one_string(self, "redirect", "an address")?;
                let copy = args.has("copy");
                if let Some(target) = self.expand(&target, at) {
                    let address = bare_address(&target);
                    if check::is_email(&address) {
                        actions.push(Action::Forward(address));
                        if !copy {
                            self.warn(
                                cmd.at,
                                "`redirect` also takes the message out of the mailbox; \
                                 Mailroom forwards it and keeps it (like `redirect :copy`)",
                            );
                        }
                    } else {
                        self.warn(
                            at,
                            format!(
                                "`{}` is not an address to forward to; left out",
                                check::shorten(&target)
                            ),
                        );
                    }
                }
            }
            "reject" | "ereject" => self.warn(
                cmd.at,
                format!("`{name}`: Mailroom cannot refuse mail the server has accepted; left out"),
            ),
            "vacation" => self.warn(
                cmd.at,
                "`vacation`: automatic replies are not part of Mailroom's rules; left out",
            ),
            "addflag" | "setflag" | "removeflag" => {
                let lists: Vec<&(Vec<String>, usize)> = args.strings.iter().collect();
                let Some((flags, at)) = lists.last().copied() else {
                    return Err(self.fail(cmd.at, format!("`{name}` needs a list of flags")));
                };
                if lists.len() > 1 {
                    self.warn(cmd.at, format!("`{name}` on a flag variable: Mailroom keeps no flag variables; the flags are applied to the message"));
                }
                self.flags(flags, *at, name == "removeflag", actions);
            }
            "set" => self.set(cmd, &args, guard)?,
            _ => {}
        }
        if !matches!(name, "reject" | "ereject" | "vacation") {
            args.unused(self, name);
        }
        Ok(())
    }

    /// `:flags` on `keep` and `fileinto`.
    fn flags_tag(&mut self, args: &Args, actions: &mut Vec<Action>) {
        if let Some((flags, at)) = args.tag_value("flags") {
            let flags = flags.clone();
            self.flags(&flags, at, false, actions);
        }
    }

    /// IMAP flags as actions: `\Seen` reads, `\Flagged` stars, keywords are labels.
    fn flags(&mut self, flags: &[String], at: usize, remove: bool, actions: &mut Vec<Action>) {
        for list in flags {
            let Some(list) = self.expand(list, at) else {
                continue;
            };
            for flag in list.split_whitespace() {
                let action = match (flag.to_ascii_lowercase().as_str(), remove) {
                    ("\\seen", false) => Some(Action::MarkRead),
                    ("\\seen", true) => Some(Action::MarkUnread),
                    ("\\flagged", false) => Some(Action::Star),
                    (system, _) if system.starts_with('\\') => None,
                    (_, false) => Some(Action::AddLabel(flag.to_string())),
                    (_, true) => Some(Action::RemoveLabel(flag.to_string())),
                };
                match action {
                    Some(action) => actions.push(action),
                    None => self.warn(
                        at,
                        format!(
                            "flag `{flag}`: Mailroom rules can mark read or unread, star, and add or remove labels, \
                             but not {} this flag; left out",
                            if remove { "remove" } else { "set" }
                        ),
                    ),
                }
            }
        }
    }

    fn set(&mut self, cmd: &Command, args: &Args, guard: &Guard) -> Result<(), ImportError> {
        let [(name, _), (value, at)] = args.strings.as_slice() else {
            return Err(self.fail(
                cmd.at,
                "`set` takes a variable name and a value: `set \"name\" \"value\";`",
            ));
        };
        let (Some(name), Some(value)) = (name.first(), value.first()) else {
            return Err(self.fail(cmd.at, "`set` takes a variable name and a value"));
        };
        let modifiers: Vec<String> = args.tags.iter().map(|t| t.0.clone()).collect();
        let known = match self.vars.expand(value) {
            Ok(v) if is_true(&guard.cond) && !guard.lossy => {
                modify(&v, &modifiers).map(Value::Known)
            }
            _ => None,
        };
        if known.is_none() && modifiers.iter().any(|m| m == "encodeurl") {
            self.warn(
                *at,
                "`set :encodeurl` is not applied when importing; the variable's uses are left out",
            );
        }
        self.vars.set(name, known.unwrap_or(Value::Unknown));
        Ok(())
    }
}

/// `Name <a@b.c>` → `a@b.c`; otherwise the text without spaces around it.
fn bare_address(s: &str) -> String {
    let inner = match (s.find('<'), s.rfind('>')) {
        (Some(start), Some(end)) if start < end => &s[start + 1..end],
        _ => s,
    };
    inner.trim().to_string()
}

/// A command's arguments sorted out: tags (with the value of those that
/// take one) and the positional string lists and numbers.
pub struct Args {
    pub tags: Vec<(String, usize, Option<Vec<String>>)>,
    pub strings: Vec<(Vec<String>, usize)>,
    pub numbers: Vec<(u64, usize)>,
    used: std::cell::RefCell<Vec<String>>,
}

/// Tags followed by a value.
const TAGS_WITH_VALUE: &[&str] = &[
    "comparator",
    "value",
    "count",
    "flags",
    "content",
    "days",
    "seconds",
    "subject",
    "from",
    "addresses",
    "handle",
    "importance",
    "options",
    "message",
    "specialuse",
    "index",
    "mime",
];

impl Args {
    pub fn read(imp: &Importer<'_>, cmd: &Command) -> Result<Self, ImportError> {
        Self::from(imp, &cmd.args)
    }

    pub fn from(imp: &Importer<'_>, list: &[Argument]) -> Result<Self, ImportError> {
        let mut args = Args {
            tags: Vec::new(),
            strings: Vec::new(),
            numbers: Vec::new(),
            used: Default::default(),
        };
        let mut items = list.iter().peekable();
        while let Some(item) = items.next() {
            match &item.arg {
                Arg::Tag(tag) => {
                    let value = if TAGS_WITH_VALUE.contains(&tag.as_str()) {
                        match items.next() {
                            Some(Argument {
                                arg: Arg::Strings(v),
                                ..
                            }) => Some(v.clone()),
                            Some(Argument {
                                arg: Arg::Number(n),
                                ..
                            }) => Some(vec![n.to_string()]),
                            _ => {
                                return Err(
                                    imp.fail(item.at, format!("`:{tag}` needs a value after it"))
                                );
                            }
                        }
                    } else {
                        None
                    };
                    args.tags.push((tag.clone(), item.at, value));
                }
                Arg::Strings(s) => args.strings.push((s.clone(), item.at)),
                Arg::Number(n) => args.numbers.push((*n, item.at)),
            }
        }
        Ok(args)
    }

    pub fn has(&self, tag: &str) -> bool {
        self.used.borrow_mut().push(tag.to_string());
        self.tags.iter().any(|t| t.0 == tag)
    }

    pub fn tag_value(&self, tag: &str) -> Option<(&Vec<String>, usize)> {
        self.used.borrow_mut().push(tag.to_string());
        self.tags
            .iter()
            .find(|t| t.0 == tag)
            .and_then(|t| t.2.as_ref().map(|v| (v, t.1)))
    }

    fn one_string(
        &self,
        imp: &Importer<'_>,
        command: &str,
        what: &str,
    ) -> Result<(String, usize), ImportError> {
        match self.strings.as_slice() {
            [(list, at)] if list.len() == 1 => Ok((list[0].clone(), *at)),
            _ => Err(imp.fail(
                self.strings.first().map_or(0, |s| s.1),
                format!("`{command}` takes one string: {what}"),
            )),
        }
    }

    /// Warns about tags nobody asked for (`set`'s modifiers excepted).
    fn unused(&self, imp: &mut Importer<'_>, command: &str) {
        if command == "set" {
            return;
        }
        let used = self.used.borrow().clone();
        for (tag, at, _) in &self.tags {
            // `:create` (RFC 5490) only asks for the folder to be made if
            // missing; nothing is lost without it.
            if !used.contains(tag) && tag != "create" {
                imp.warn(
                    *at,
                    format!("`:{tag}` on `{command}` is not supported; ignored"),
                );
            }
        }
    }
}
