//! Mailroom filter importer for Zoho Mail filters (format id `zoho-json`).
//!
//! Zoho Mail has no filter export, so [`format`] defines a JSON file
//! carrying exactly what a Zoho Mail filter holds; `plugins/README.md`
//! documents it with examples. [`import`] is the whole importer as a pure
//! function: the file is refused (an error with its line and column) when
//! it is larger than [`MAX_FILE_BYTES`], not UTF-8, not JSON, not this
//! format (the `format` marker and `version`), or when a filter is wrong
//! (unknown key or value, empty name, value or action, an advanced pattern
//! that does not parse or names a condition that does not exist). Each
//! filter becomes one rule named after it, with its id and position as the
//! source; a disabled filter is imported disabled.
//!
//! Conditions: sender → `from`, subject, to, cc, to-or-cc, priority
//! (`high`/`normal`/`low`), has-attachment; contains, is, starts-with,
//! ends-with and their negations does-not-contain and is-not. Actions:
//! move-to-folder (`Inbox`, `Spam`, `Trash`, `Sent`, `Drafts`, `Archive` are
//! the folder roles), tag → label, mark-read, mark-unread, flag (any kind)
//! → star, delete → trash, forward, create-task (for the account's owner);
//! `stop-processing` → stop.

pub mod format;
pub mod pattern;

use filter_common::output::{Output, Place};
use filter_common::{Position, Positions, check, error, line_column};
use format::{Action as ZohoAction, Condition, Field as ZohoField, Filter, Matching, Operator};
use mailroom_plugin_sdk::filter_importer::{FilterFormat, ImportError, ImportedRules};
use mailroom_plugin_sdk::prelude::*;
use mailroom_plugin_sdk::types::RuleSource;
use pattern::Pattern;

/// The format id this plugin handles.
pub const FORMAT: &str = "zoho-json";

/// The largest file read.
pub const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;

pub struct ZohoFilters;

impl Plugin for ZohoFilters {
    fn metadata() -> Metadata {
        Metadata::new("filter-zoho", env!("CARGO_PKG_VERSION"), PluginKind::FilterImporter)
            .description("Imports Zoho Mail filters written in Mailroom's zoho-json format (see plugins/README.md)")
    }
}

impl FilterImporter for ZohoFilters {
    fn formats() -> Vec<FilterFormat> {
        vec![FilterFormat {
            id: FORMAT.to_string(),
            name: "Zoho Mail filters (JSON)".to_string(),
            extensions: vec!["json".to_string()],
        }]
    }

    fn import_filters(format: String, data: Vec<u8>) -> Result<ImportedRules, ImportError> {
        if format != FORMAT {
            return Err(error(
                format!("unknown format `{format}`; this plugin reads `{FORMAT}`"),
                None,
            ));
        }
        import(&data)
    }
}

mailroom_plugin_sdk::export_filter_importer!(ZohoFilters);

/// A `zoho-json` file as rules and warnings. An error says what was wrong and where; when the
/// file looks like another format, it says which.
pub fn import(data: &[u8]) -> Result<ImportedRules, ImportError> {
    read(data).map_err(|e| filter_common::hint(e, data, FORMAT))
}

