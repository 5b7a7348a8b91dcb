//! The range of a filter importer's answers: its formats, and the rules it
//! made of a user's file — condition trees whose indices stay inside the
//! tree, and actions with the same range as a workflow's.

use super::actions::check_actions;
use super::{PluginOutput, TextRule, Violation, count, identifier, violation};
use crate::bindings::latest::filter_importer::{FilterFormat, ImportError, ImportedRules};
use crate::bindings::latest::types::ConditionNode;

const MAX_FORMATS: usize = 20;
const MAX_RULES: usize = 10_000;
const MAX_NODES: usize = 1_000;
const MAX_WARNINGS: usize = 10_000;

impl PluginOutput for Vec<FilterFormat> {
    fn check(&self) -> Result<(), Violation> {
        count("formats", self, MAX_FORMATS)?;
        for (i, f) in self.iter().enumerate() {
            identifier(
                move || format!("formats[{i}].id"),
                &f.id,
                50,
                &['-', '_', '.'],
            )?;
            TextRule::line(100).check(|| format!("formats[{i}].name"), &f.name)?;
            count("formats[].extensions", &f.extensions, 10)?;
            for (j, ext) in f.extensions.iter().enumerate() {
                identifier(
                    move || format!("formats[{i}].extensions[{j}]"),
                    ext,
                    10,
                    &[],
                )?;
            }
        }
        Ok(())
    }
}

impl PluginOutput for Result<ImportedRules, ImportError> {
    fn check(&self) -> Result<(), Violation> {
        match self {
            Ok(imported) => check_imported(imported),
            // Shown to the user who uploaded the file.
            Err(e) => TextRule::lines(2000).check("import-error.message", &e.message),
        }
    }
}

fn check_imported(imported: &ImportedRules) -> Result<(), Violation> {
    count("rules", &imported.rules, MAX_RULES)?;
    for (i, rule) in imported.rules.iter().enumerate() {
        let at = move |name: &str| format!("rules[{i}].{name}");
        TextRule::line(200)
            .may_be_empty()
            .check(|| at("name"), &rule.name)?;
        if rule.conditions.len() > MAX_NODES {
            return Err(violation(
                || at("conditions"),
                format!(
                    "has {} nodes; the limit is {MAX_NODES}",
                    rule.conditions.len()
                ),
            ));
        }
        let nodes = rule.conditions.len();
        for (j, node) in rule.conditions.iter().enumerate() {
            let node_at = move || format!("rules[{i}].conditions[{j}]");
            let children: &[u32] = match node {
                ConditionNode::All(c) | ConditionNode::Any(c) => c,
                ConditionNode::Not(c) => std::slice::from_ref(c),
                ConditionNode::Test(c) => {
                    TextRule::line(200).check_opt(
                        || format!("{}.header-name", node_at()),
                        c.header_name.as_ref(),
                    )?;
                    TextRule::lines(4096).check(|| format!("{}.value", node_at()), &c.value)?;
                    &[]
                }
            };
            // Children come after their parent, so the tree has no cycles.
            if let Some(bad) = children
                .iter()
                .find(|&&c| c as usize >= nodes || c as usize <= j)
            {
                return Err(violation(
                    node_at,
                    format!(
                        "refers to node {bad}; a child's index must be after its parent's and below {nodes}"
                    ),
                ));
            }
        }
        check_actions(&at("actions"), &rule.actions)?;
        if let Some(source) = &rule.source {
            TextRule::line(200).check_opt(|| at("source.filter-id"), source.filter_id.as_ref())?;
        }
    }
    count("warnings", &imported.warnings, MAX_WARNINGS)?;
    for (i, w) in imported.warnings.iter().enumerate() {
        TextRule::line(200).check_opt(|| format!("warnings[{i}].location"), w.location.as_ref())?;
        TextRule::lines(2000).check(|| format!("warnings[{i}].message"), &w.message)?;
        TextRule::line(200)
            .check_opt(|| format!("warnings[{i}].filter-id"), w.filter_id.as_ref())?;
        if let Some(index) = w.rule_index
            && index as usize >= imported.rules.len()
        {
            return Err(violation(
                || format!("warnings[{i}].rule-index"),
                format!(
                    "is {index}, but {} rules were imported",
                    imported.rules.len()
                ),
            ));
        }
    }
    Ok(())
}
