//! Evaluating a compiled condition tree over one prepared message.

use crate::compile::{Matcher, Node, SizeOp, TextOp};
use crate::message::{Prepared, Values};
use crate::model::Field;

/// Whether the tree `nodes` (root 0; empty matches everything) matches.
pub(crate) fn matches(nodes: &[Node], message: &Prepared<'_, '_>) -> bool {
    nodes.is_empty() || node(nodes, 0, message)
}

fn node(nodes: &[Node], index: usize, message: &Prepared<'_, '_>) -> bool {
    // Indices were checked and loops refused when the rule was compiled.
    match &nodes[index] {
        Node::All(children) => children.iter().all(|&c| node(nodes, c, message)),
        Node::Any(children) => children.iter().any(|&c| node(nodes, c, message)),
        Node::Not(child) => !node(nodes, *child, message),
        Node::Test {
            field,
            header,
            matcher,
        } => test(*field, header.as_deref(), matcher, message),
    }
}

fn test(field: Field, header: Option<&str>, matcher: &Matcher, message: &Prepared<'_, '_>) -> bool {
    match field {
        Field::HasAttachment => return message.has_attachment(),
        Field::Size => {
            let size = message.view.size;
            return match matcher {
                Matcher::Size(SizeOp::Greater, n) => size > *n,
                Matcher::Size(SizeOp::Less, n) => size < *n,
                Matcher::Size(SizeOp::Equal, n) => size == *n,
                // Every message has a size.
                _ => true,
            };
        }
        _ => {}
    }
    let owned;
    let values: &Values<'_> = match header {
        Some(name) => {
            owned = message.header(name);
            &owned
        }
        None => message.values(field),
    };
    match matcher {
        Matcher::Exists => values.original.iter().any(|v| !v.trim().is_empty()),
        Matcher::Pattern(regex) => values.original.iter().any(|v| regex.is_match(v)),
        Matcher::Text {
            op,
            needle,
            case_sensitive,
        } => values.any(*case_sensitive, |t| match op {
            TextOp::Contains(finder) => finder.find(t.as_bytes()).is_some(),
            TextOp::Is => t.trim() == needle.trim(),
            TextOp::BeginsWith => t.starts_with(needle.as_str()),
            TextOp::EndsWith => t.ends_with(needle.as_str()),
        }),
        // Only `size` compiles to a size matcher.
        Matcher::Size(..) => false,
    }
}
