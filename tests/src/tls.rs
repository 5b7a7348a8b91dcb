//! A self-signed server certificate for `localhost` / `127.0.0.1`, made with
//! the `openssl` command. rustls rejects a plain `openssl req -x509`
//! certificate (`CaUsedAsEndEntity`), so it is marked as an end-entity
//! server certificate with subject alternative names.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Clone, Debug)]
pub struct SelfSigned {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl SelfSigned {
    /// Writes `cert.pem` and `key.pem` into `dir`. An EC key: generating it
    /// takes milliseconds, where RSA would slow every test start.
    pub fn create(dir: &Path) -> SelfSigned {
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        let out = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
            ])
            .args(["-nodes", "-days", "2", "-subj", "/CN=localhost"])
            .args(["-addext", "basicConstraints=critical,CA:FALSE"])
            .args(["-addext", "extendedKeyUsage=serverAuth"])
            .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run openssl (apt-get install -y openssl): {e}"));
        assert!(
            out.status.success(),
            "openssl req failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SelfSigned { cert, key }
    }

    /// The certificate in PEM, e.g. to trust it explicitly in a test.
    pub fn cert_pem(&self) -> Vec<u8> {
        std::fs::read(&self.cert).unwrap_or_else(|e| panic!("read {}: {e}", self.cert.display()))
    }
}
