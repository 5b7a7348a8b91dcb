//! Measures the bundled classifier (`classifier-keywords-core`) on data it
//! was not built from: the reply fixtures of `tests/data/replies`, the
//! held-out part of the Parakweet request sentences, and the Enron signature
//! set. `main.rs` prints the numbers; `tests` hold them above floors.

#![forbid(unsafe_code)]

pub mod data;
pub mod metrics;
pub mod parakweet;
pub mod replies;
pub mod requests;
pub mod sentiment;
pub mod signatures;

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