fn read(data: &[u8]) -> Result<ImportedRules, ImportError> {
    let text = filter_common::text(data, MAX_FILE_BYTES, "a Zoho Mail filter file")?;
    if text.trim().is_empty() {
        return Err(error("the file is empty", None));
    }
    let file: format::File<'_> = serde_json::from_str(text)
        .map_err(|e| json_error("not a Zoho Mail filter file", &e, text, 0))?;
    if file.format != format::FORMAT_MARKER {
        return Err(error(
            format!(
                "not a Zoho Mail filter file: `format` is `{}`, expected `{}`",
                check::shorten(&file.format),
                format::FORMAT_MARKER
            ),
            None,
        ));
    }
    if file.version != format::VERSION {
        return Err(error(
            format!(
                "version {} of the Zoho Mail filter format is not known; this importer reads version {}",
                file.version,
                format::VERSION
            ),
            None,
        ));
    }
    let mut out = Output::new();
    let positions = Positions::new(text);
    for (i, raw) in file.filters.iter().enumerate() {
        let offset = (raw.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
        let who = format!("filter {}", i + 1);
        let filter: Filter =
            serde_json::from_str(raw.get()).map_err(|e| json_error(&who, &e, text, offset))?;
        convert(&who, &filter, positions.at(offset), &mut out)?;
    }
    Ok(out.finish())
}

/// A serde error as an import error, positioned in `text` (the JSON that
/// failed starts at byte `offset` of it).
fn json_error(what: &str, e: &serde_json::Error, text: &str, offset: usize) -> ImportError {
    let message = e.to_string();
    // serde's message ends with " at line L column C"; the position is given apart.
    let message = match message.rfind(" at line ") {
        Some(cut) => &message[..cut],
        None => &message,
    };
    let at = (e.line() > 0).then(|| {
        let part = text.get(offset..).unwrap_or("");
        let line_start: usize = part
            .split_inclusive('\n')
            .take(e.line() - 1)
            .map(str::len)
            .sum();
        // serde counts the column in bytes, 1-based; at the end it may be 0.
        line_column(text, offset + line_start + e.column().saturating_sub(1))
    });
    error(format!("{what}: {message}"), at)
}

/// One filter as one rule.
fn convert(who: &str, f: &Filter, at: Position, out: &mut Output) -> Result<(), ImportError> {
    let name = f.name.trim();
    let who = format!("{who} (\"{}\")", check::shorten(name));
    let fail = |message: String| error(format!("{who}: {message}"), Some(at));
    let place = Place::new(who.clone(), Some(at)).id(f.id.clone());
    if name.is_empty() {
        return Err(fail("the name is empty".into()));
    }
    if f.conditions.is_empty() {
        return Err(fail(
            "no conditions: a Zoho Mail filter has at least one".into(),
        ));
    }
    if f.actions.is_empty() {
        return Err(fail(
            "no actions: a Zoho Mail filter has at least one".into(),
        ));
    }
    let conds = f
        .conditions
        .iter()
        .enumerate()
        .map(|(i, c)| condition(c).map_err(|m| fail(format!("condition {}: {m}", i + 1))))
        .collect::<Result<Vec<_>, _>>()?;
    let first_warning = out.warning_count();
    let tree = match (f.matching, &f.pattern) {
        (Matching::All, None) => Cond::all(conds),
        (Matching::Any, None) => Cond::any(conds),
        (Matching::Advanced, Some(text)) => {
            let pattern = pattern::parse(text, conds.len()).map_err(|e| {
                fail(format!(
                    "pattern `{}`, column {}: {}",
                    check::shorten(text),
                    e.column,
                    e.message
                ))
            })?;
            let mut used = vec![false; conds.len()];
            pattern.mark(&mut used);
            for (i, _) in used.iter().enumerate().filter(|(_, u)| !**u) {
                out.warn(
                    &place,
                    format!(
                        "condition {} is not in the pattern, so it has no effect",
                        i + 1
                    ),
                );
            }
            build(&pattern, &conds)
        }
        (Matching::Advanced, None) => {
            return Err(fail(
                "`\"match\": \"advanced\"` needs a `pattern` such as \"1 AND (2 OR 3)\"".into(),
            ));
        }
        (_, Some(_)) => {
            return Err(fail(
                "`pattern` is read only with `\"match\": \"advanced\"`".into(),
            ));
        }
    };
    let mut source = RuleSource::new(FORMAT).at(at.line, at.column);
    if let Some(id) = &f.id {
        source = source.filter_id(id.clone());
    }
    let mut rule = RuleBuilder::new(check::rule_name(name, 100))
        .source(source)
        .condition(tree);
    for (i, action) in f.actions.iter().enumerate() {
        let action = self::action(action).map_err(|m| fail(format!("action {}: {m}", i + 1)))?;
        rule = rule.then(action);
    }
    if f.stop_processing {
        rule = rule.stop();
    }
    if !f.enabled {
        rule = rule.disabled();
    }
    let index = out.push_rule(rule.build(), &place);
    out.assign_warnings(first_warning, index);
    Ok(())
}

/// The pattern's tree over the conditions.
fn build(pattern: &Pattern, conds: &[Cond]) -> Cond {
    match pattern {
        // `parse` checked every number against the conditions.
        Pattern::Condition(i) => conds
            .get(*i)
            .cloned()
            .unwrap_or_else(|| Cond::any(Vec::new())),
        Pattern::All(parts) => Cond::all(parts.iter().map(|p| build(p, conds)).collect()),
        Pattern::Any(parts) => Cond::any(parts.iter().map(|p| build(p, conds)).collect()),
        Pattern::Not(inner) => build(inner, conds).not(),
    }
}

fn condition(c: &Condition) -> Result<Cond, String> {
    let operator = c.operator;
    match c.field {
        ZohoField::HasAttachment => {
            if c.value.is_some() {
                return Err("`has-attachment` takes no `value` (use `\"operator\": \"is-not\"` for mail without attachments)".into());
            }
            let has = Cond::test(Field::HasAttachment, MatchType::Exists, "");
            match operator {
                None | Some(Operator::Is) => Ok(has),
                Some(Operator::IsNot) => Ok(has.not()),
                Some(_) => Err("`has-attachment` takes the operator `is` or `is-not`".into()),
            }
        }
        ZohoField::Priority => {
            let value = c.value.as_deref().unwrap_or("").trim().to_ascii_lowercase();
            if !matches!(value.as_str(), "high" | "normal" | "low") {
                return Err("`priority` compares with `high`, `normal` or `low`".into());
            }
            let is = Cond::test(Field::Priority, MatchType::Is, value);
            match operator {
                None | Some(Operator::Is) => Ok(is),
                Some(Operator::IsNot) => Ok(is.not()),
                Some(_) => Err("`priority` takes the operator `is` or `is-not`".into()),
            }
        }
        text => {
            let field = match text {
                ZohoField::Sender => Field::From,
                ZohoField::Subject => Field::Subject,
                ZohoField::To => Field::To,
                ZohoField::Cc => Field::Cc,
                _ => Field::ToOrCc,
            };
            let Some(operator) = operator else {
                return Err("needs an `operator`: contains, does-not-contain, is, is-not, starts-with or ends-with".into());
            };
            let value = c.value.as_deref().unwrap_or("");
            if value.trim().is_empty() {
                return Err("needs a `value` to compare with".into());
            }
            let test = |mt| Cond::test(field, mt, value);
            Ok(match operator {
                Operator::Contains => test(MatchType::Contains),
                Operator::DoesNotContain => test(MatchType::Contains).not(),
                Operator::Is => test(MatchType::Is),
                Operator::IsNot => test(MatchType::Is).not(),
                Operator::StartsWith => test(MatchType::BeginsWith),
                Operator::EndsWith => test(MatchType::EndsWith),
            })
        }
    }
}

fn action(a: &ZohoAction) -> Result<Action, String> {
    let nonempty = |what: &str, s: &str| match s.trim() {
        "" => Err(format!("the {what} is empty")),
        t => Ok(t.to_string()),
    };
    Ok(match a {
        ZohoAction::MoveToFolder { folder } => {
            let folder = nonempty("folder", folder)?;
            let role = ["inbox", "spam", "trash", "sent", "drafts", "archive"]
                .into_iter()
                .find(|r| folder.eq_ignore_ascii_case(r));
            Action::MoveTo(role.map_or(folder, str::to_string))
        }
        ZohoAction::Tag { tag } => Action::AddLabel(nonempty("tag", tag)?),
        ZohoAction::MarkRead => Action::MarkRead,
        ZohoAction::MarkUnread => Action::MarkUnread,
        ZohoAction::Flag { .. } => Action::Star,
        ZohoAction::Delete => Action::Trash,
        ZohoAction::Forward { to } => {
            let to = to.trim();
            if !check::is_email(to) {
                return Err(format!(
                    "`{}` is not an email address to forward to",
                    check::shorten(to)
                ));
            }
            Action::Forward(to.to_string())
        }
        ZohoAction::CreateTask {
            title,
            notes,
            due_in_days,
            priority,
        } => {
            let mut task = TaskSpec::new(nonempty("task title", title)?);
            task.notes = notes.clone().filter(|n| !n.trim().is_empty());
            if due_in_days.is_some_and(|d| d > 3650) {
                return Err("`due-in-days` is at most 3650 (ten years)".into());
            }
            task.due_in_days = *due_in_days;
            task.priority = match priority {
                Some(format::TaskPriority::Low) => TaskPriority::Low,
                Some(format::TaskPriority::High) => TaskPriority::High,
                _ => TaskPriority::Normal,
            };
            Action::CreateTask(task)
        }
    })
}

#[cfg(test)]
mod tests;
