//! {{name}}: imports "simple filter lines" into Mailroom rules.
//!
//! One filter per line, `FIELD | MATCH | VALUE | ACTION [| ARGUMENT]`, e.g.
//! `from | ends-with | @example.com | label | customers` (see
//! `samples/filters.txt`). A line that cannot be read becomes a warning with
//! its line number and the rest still imports: an admin sees the preview
//! before anything is saved. The contract it implements is
//! `wit/v{{contract}}/filter-importer.wit`; rules are in `wit/v{{contract}}/types.wit`.

use mailroom_plugin_sdk::filter_importer::{FilterFormat, ImportError, ImportWarning, ImportedRules};
use mailroom_plugin_sdk::prelude::*;

pub struct Plugin;

const FORMAT: &str = "simple-lines";

impl mailroom_plugin_sdk::Plugin for Plugin {
    fn metadata() -> Metadata {
        Metadata::new("{{name}}", env!("CARGO_PKG_VERSION"), PluginKind::FilterImporter)
            .description("Imports simple filter lines (FIELD | MATCH | VALUE | ACTION)")
    }
}

impl FilterImporter for Plugin {
    fn formats() -> Vec<FilterFormat> {
        vec![FilterFormat {
            id: FORMAT.into(),
            name: "Simple filter lines".into(),
            extensions: vec!["txt".into()],
        }]
    }

    fn import_filters(format: String, data: Vec<u8>) -> Result<ImportedRules, ImportError> {
        let refuse = |message: String| ImportError {
            message,
            line: None,
            column: None,
        };
        if format != FORMAT {
            return Err(refuse(format!(
                "unknown format `{format}`: this plugin reads {FORMAT}"
            )));
        }
        let text = String::from_utf8(data).map_err(|_| refuse("the file is not UTF-8 text".into()))?;
        // A byte order mark (Notepad writes one) is not part of the first line.
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);

        let mut out = ImportedRules {
            rules: Vec::new(),
            warnings: Vec::new(),
        };
        for (index, line) in text.lines().enumerate() {
            let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match rule(line, number) {
                Ok(rule) => out.rules.push(rule),
                Err(message) => out.warnings.push(ImportWarning {
                    location: Some(format!("line {number}")),
                    message,
                    line: Some(number),
                    column: None,
                    filter_id: None,
                    rule_index: None,
                }),
            }
        }
        log::info!(
            "{} rule(s), {} warning(s)",
            out.rules.len(),
            out.warnings.len()
        );
        Ok(out)
    }
}

/// One line to a rule, or what is wrong with it in words.
fn rule(line: &str, number: u32) -> Result<Rule, String> {
    let parts: Vec<&str> = line.split('|').map(str::trim).collect();
    let (field, match_type, value, action, argument) = match parts.as_slice() {
        [f, m, v, a] => (*f, *m, *v, *a, ""),
        [f, m, v, a, arg] => (*f, *m, *v, *a, *arg),
        _ => {
            return Err(format!(
                "expected FIELD | MATCH | VALUE | ACTION [| ARGUMENT], found {} part(s)",
                parts.len()
            ));
        }
    };
    let field = match field {
        "from" => Field::From,
        "to" => Field::To,
        "cc" => Field::Cc,
        "subject" => Field::Subject,
        "body" => Field::Body,
        other => {
            return Err(format!(
                "unknown field `{other}`: use one of from, to, cc, subject, body"
            ));
        }
    };
    let match_type = match match_type {
        "contains" => MatchType::Contains,
        "is" => MatchType::Is,
        "begins-with" => MatchType::BeginsWith,
        "ends-with" => MatchType::EndsWith,
        other => {
            return Err(format!(
                "unknown match `{other}`: use one of contains, is, begins-with, ends-with"
            ));
        }
    };
    let action = match (action, argument) {
        ("label" | "move", "") => {
            return Err(format!(
                "action `{action}` needs an argument, e.g. `{action} | Name`"
            ));
        }
        ("label", name) => Action::AddLabel(name.to_string()),
        ("move", folder) => Action::MoveTo(folder.to_string()),
        ("star" | "mark-read" | "archive", extra) if !extra.is_empty() => {
            return Err(format!(
                "action `{action}` takes no argument, found `{extra}`"
            ));
        }
        ("star", _) => Action::Star,
        ("mark-read", _) => Action::MarkRead,
        ("archive", _) => Action::Archive,
        (other, _) => {
            return Err(format!(
                "unknown action `{other}`: use one of label, move, star, mark-read, archive"
            ));
        }
    };
    Ok(RuleBuilder::new(format!("line {number}"))
        .when(field, match_type, value)
        .then(action)
        .source(RuleSource::new(FORMAT).at(number, 1))
        .build())
}

mailroom_plugin_sdk::export_filter_importer!(Plugin);
