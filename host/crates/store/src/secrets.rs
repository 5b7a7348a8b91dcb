//! Secrets at rest: account passwords, app passwords and OAuth tokens are
//! sealed with XChaCha20-Poly1305 under one 32-byte key that lives outside
//! the database (a file in the data directory or `MAILROOM_SECRET_KEY`), so a
//! copy of the database alone reveals no credentials.
//!
//! Sealed layout: `[version = 1][24-byte random nonce][ciphertext + tag]`.
//! The associated data binds a value to where it is stored (e.g. account id
//! and column), so a sealed value copied to another row does not decrypt.

use super::error::StoreError;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
pub use mailroom_core::secret::Secret;
use std::fmt;
use std::path::{Path, PathBuf};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Environment variable holding the key as base64 (takes precedence over the file).
pub const KEY_ENV: &str = "MAILROOM_SECRET_KEY";
/// File name of the key inside the data directory.
pub const KEY_FILE: &str = "secret.key";

const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

/// The 32-byte master key.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey([u8; 32]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl SecretKey {
    pub fn generate() -> Self {
        Self(rand::random())
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Parses the base64 form used by the key file and `MAILROOM_SECRET_KEY`.
    pub fn from_base64(text: &str) -> Result<Self, StoreError> {
        let mut bytes = B64
            .decode(text.trim())
            .map_err(|_| StoreError::Crypto("the secret key is not valid base64".into()))?;
        let key: Result<[u8; 32], _> = bytes.as_slice().try_into();
        bytes.zeroize();
        key.map(Self).map_err(|_| {
            StoreError::Crypto("the secret key must be exactly 32 bytes (base64-encoded)".into())
        })
    }

    pub fn to_base64(&self) -> String {
        B64.encode(self.0)
    }
}

/// A key together with a description of where it came from, so errors can
/// tell the operator which key to restore.
#[derive(Clone, Debug)]
pub struct LoadedKey {
    pub key: SecretKey,
    /// e.g. `environment variable MAILROOM_SECRET_KEY` or `file ./data/secret.key`.
    pub source: String,
}

impl LoadedKey {
    /// Loads the key from `MAILROOM_SECRET_KEY` if set, else from
    /// `<data_dir>/secret.key`, creating that file (mode 0600) with a fresh
    /// key on first start.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, StoreError> {
        if let Ok(value) = std::env::var(KEY_ENV) {
            let key = SecretKey::from_base64(&value).map_err(|e| {
                StoreError::Crypto(format!(
                    "{KEY_ENV}: {e}; set it to the base64 key the data was encrypted with \
                     (e.g. the content of the original {KEY_FILE})"
                ))
            })?;
            return Ok(Self {
                key,
                source: format!("environment variable {KEY_ENV}"),
            });
        }
        let path = data_dir.join(KEY_FILE);
        Self::load_or_create_file(&path)
    }

    /// Loads (or creates) the key at exactly `path`.
    pub fn load_or_create_file(path: &Path) -> Result<Self, StoreError> {
        let source = format!("file {}", path.display());
        match std::fs::read_to_string(path) {
            Ok(text) => {
                warn_if_readable_by_others(path);
                let key = SecretKey::from_base64(&text).map_err(|e| {
                    StoreError::Crypto(format!(
                        "{}: {e}; restore the original key file from backup \
                         (deleting it makes stored credentials unreadable)",
                        path.display()
                    ))
                })?;
                Ok(Self { key, source })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = SecretKey::generate();
                write_new_key_file(path, &key)?;
                tracing::warn!(
                    path = %path.display(),
                    "generated a new secret key for credentials at rest; back this file up \
                     (or move it to {KEY_ENV}): without it stored mail credentials cannot be decrypted"
                );
                Ok(Self { key, source })
            }
            Err(e) => Err(StoreError::Crypto(format!(
                "cannot read the secret key file {}: {e}",
                path.display()
            ))),
        }
    }
}

