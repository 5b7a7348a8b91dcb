//! The reply fixtures of `tests/data/replies`: one file per mail client and
//! language, each with the body as the client sent it, the sender's own text
//! and the reference summary. Format:
//!
//! ```text
//! client: what wrote it
//! === body
//! …
//! === own
//! …
//! === summary
//! …
//! ```

use crate::EvalError;
use crate::data::{data_dir, files, read};
use classifier_keywords_core::{Email, classify, reply};
use std::path::{Path, PathBuf};

pub struct Fixture {
    pub path: PathBuf,
    pub client: String,
    pub body: String,
    pub own: String,
    pub summary: Option<String>,
}

pub fn parse(path: &Path, text: &str) -> Result<Fixture, EvalError> {
    let format = |what: &str| EvalError::Format {
        path: path.to_path_buf(),
        what: format!("{what} (expected `client:`, then `=== body`, `=== own`, `=== summary`)"),
    };
    let (head, rest) = text
        .split_once("=== body\n")
        .ok_or_else(|| format("no `=== body` line"))?;
    let (body, rest) = rest
        .split_once("=== own\n")
        .ok_or_else(|| format("no `=== own` line"))?;
    let (own, summary) = rest
        .split_once("=== summary\n")
        .ok_or_else(|| format("no `=== summary` line"))?;
    let client = head
        .trim()
        .strip_prefix("client:")
        .ok_or_else(|| format("no `client:` line"))?
        .trim()
        .to_string();
    let summary = summary.trim();
    Ok(Fixture {
        path: path.to_path_buf(),
        client,
        body: body.to_string(),
        own: own.trim_end().to_string(),
        summary: (!summary.is_empty()).then(|| summary.to_string()),
    })
}

pub fn load() -> Result<Vec<Fixture>, EvalError> {
    files(&data_dir().join("replies"), ".txt")?
        .iter()
        .map(|path| parse(path, &read(path)?))
        .collect()
}

/// How one fixture came out.
pub struct Outcome {
    pub own_exact: bool,
    pub summary_exact: bool,
    pub got_own: String,
    pub got_summary: Option<String>,
}

pub fn check(fixture: &Fixture) -> Outcome {
    let got_own = reply::own_text(&fixture.body).lines.join("\n");
    let got_summary = classify(&Email {
        subject: "",
        text_body: &fixture.body,
    })
    .summary;
    Outcome {
        own_exact: got_own == fixture.own,
        summary_exact: got_summary == fixture.summary,
        got_own,
        got_summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every client's reply is cut to exactly its sender's text, and the
    /// summary is exactly the reference.
    #[test]
    fn every_fixture_splits_and_summarises_exactly() {
        let fixtures = load().unwrap();
        assert!(fixtures.len() >= 20, "{} fixtures", fixtures.len());
        let mut failures = Vec::new();
        for f in &fixtures {
            let out = check(f);
            if !out.own_exact {
                failures.push(format!(
                    "{} ({}): own text\n--- got\n{}\n--- expected\n{}",
                    f.path.display(),
                    f.client,
                    out.got_own,
                    f.own
                ));
            }
            if !out.summary_exact {
                failures.push(format!(
                    "{} ({}): summary {:?}, expected {:?}",
                    f.path.display(),
                    f.client,
                    out.got_summary,
                    f.summary
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    }
}
