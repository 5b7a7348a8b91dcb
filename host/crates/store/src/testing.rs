//! Throwaway stores for tests, on both back ends. SQLite gets a file in a
//! fresh temporary directory; PostgreSQL is one real server per test process
//! (Debian's `initdb`/`pg_ctl` on a free loopback port, started on first
//! use) with one fresh database per test. A watcher process stops the server
//! and removes its files when the test process exits, however it exits.
//!
//! Set `MAILROOM_TEST_DATABASE_URL=postgres://…/postgres` to use an existing
//! server instead (each test still gets its own database).
//!
//! Compiled for the store's own tests and, through the `testing` feature,
//! for other crates' tests (a dev-dependency): never part of the product.
//! It has no dependencies beyond the store's own.

// Test support: a store that cannot be set up fails the test, with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::{LoadedKey, SQLITE_FILE, SecretKey, Store, sqlite_url};
use crate::Backend;
use sqlx::Connection;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

const MISSING_PG: &str =
    "PostgreSQL is needed by the store tests: install PostgreSQL: apt-get install -y postgresql";

/// Runs the test body once per back end, as two tests named `…::sqlite` and
/// `…::postgres`: `both_backends! { async fn name(db) { … } }` where `db` is
/// a [`TestDb`].
#[macro_export]
macro_rules! both_backends {
    ($(async fn $name:ident($db:ident) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let $db = $crate::testing::TestDb::sqlite().await;
                    $body
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let $db = $crate::testing::TestDb::postgres().await;
                    $body
                }
            }
        )*
    };
}

/// The test harness's temporary directory, removed on drop.
pub use mailroom_test_servers::TempDir;

/// One test's store plus what is needed to reopen it (a "restart").
#[derive(Debug)]
pub struct TestDb {
    pub store: Store,
    pub url: String,
    pub key: LoadedKey,
    /// The data directory (SQLite file, key file); kept alive with the test.
    pub dir: TempDir,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = TempDir::new("mailroom-test").expect("temp dir");
        let url = sqlite_url(&dir.path().join(SQLITE_FILE)).expect("sqlite url");
        Self::connect(url, dir).await
    }

    pub async fn postgres() -> TestDb {
        let admin_url = pg_admin_url();
        let name = format!("test_{}", hex::encode(rand::random::<[u8; 8]>()));
        let mut conn = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("connect to test PostgreSQL at {admin_url}: {e}"));
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let _ = conn.close().await;
        let url = match admin_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("MAILROOM_TEST_DATABASE_URL must end with /DBNAME"),
        };
        let dir = TempDir::new("mailroom-test").expect("temp dir");
        Self::connect(url, dir).await
    }

    async fn connect(url: String, dir: TempDir) -> TestDb {
        let key = LoadedKey {
            key: SecretKey::generate(),
            source: "test key".into(),
        };
        let store = Store::connect(&url, key.clone())
            .await
            .expect("open test store");
        TestDb {
            store,
            url,
            key,
            dir,
        }
    }

    pub fn backend(&self) -> Backend {
        self.store.backend()
    }

    /// Closes the store and opens the same database again with the same key,
    /// as a restarted process would.
    pub async fn restart(&mut self) {
        self.store.close().await;
        self.store = Store::connect(&self.url, self.key.clone())
            .await
            .expect("reopen store");
    }
}

/// URL of the maintenance database of the shared test server.
fn pg_admin_url() -> String {
    if let Ok(url) = std::env::var("MAILROOM_TEST_DATABASE_URL") {
        return url;
    }
    static SERVER: OnceLock<Result<PgServer, String>> = OnceLock::new();
    match SERVER.get_or_init(PgServer::start) {
        Ok(server) => format!("postgres://postgres@127.0.0.1:{}/postgres", server.port),
        Err(e) => panic!("{e}"),
    }
}

struct PgServer {
    port: u16,
}