fn write_new_key_file(path: &Path, key: &SecretKey) -> Result<(), StoreError> {
    use std::io::Write;
    let fail = |e: std::io::Error| {
        StoreError::Crypto(format!(
            "cannot create the secret key file {}: {e}",
            path.display()
        ))
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let mut options = std::fs::OpenOptions::new();
    // create_new: never overwrite a key another process just wrote.
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(fail)?;
    let mut text = key.to_base64();
    text.push('\n');
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all());
    text.zeroize();
    written.map_err(fail)
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(path = %path.display(), "secret key file is readable by other users; chmod 600 it");
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Seals and opens values under the master key.
#[derive(Clone)]
pub struct Cipher {
    aead: XChaCha20Poly1305,
    source: String,
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cipher")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl Cipher {
    pub fn new(key: &LoadedKey) -> Self {
        Self {
            aead: XChaCha20Poly1305::new((&key.key.0).into()),
            source: key.source.clone(),
        }
    }

    /// Where the key came from (for error messages).
    pub fn key_source(&self) -> &str {
        &self.source
    }

    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, StoreError> {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let ciphertext = self
            .aead
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| StoreError::Crypto("encryption failed".into()))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, StoreError> {
        let (&version, rest) = sealed
            .split_first()
            .ok_or_else(|| StoreError::Crypto("empty encrypted value".into()))?;
        if version != VERSION {
            return Err(StoreError::Crypto(format!(
                "encrypted value has unknown format version {version}; \
                 it was written by a newer Mailroom"
            )));
        }
        if rest.len() < NONCE_LEN {
            return Err(StoreError::Crypto("encrypted value is truncated".into()));
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        self.aead
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| self.wrong_key())
    }

    pub fn seal_secret(&self, secret: &Secret, aad: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.seal(secret.expose().as_bytes(), aad)
    }

    pub fn open_secret(&self, sealed: &[u8], aad: &[u8]) -> Result<Secret, StoreError> {
        let mut bytes = self.open(sealed, aad)?;
        let text = String::from_utf8(std::mem::take(&mut bytes)).map_err(|e| {
            let mut raw = e.into_bytes();
            raw.zeroize();
            StoreError::Crypto("decrypted secret is not UTF-8".into())
        })?;
        Ok(Secret::new(text))
    }

    /// The error for a value that does not open: almost always a different key.
    pub(crate) fn wrong_key(&self) -> StoreError {
        StoreError::Crypto(format!(
            "stored credentials cannot be decrypted with the secret key from {}: it is not the key \
             they were encrypted with. Restore the original key (the {KEY_FILE} of the data \
             directory, or {KEY_ENV}) or re-enter the account credentials",
            self.source
        ))
    }
}

/// The default key file of a data directory.
pub fn key_file_path(data_dir: &Path) -> PathBuf {
    data_dir.join(KEY_FILE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> Cipher {
        Cipher::new(&LoadedKey {
            key: SecretKey::generate(),
            source: "test".into(),
        })
    }

    #[test]
    fn seal_roundtrip_and_layout() {
        let c = cipher();
        let sealed = c.seal(b"hunter2", b"acc_1/incoming").expect("seal");
        assert_eq!(sealed[0], VERSION);
        assert_eq!(sealed.len(), 1 + NONCE_LEN + 7 + 16);
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(
            c.open(&sealed, b"acc_1/incoming").expect("open"),
            b"hunter2"
        );
        // Same plaintext twice: different nonces, different ciphertexts.
        assert_ne!(sealed, c.seal(b"hunter2", b"acc_1/incoming").expect("seal"));
    }

    #[test]
    fn wrong_key_or_place_is_a_clear_error() {
        let sealed = cipher().seal(b"hunter2", b"a").expect("seal");
        let err = cipher()
            .open(&sealed, b"a")
            .expect_err("other key")
            .to_string();
        assert!(err.contains("Restore the original key"), "{err}");
        let c = cipher();
        let sealed = c.seal(b"hunter2", b"a").expect("seal");
        assert!(
            c.open(&sealed, b"b").is_err(),
            "aad binds the value to its place"
        );
        assert!(c.open(&[9, 1, 2], b"a").is_err());
        assert!(c.open(&[], b"a").is_err());
    }

    #[test]
    fn key_file_created_once_with_private_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub").join(KEY_FILE);
        let first = LoadedKey::load_or_create_file(&path).expect("create");
        let again = LoadedKey::load_or_create_file(&path).expect("load");
        assert_eq!(first.key.0, again.key.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not a key").expect("write");
        let err = LoadedKey::load_or_create_file(&path)
            .expect_err("bad key")
            .to_string();
        assert!(err.contains("restore the original key file"), "{err}");
    }

    #[test]
    fn base64_key_roundtrip() {
        let k = SecretKey::generate();
        assert_eq!(
            SecretKey::from_base64(&k.to_base64()).expect("parse").0,
            k.0
        );
        assert!(SecretKey::from_base64("c2hvcnQ=").is_err());
    }
}
