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
//! same id and position ([`entry`] says which).
//!
//! The file is treated as hostile: refused by size before parsing
//! ([`MAX_FILE_BYTES`]), refused when not UTF-8, when it has a DOCTYPE (so
//! no entity is ever defined or expanded, internal or external), when it has
//! no XML element or text outside the root (plain text, JSON), when the root
//! is not an Atom `<feed>` or an entry's properties are not Gmail's
//! `apps:property`, or when it is truncated or malformed — each with what
//! was expected and, when there is one, the line and column.

use filter_common::output::Output;
use filter_common::{Positions, error, line_column};
use mailroom_plugin_sdk::filter_importer::{FilterFormat, ImportError, ImportedRules};
use mailroom_plugin_sdk::prelude::*;
use mailroom_plugin_sdk::types::RuleSource;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use std::collections::HashMap;

pub mod entry;
pub mod query;

/// The format id this plugin handles.
pub const FORMAT: &str = "gmail-xml";

/// The largest file read: far above any real export (a filter is about
/// 500 bytes; the contract allows 10,000 rules), checked before parsing.
pub const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;

/// The namespace of Gmail's export (Atom).
pub const ATOM_NS: &str = "http://www.w3.org/2005/Atom";
/// The namespace of its `<apps:property>` elements.
pub const APPS_NS: &str = "http://schemas.google.com/apps/2006";

