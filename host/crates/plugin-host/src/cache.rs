//! The on-disk cache of precompiled components.
//!
//! Compiling a component takes from tens of milliseconds (Rust) to seconds
//! (Python, JavaScript); loading a precompiled artifact by mmap takes about a
//! hundred microseconds. Artifacts are keyed by the engine's compatibility
//! hash (a new wasmtime or different settings get a fresh directory) and the
//! sha256 of the component. Only the host writes into this directory, and only
//! what it compiled itself: user bytes are never deserialized.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use wasmtime::Engine;

#[derive(Debug, Clone)]
pub struct ArtifactCache {
    dir: PathBuf,
}

impl ArtifactCache {
    /// A cache under `root` for artifacts this `engine` can load.
    pub fn new(root: &Path, engine: &Engine) -> std::io::Result<Self> {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let dir = root.join(format!("{:016x}", hasher.finish()));
        // Owner-only: compiled code the host will run must not be writable,
        // nor readable, by other users.
        mailroom_core::private_fs::create_private_dir(&dir)?;
        Ok(Self { dir })
    }

    pub fn path_for(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}.cwasm"))
    }

    /// The artifact's path if one was written before.
    pub fn lookup(&self, sha256: &str) -> Option<PathBuf> {
        let path = self.path_for(sha256);
        path.is_file().then_some(path)
    }

    /// Writes an artifact atomically (temp file + rename), so a crash never
    /// leaves a truncated artifact under the final name.
    pub fn store(&self, sha256: &str, artifact: &[u8]) -> std::io::Result<PathBuf> {
        let path = self.path_for(sha256);
        let mut tmp = tempfile_in(&self.dir)?;
        tmp.1.write_all(artifact)?;
        tmp.1.sync_all()?;
        std::fs::rename(&tmp.0, &path)?;
        Ok(path)
    }

    /// Removes every artifact whose component is not in `keep` (and temp
    /// files a crash left behind); returns how many were removed.
    pub fn retain(&self, keep: &std::collections::HashSet<String>) -> std::io::Result<usize> {
        let mut removed = 0;
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let stale = match name.strip_suffix(".cwasm") {
                Some(sha256) => !keep.contains(sha256),
                None => name.starts_with(".tmp-"),
            };
            if stale && std::fs::remove_file(&path).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Keeps the `keep` most recently written artifacts and removes the rest
    /// (for a cache without a list of what runs, such as the CLI's); returns
    /// how many were removed.
    pub fn retain_newest(&self, keep: usize) -> std::io::Result<usize> {
        let mut artifacts = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "cwasm") {
                let written = entry.metadata()?.modified()?;
                artifacts.push((written, path));
            }
        }
        artifacts.sort_by_key(|(written, _)| std::cmp::Reverse(*written));
        let mut removed = 0;
        for (_, path) in artifacts.into_iter().skip(keep) {
            if std::fs::remove_file(&path).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Drops an artifact that failed to load, so it is rebuilt next time.
    pub fn evict(&self, sha256: &str) {
        let _ = std::fs::remove_file(self.path_for(sha256));
    }
}

fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let name: u64 = rand::random();
    let path = dir.join(format!(".tmp-{name:016x}"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(&path)?;
    Ok((path, file))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    #[test]
    fn retain_newest_keeps_the_most_recently_written() {
        let root = std::env::temp_dir().join(format!("mailroom-cache-{}", std::process::id()));
        let cache = ArtifactCache::new(&root, &Engine::default()).expect("cache");
        let now = SystemTime::now();
        for (i, sha) in ["old", "middle", "new"].iter().enumerate() {
            let path = cache.store(sha, b"artifact").expect("store");
            let file = std::fs::File::options()
                .write(true)
                .open(&path)
                .expect("open");
            file.set_modified(now - Duration::from_secs(100 - i as u64 * 10))
                .expect("mtime");
        }
        assert_eq!(cache.retain_newest(2).expect("retain"), 1);
        assert!(cache.lookup("old").is_none());
        assert!(cache.lookup("middle").is_some() && cache.lookup("new").is_some());
        let _ = std::fs::remove_dir_all(root);
    }
}
