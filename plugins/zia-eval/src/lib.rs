//! Measures the bundled classifier (`classifier-keywords-core`) on data it
//! was not built from: the reply fixtures of `tests/data/replies`, the
//! held-out part of the Parakweet request sentences, the Enron signature
//! set, and the test part of Mailroom's own labelled mail
//! (`tests/data/zia-emails`: intent, sentiment, signature, meeting time,
//! summary). `main.rs` prints the numbers; `tests` hold them above floors.

#![forbid(unsafe_code)]

pub mod cards;
pub mod data;
pub mod html;
pub mod intents;
pub mod labelled;
pub mod meetings;
pub mod metrics;
pub mod parakweet;
pub mod replies;
pub mod requests;
pub mod rouge;
pub mod sentiment;
pub mod signatures;
pub mod summaries;
pub mod training;

/// What went wrong reading the evaluation data.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(
        "cannot read {path}: {source} (the evaluation reads the repository's tests/data; see tests/data/README.md)"
    )]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {what}")]
    Format {
        path: std::path::PathBuf,
        what: String,
    },
}