impl PgServer {
    fn start() -> Result<PgServer, String> {
        let bin = find_pg_bin().ok_or_else(|| MISSING_PG.to_owned())?;
        let as_root = is_root();
        let root = std::env::temp_dir().join(format!(
            "mailroom-pg-{}-{}",
            std::process::id(),
            hex::encode(rand::random::<[u8; 4]>())
        ));
        let data = root.join("data");
        std::fs::create_dir_all(&root).map_err(|e| format!("create {}: {e}", root.display()))?;
        if as_root {
            // initdb and postgres refuse to run as root.
            run(
                Command::new("chown").arg("postgres:postgres").arg(&root),
                &root,
            )?;
        }
        run(
            pg_cmd(as_root, &bin.join("initdb"))
                .args([
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--no-locale",
                    "--no-sync",
                    "-D",
                ])
                .arg(&data),
            &root,
        )?;
        let mut last_err = String::new();
        for _ in 0..5 {
            let port = free_port()?;
            let opts = format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off \
                 -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
                root.display()
            );
            let started = run(
                pg_cmd(as_root, &bin.join("pg_ctl"))
                    .arg("-D")
                    .arg(&data)
                    .arg("-o")
                    .arg(&opts)
                    .arg("-l")
                    .arg(root.join("postgres.log"))
                    .args(["-w", "-t", "60", "start"]),
                &root,
            );
            match started {
                Ok(()) => {
                    spawn_reaper(as_root, &bin.join("pg_ctl"), &data, &root);
                    return Ok(PgServer { port });
                }
                // Most likely the port was taken between probing and binding.
                Err(e) => last_err = e,
            }
        }
        Err(format!("could not start the test PostgreSQL: {last_err}"))
    }
}

fn find_pg_bin() -> Option<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn pg_cmd(as_root: bool, program: &Path) -> Command {
    if as_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// Runs a command to completion with its output in a file, not a pipe: the
/// postmaster outlives `pg_ctl` and would hold a pipe open forever.
fn run(cmd: &mut Command, root: &Path) -> Result<(), String> {
    let log_path = root.join("commands.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| format!("open {}: {e}", log_path.display()))?;
    let log2 = log.try_clone().map_err(|e| e.to_string())?;
    let status = cmd
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .status()
        .map_err(|e| format!("run {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        let out = std::fs::read_to_string(&log_path).unwrap_or_default();
        let server_log = std::fs::read_to_string(root.join("postgres.log")).unwrap_or_default();
        Err(format!("{cmd:?} failed ({status}):\n{out}\n{server_log}"))
    }
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("find a free port: {e}"))
}

/// A detached shell that waits for this process to exit, then stops the
/// server and deletes its directory; static destructors never run, and this
/// also covers panics and aborts.
fn spawn_reaper(as_root: bool, pg_ctl: &Path, data: &Path, root: &Path) {
    let stop = if as_root {
        "runuser -u postgres -- "
    } else {
        ""
    };
    let script = format!(
        "while [ -d /proc/{pid} ]; do sleep 0.5; done; {stop}'{pg_ctl}' -D '{data}' -m immediate stop; rm -rf '{root}'",
        pid = std::process::id(),
        pg_ctl = pg_ctl.display(),
        data = data.display(),
        root = root.display(),
    );
    let _ = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}

/// Creates an org with its first admin whose destination policy allows
/// this machine: the tests' mail, SMTP and OAuth servers all listen on
/// loopback, which the default policy refuses. The one place tests open it.
pub async fn local_org(
    store: &Store,
    name: &str,
    admin_email: &str,
    admin_name: &str,
) -> (crate::Org, crate::User, crate::NewToken) {
    let created = store
        .create_org_with_admin(name, admin_email, admin_name)
        .await
        .expect("create org");
    store
        .set_destination_policy(
            &created.0.id,
            &mailroom_core::destinations::DestinationPolicy::allowing_loopback(),
        )
        .await
        .expect("allow loopback");
    created
}
