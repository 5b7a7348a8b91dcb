//! Mailroom filter importer for Gmail's `mailFilters.xml`.
//!
//! Gmail exports filters (Settings → Filters → Export) as an Atom feed: one
//! `<entry>` per filter, each with `<apps:property name="…" value="…"/>`
//! elements for its criteria (`from`, `to`, `subject`, `hasTheWord`,
//! `doesNotHaveTheWord`, `hasAttachment`, `size`…) and actions (`label`,
//! `shouldArchive`, `shouldMarkAsRead`, `shouldStar`, `shouldTrash`,
//! `shouldNeverSpam`, `forwardTo`). Each entry becomes one rule, named after
//! its criteria.
//!
//! Every rule carries its source: the format, the entry's `<id>` and the
//! line and column where the `<entry>` starts. What Mailroom cannot represent
//! becomes a warning located at `filter N` (1-based, in file order) with the
//! same id and position. A filter whose criteria lost a part would match
//! more mail than in Gmail, so it is imported *disabled* for the admin to
//! review; a filter left with no action is skipped.

use mailroom_plugin_sdk::filter_importer::{ImportError, ImportWarning, ImportedRules};
use mailroom_plugin_sdk::prelude::*;
use mailroom_plugin_sdk::types::RuleSource;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

pub mod query;
use query::Scope;

/// The format id this plugin handles.
pub const FORMAT: &str = "gmail-xml";

pub struct GmailFilters;

impl Plugin for GmailFilters {
    fn metadata() -> Metadata {
        Metadata::new(
            "filter-gmail",
            env!("CARGO_PKG_VERSION"),
            PluginKind::FilterImporter,
        )
        .description("Imports Gmail filters (mailFilters.xml from Settings → Filters → Export)")
    }
}