/// What a Gmail export looks like, for errors.
const EXPECTED: &str = "a Gmail filter export is an Atom feed, `<feed xmlns=\"http://www.w3.org/2005/Atom\" \
     xmlns:apps=\"http://schemas.google.com/apps/2006\">`, with one `<entry>` per filter holding \
     `<apps:property name=\"…\" value=\"…\"/>` elements (Gmail: Settings → Filters and Blocked \
     Addresses → Export)";

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
    fn formats() -> Vec<FilterFormat> {
        vec![FilterFormat {
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

/// The namespace declarations (`xmlns`, `xmlns:p`) of an element, by prefix
/// (`""` for the default).
fn namespaces(e: &BytesStart<'_>, into: &mut HashMap<String, String>) {
    for attr in e.attributes().flatten() {
        let key = attr.key.as_ref().to_string();
        let prefix = match key.strip_prefix("xmlns") {
            Some("") => "",
            Some(rest) => match rest.strip_prefix(':') {
                Some(p) => p,
                None => continue,
            },
            None => continue,
        };
        if let Ok(value) = attr.normalized_value(XmlVersion::Implicit1_0) {
            into.insert(prefix.to_string(), value.into_owned());
        }
    }
}

/// The namespace an element's name is in, given the declarations in scope.
fn namespace_of<'a>(e: &BytesStart<'_>, declared: &'a HashMap<String, String>) -> Option<&'a str> {
    let prefix = e
        .name()
        .prefix()
        .map(|p| p.as_ref().to_string())
        .unwrap_or_default();
    declared.get(&prefix).map(String::as_str)
}

/// Parses a Gmail export into rules. An error says what was wrong and where; when the
/// file looks like another format, it says which.
pub fn import(data: &[u8]) -> Result<ImportedRules, ImportError> {
    read(data).map_err(|e| filter_common::hint(e, data, FORMAT))
}

fn read(data: &[u8]) -> Result<ImportedRules, ImportError> {
    let text = filter_common::text(data, MAX_FILE_BYTES, "a Gmail filter export")?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);

    let mut out = Output::new();
    // One position per entry: found in one pass over the file, not one each.
    let positions = Positions::new(text);
    let mut stack: Vec<String> = Vec::new();
    let mut declared: HashMap<String, String> = HashMap::new();
    let mut seen_root = false;
    let mut entry: Option<Vec<(String, String)>> = None;
    // The open entry's position and `<id>`, for its rule's source.
    let mut entry_source = RuleSource::new(FORMAT);
    let mut entries = 0u32;
    let mut properties = 0usize;
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
        let here = || Some(line_column(text, position));
        let event = reader.read_event().map_err(|e| {
            let at = line_column(text, reader.error_position() as usize);
            error(format!("malformed XML: {e}"), Some(at))
        })?;
        match event {
            Event::DocType(_) => {
                return Err(error(
                    "a DOCTYPE is refused: a Gmail export has none, and no entity is ever expanded \
                     (internal or external); remove it if this is a Gmail export",
                    here(),
                ));
            }
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) if stack.is_empty() => {
                let what = if seen_root { "after" } else { "before" };
                return Err(error(
                    format!(
                        "not a Gmail filter export: text {what} the root element (is this XML?); {EXPECTED}"
                    ),
                    here(),
                ));
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = e.local_name().as_ref().to_string();
                if stack.is_empty() {
                    if seen_root {
                        return Err(error(
                            "a second root element: XML has one".to_string(),
                            here(),
                        ));
                    }
                    seen_root = true;
                    namespaces(e, &mut declared);
                    if name != "feed" {
                        return Err(error(
                            format!(
                                "not a Gmail filter export: the root element is <{name}>, not <feed>; {EXPECTED}"
                            ),
                            here(),
                        ));
                    }
                    if namespace_of(e, &declared) != Some(ATOM_NS) {
                        return Err(error(
                            format!(
                                "not a Gmail filter export: <feed> is not in the Atom namespace; {EXPECTED}"
                            ),
                            here(),
                        ));
                    }
                }
                let in_feed = stack.len() == 1;
                if in_feed && name == "entry" {
                    entry = Some(Vec::new());
                    let at = positions.at(position);
                    entry_source = RuleSource::new(FORMAT).at(at.line, at.column);
                } else if name == "property"
                    && stack.last().is_some_and(|s| s == "entry")
                    && let Some(props) = entry.as_mut()
                {
                    let mut scope = declared.clone();
                    namespaces(e, &mut scope);
                    if namespace_of(e, &scope) != Some(APPS_NS) {
                        return Err(error(
                            format!(
                                "not a Gmail filter export: <{}> is not Gmail's apps:property (namespace {APPS_NS}); {EXPECTED}",
                                e.name().as_ref()
                            ),
                            here(),
                        ));
                    }
                    properties += 1;
                    props.push(property(e).map_err(|m| error(m, here()))?);
                }
                if matches!(event, Event::Start(_)) {
                    stack.push(name);
                } else if in_feed && name == "entry" {
                    // `<entry/>`: an empty filter.
                    entries += 1;
                    let props = entry.take().unwrap_or_default();
                    entry::finish(entries, props, entry_source.clone(), &mut out);
                }
            }
            Event::Text(ref t) if stack.len() == 3 && stack[1] == "entry" && stack[2] == "id" => {
                let id = t.xml_content(XmlVersion::Implicit1_0);
                entry_source.filter_id = Some(id.trim().to_string());
            }
            Event::End(_) if stack.pop().as_deref() == Some("entry") && stack.len() == 1 => {
                entries += 1;
                let props = entry.take().unwrap_or_default();
                entry::finish(entries, props, entry_source.clone(), &mut out);
            }
            Event::Eof => {
                if let Some(open) = stack.last() {
                    return Err(error(
                        format!("the file ends inside <{open}>: it is truncated"),
                        Some(line_column(text, text.len())),
                    ));
                }
                if !seen_root {
                    let message = if text.trim().is_empty() {
                        "the file is empty".to_string()
                    } else {
                        format!(
                            "not a Gmail filter export: the file has no XML element; {EXPECTED}"
                        )
                    };
                    return Err(error(message, None));
                }
                if entries > 0 && properties == 0 {
                    return Err(error(
                        format!(
                            "an Atom feed, but not a Gmail filter export: none of its {entries} entries has an <apps:property>; {EXPECTED}"
                        ),
                        None,
                    ));
                }
                break;
            }
            _ => {}
        }
    }
    Ok(out.finish())
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

#[cfg(test)]
mod tests;
