//! Where the evaluation data lives and how it is read.

use crate::EvalError;
use std::path::{Path, PathBuf};

/// This crate's folder, read at run time: a test binary that cargo reuses
/// from a checkout at another path (a target directory shared between
/// checkouts) must read this checkout's files, not the path it was built at.
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

/// The repository's `tests/data`.
pub fn data_dir() -> PathBuf {
    manifest_dir().join("../../tests/data")
}

pub fn read(path: &Path) -> Result<String, EvalError> {
    std::fs::read_to_string(path).map_err(|source| EvalError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// The files of `dir` whose name ends with `suffix`, sorted by name.
pub fn files(dir: &Path, suffix: &str) -> Result<Vec<PathBuf>, EvalError> {
    let entries = std::fs::read_dir(dir).map_err(|source| EvalError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    files.sort();
    Ok(files)
}
