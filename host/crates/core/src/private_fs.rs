//! Files and directories only their owner can read: the data directory, the
//! database files and the plugin cache hold mail, credentials (sealed) and
//! code, so they are created 0700 / 0600 whatever the process umask allows.
//! On systems without Unix permissions these are plain creations.

use std::path::Path;

/// Creates `dir` and any missing parents owner-only (0700); directories that
/// already exist keep their mode (the operator chose it).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Makes `file` owner-only (0600), creating it empty when missing: SQLite
/// then gives its `-wal` and `-shm` files the same mode.
pub fn make_private_file(file: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    drop(options.open(file)?);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn directories_and_files_are_created_owner_only() {
        let mode = |path: &Path| {
            std::fs::metadata(path)
                .expect("metadata")
                .permissions()
                .mode()
                & 0o777
        };
        let root = std::env::temp_dir().join(format!("mailroom-private-{}", std::process::id()));
        let dir = root.join("a/b");
        create_private_dir(&dir).expect("dir");
        assert_eq!(mode(&root.join("a")), 0o700);
        assert_eq!(mode(&dir), 0o700);
        let file = dir.join("db");
        make_private_file(&file).expect("file");
        assert_eq!(mode(&file), 0o600);
        // An existing file readable by others is tightened, its content kept.
        std::fs::write(&file, b"data").expect("write");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        make_private_file(&file).expect("again");
        assert_eq!(mode(&file), 0o600);
        assert_eq!(std::fs::read(&file).expect("read"), b"data");
        std::fs::remove_dir_all(&root).expect("clean up");
    }
}