impl FilterImporter for GmailFilters {
    fn formats() -> Vec<mailroom_plugin_sdk::filter_importer::FilterFormat> {
        vec![mailroom_plugin_sdk::filter_importer::FilterFormat {
            id: FORMAT.to_string(),
            name: "Gmail filters (mailFilters.xml)".to_string(),
            extensions: vec!["xml".to_string()],
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

mailroom_plugin_sdk::export_filter_importer!(GmailFilters);

fn error(message: String, at: Option<(u32, u32)>) -> ImportError {
    ImportError {
        message,
        line: at.map(|a| a.0),
        column: at.map(|a| a.1),
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (u32, u32) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line as u32, column as u32)
}

/// Parses a Gmail export into rules.
pub fn import(data: &[u8]) -> Result<ImportedRules, ImportError> {
    let text = std::str::from_utf8(data).map_err(|e| {
        let valid = std::str::from_utf8(&data[..e.valid_up_to()]).unwrap_or("");
        error(
            "the file is not UTF-8 text".into(),
            Some(line_column(valid, valid.len())),
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);

    let mut out = ImportedRules {
        rules: Vec::new(),
        warnings: Vec::new(),
    };
    let mut stack: Vec<String> = Vec::new();
    let mut entry: Option<Vec<(String, String)>> = None;
    // The open entry's position and `<id>`, for its rule's source.
    let mut entry_source = RuleSource::new(FORMAT);
    let mut entries = 0u32;
    loop {
        // Where this event starts: after the previous one and any white space.
        // quick-xml skips a byte-order mark on its own, so its position can
        // fall inside a character of `text` (a second BOM): slice only on
        // a character boundary (found by fuzz/gmail_filters).
        let previous = reader.buffer_position() as usize;
        let position = text
            .get(previous.min(text.len())..)
            .and_then(|rest| rest.find(|c: char| !c.is_whitespace()))
            .map_or(previous, |skip| previous + skip);
        let event = reader.read_event().map_err(|e| {
            let at = line_column(text, reader.error_position() as usize);
            error(format!("malformed XML: {e}"), Some(at))
        })?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = e.local_name().as_ref().to_string();
                if stack.is_empty() && name != "feed" {
                    return Err(error(
                        format!(
                            "not a Gmail filter export: the root element is <{name}>, not <feed>"
                        ),
                        Some(line_column(text, position)),
                    ));
                }
                let in_feed = stack.len() == 1;
                if in_feed && name == "entry" {
                    entry = Some(Vec::new());
                    let (line, column) = line_column(text, position);
                    entry_source = RuleSource::new(FORMAT).at(line, column);
                } else if name == "property"
                    && stack.last().is_some_and(|s| s == "entry")
                    && let Some(props) = entry.as_mut()
                {
                    props.push(
                        property(e).map_err(|m| error(m, Some(line_column(text, position))))?,
                    );
                }
                if matches!(event, Event::Start(_)) {
                    stack.push(name);
                } else if in_feed && name == "entry" {
                    // `<entry/>`: an empty filter.
                    entries += 1;
                    let props = entry.take().unwrap_or_default();
                    finish_entry(entries, props, entry_source.clone(), &mut out);
                }
            }
            Event::Text(ref t) if stack.len() == 3 && stack[1] == "entry" && stack[2] == "id" => {
                let id = t.xml_content(XmlVersion::Implicit1_0);
                entry_source.filter_id = Some(id.trim().to_string());
            }
            Event::End(_) if stack.pop().as_deref() == Some("entry") && stack.len() == 1 => {
                entries += 1;
                let props = entry.take().unwrap_or_default();
                finish_entry(entries, props, entry_source.clone(), &mut out);
            }
            Event::Eof => {
                if let Some(open) = stack.last() {
                    return Err(error(
                        format!("the file ends inside <{open}>: it is truncated"),
                        Some(line_column(text, text.len())),
                    ));
                }
                if entries == 0 && out.rules.is_empty() && text.trim().is_empty() {
                    return Err(error("the file is empty".into(), None));
                }
                break;
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The `name` and `value` attributes of an `<apps:property>`.
fn property(e: &BytesStart<'_>) -> Result<(String, String), String> {
    let (mut name, mut value) = (None, None);
    for attr in e.attributes() {
        let attr = attr.map_err(|err| format!("malformed attribute: {err}"))?;
        let v = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|err| format!("malformed attribute value: {err}"))?
            .into_owned();
        match attr.key.local_name().as_ref() {
            "name" => name = Some(v),
            "value" => value = Some(v),
            _ => {}
        }
    }
    match name {
        Some(name) => Ok((name, value.unwrap_or_default())),
        None => Err("<apps:property> without a name".into()),
    }
}

/// Turns one entry's properties into a rule (or warnings).
fn finish_entry(n: u32, props: Vec<(String, String)>, source: RuleSource, out: &mut ImportedRules) {
    let location = format!("filter {n}");
    let first_warning = out.warnings.len();
    let rule_index = u32::try_from(out.rules.len()).ok();
    let mut warn = |message: String| {
        out.warnings.push(ImportWarning {
            location: Some(location.clone()),
            message,
            line: source.line,
            column: source.column,
            filter_id: source.filter_id.clone(),
            rule_index: None,
        })
    };
    let get = |key: &str| {
        props
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let mut conds = Vec::new();
    let mut lost = Vec::new();
    let mut criteria = Vec::new();
    let mut actions = Vec::new();

    for (key, value) in &props {
        let value = value.as_str();
        match key.as_str() {
            "from" | "to" | "subject" | "hasTheWord" | "doesNotHaveTheWord" => {
                let (scope, shown) = match key.as_str() {
                    "from" => (Scope::Field(Field::From), format!("from:{value}")),
                    // Gmail's `to` also finds the address in Cc.
                    "to" => (Scope::Field(Field::Recipients), format!("to:{value}")),
                    "subject" => (Scope::Field(Field::Subject), format!("subject:{value}")),
                    "hasTheWord" => (Scope::Anywhere, value.to_string()),
                    _ => (Scope::Anywhere, format!("-({value})")),
                };
                criteria.push(shown);
                let parsed = query::parse(value, scope);
                let cond = match key.as_str() {
                    "doesNotHaveTheWord" => parsed.cond.map(Cond::not),
                    _ => parsed.cond,
                };
                conds.extend(cond);
                lost.extend(parsed.unsupported);
            }
            "hasAttachment" if value == "true" => {
                criteria.push("has:attachment".into());
                conds.push(Cond::test(Field::HasAttachment, MatchType::Exists, ""));
            }
            "size" => match value.parse::<u64>() {
                Ok(amount) => {
                    let factor: u64 = match get("sizeUnit") {
                        Some("s_smb") => 1024 * 1024,
                        Some("s_skb") => 1024,
                        _ => 1,
                    };
                    let (mt, word) = match get("sizeOperator") {
                        Some("s_ss") => (MatchType::LessThan, "smaller"),
                        _ => (MatchType::GreaterThan, "larger"),
                    };
                    let bytes = amount.saturating_mul(factor);
                    criteria.push(format!("{word}:{bytes}"));
                    conds.push(Cond::test(Field::Size, mt, bytes.to_string()));
                }
                Err(_) => lost.push(format!("size `{value}`")),
            },
            // Read with `size`; newer exports add them to every entry. Chats
            // are not mail, so there is nothing to exclude.
            "sizeOperator" | "sizeUnit" | "excludeChats" | "hasAttachment" => {}
            "label" => actions.push(Action::AddLabel(value.to_string())),
            "forwardTo" => actions.push(Action::Forward(value.to_string())),
            "shouldArchive" | "shouldMarkAsRead" | "shouldStar" | "shouldTrash"
            | "shouldNeverSpam" => {
                if value == "true" {
                    actions.push(match key.as_str() {
                        "shouldArchive" => Action::Archive,
                        "shouldMarkAsRead" => Action::MarkRead,
                        "shouldStar" => Action::Star,
                        "shouldTrash" => Action::Trash,
                        _ => Action::NeverSpam,
                    });
                }
            }
            "shouldAlwaysMarkAsImportant" | "shouldNeverMarkAsImportant" => warn(format!(
                "`{key}`: Gmail's importance markers have no Mailroom equivalent; left out"
            )),
            "smartLabelToApply" => warn(format!(
                "`smartLabelToApply` ({value}): Gmail categories have no Mailroom equivalent; left out"
            )),
            other => warn(format!("property `{other}` is not supported; left out")),
        }
    }

    if actions.is_empty() {
        warn("no action Mailroom supports; filter skipped".into());
        return;
    }
    let mut rule = RuleBuilder::new(rule_name(n, &criteria)).source(source.clone());
    for cond in conds.iter().cloned() {
        rule = rule.condition(cond);
    }
    for action in actions {
        rule = rule.then(action);
    }
    if !lost.is_empty() {
        warn(format!(
            "criteria not supported: {}; the rule would match more mail than in Gmail, so it is imported disabled",
            lost.join(", ")
        ));
        rule = rule.disabled();
    } else if conds.is_empty() {
        warn("no criteria: the rule would match every message, so it is imported disabled".into());
        rule = rule.disabled();
    }
    out.rules.push(rule.build());
    for warning in &mut out.warnings[first_warning..] {
        warning.rule_index = rule_index;
    }
}

/// `Gmail filter 3: from:alice@example.com subject:"hi"`, at most 100 characters.
fn rule_name(n: u32, criteria: &[String]) -> String {
    let mut name = format!("Gmail filter {n}");
    if !criteria.is_empty() {
        name.push_str(": ");
        name.push_str(&criteria.join(" "));
    }
    if name.chars().count() > 100 {
        name = name.chars().take(99).collect::<String>() + "…";
    }
    name
}

#[cfg(test)]
mod tests;
