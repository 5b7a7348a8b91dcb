//! A private Dovecot instance per test: started in the foreground from its
//! own config in a temporary directory, on free loopback ports, stopped and
//! removed on drop. A watcher shell stops it if the test process dies
//! without dropping it (abort, SIGKILL), so no server outlives its test run.
//!
//! Mail is put on the server and changed behind the client's back with
//! `doveadm` (save, flags, expunge, mailbox create/delete/update), which
//! works on the mail files directly.

mod config;

use crate::tempdir::{TempDir, random_u64, set_mode};
use crate::tls::SelfSigned;
use config::Identity;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const INSTALL_HINT: &str =
    "install Dovecot: apt-get install -y dovecot-imapd dovecot-pop3d dovecot-submissiond";

/// How the server's folders look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `/` separator; `Drafts`, `Sent`, `Junk`, `Trash`, `Archive` with RFC
    /// 6154 special-use attributes, auto-created and subscribed.
    SpecialUse,
    /// `.` separator, everything under `INBOX.`, no special-use:
    /// `INBOX.Sent Items`, `INBOX.Papierkorb`, `INBOX.Entwürfe` (listed in
    /// modified UTF-7), `INBOX.Projects`.
    NonStandard,
}

/// A mail user: logs in with `password`, or with `oauth_token` as an
/// XOAUTH2/OAUTHBEARER bearer token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestUser {
    pub name: String,
    pub password: String,
    pub oauth_token: String,
}

impl TestUser {
    pub fn new(name: &str) -> TestUser {
        TestUser {
            name: name.to_owned(),
            password: format!("{name}-secret-password"),
            oauth_token: format!("{name}-oauth-access-token"),
        }
    }
}

/// What to start.
#[derive(Clone, Debug)]
pub struct DovecotOptions {
    pub layout: Layout,
    pub users: Vec<TestUser>,
    /// IMAP capabilities not to advertise after login (e.g. `CONDSTORE`,
    /// `QRESYNC`), to test a client's fallbacks for servers without them.
    pub hide_capabilities: Vec<String>,
    /// IMAP capabilities to advertise after login on top of Dovecot's own,
    /// without implementing them (e.g. Gmail's `X-GM-EXT-1`, to test what a
    /// client concludes from the word alone).
    pub extra_capabilities: Vec<String>,
    /// Check bearer tokens (XOAUTH2/OAUTHBEARER) against this RFC 7662
    /// introspection endpoint (Dovecot's `oauth2` passdb, e.g.
    /// [`OAuthServer::introspection_url`](crate::OAuthServer::introspection_url))
    /// instead of each user's fixed `oauth_token`.
    pub oauth2_introspection_url: Option<String>,
    /// The SASL mechanisms every protocol offers (Dovecot's
    /// `auth_mechanisms`, e.g. `["plain", "xoauth2"]` for a server that
    /// predates OAUTHBEARER); unlike `hide_capabilities` this also changes
    /// what the server accepts.
    pub auth_mechanisms: Vec<String>,
}

impl DovecotOptions {
    /// Users `alice` and `bob`, every capability.
    pub fn new(layout: Layout) -> DovecotOptions {
        DovecotOptions {
            layout,
            users: vec![TestUser::new("alice"), TestUser::new("bob")],
            hide_capabilities: Vec::new(),
            extra_capabilities: Vec::new(),
            oauth2_introspection_url: None,
            auth_mechanisms: ["plain", "login", "xoauth2", "oauthbearer"]
                .map(String::from)
                .to_vec(),
        }
    }
}

/// The instance's loopback ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ports {
    pub imap: u16,
    pub imaps: u16,
    pub pop3: u16,
    pub pop3s: u16,
    pub submission: u16,
    /// Submission over implicit TLS (RFC 8314, "submissions", usually 465).
    pub submissions: u16,
    /// Where submission relays to. The instance holds this port from start
    /// (so no other test can take it) until a test serves it with
    /// [`SmtpSink::relay_for`](crate::SmtpSink::relay_for).
    pub relay: u16,
}

impl Ports {
    fn pick(relay: u16) -> Ports {
        let p = crate::net::free_port;
        Ports {
            imap: p(),
            imaps: p(),
            pop3: p(),
            pop3s: p(),
            submission: p(),
            submissions: p(),
            relay,
        }
    }
}

pub struct Dovecot {
    dir: TempDir,
    conf: PathBuf,
    layout: Layout,
    ports: Ports,
    users: Vec<TestUser>,
    cert: SelfSigned,
    /// Bound before Dovecot starts and kept: a port only picked and
    /// released could be taken by a parallel test before the sink binds it.
    relay: Mutex<Option<TcpListener>>,
    child: Option<Child>,
}

impl Dovecot {
    /// Starts an instance with the users `alice` and `bob`.
    pub fn start(layout: Layout) -> Dovecot {
        Self::start_with(DovecotOptions::new(layout))
    }

    /// Starts an instance that does not advertise `capabilities` (e.g.
    /// `MOVE`, `QRESYNC`), to test a client's fallbacks.
    pub fn start_hiding(layout: Layout, capabilities: &[&str]) -> Dovecot {
        Self::start_with(DovecotOptions {
            hide_capabilities: capabilities.iter().map(|c| (*c).to_owned()).collect(),
            ..DovecotOptions::new(layout)
        })
    }

    pub fn start_with_users(layout: Layout, users: Vec<TestUser>) -> Dovecot {
        Self::start_with(DovecotOptions {
            users,
            ..DovecotOptions::new(layout)
        })
    }

    pub fn start_with(options: DovecotOptions) -> Dovecot {
        let users = &options.users;
        assert!(
            !users.is_empty(),
            "a Dovecot instance needs at least one user"
        );
        let dovecot = find_binary("dovecot");
        find_binary("doveadm");
        check_protocols();
        let dir = TempDir::new("mailroom-dovecot").expect("temp dir for Dovecot");
        let cert = SelfSigned::create(dir.path());
        let id = identity(dir.path());
        for u in users {
            let home = dir.path().join("home").join(&u.name);
            std::fs::create_dir_all(&home).expect("create mail home");
            std::os::unix::fs::chown(&home, Some(id.uid), Some(id.gid)).expect("chown mail home");
        }
        set_mode(&dir.path().join("home"), 0o755).expect("chmod home");
        let conf = dir.path().join("dovecot.conf");
        let relay = TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("reserve a loopback port for the SMTP relay: {e}"));
        let relay_port = relay.local_addr().expect("relay listener address").port();
        let mut last_log = String::new();
        // A port may be taken between picking and binding: retry with new ones.
        for _attempt in 0..5 {
            let ports = Ports::pick(relay_port);
            let tag = format!("{:012x}", random_u64() & 0xffff_ffff_ffff);
            let greeting = format!("mailroom-test-{tag} ready");
            let r = config::render(
                dir.path(),
                &format!("mailroom-test-{tag}"),
                &greeting,
                &ports,
                &options,
                &id,
            );
            write(&conf, &r.conf, 0o644);
            // Read by Dovecot's unprivileged auth process.
            write(&dir.path().join("passwd"), &r.passwd, 0o644);
            write(&dir.path().join("tokens"), &r.tokens, 0o644);
            if let Some(oauth2) = &r.oauth2 {
                write(&dir.path().join("dovecot-oauth2.conf.ext"), oauth2, 0o644);
            }
            let _ = std::fs::remove_file(dir.path().join("dovecot.log"));
            // Dovecot keeps stdout/stderr open for its lifetime: a pipe here
            // would hang a test harness that waits for EOF. Use a file.
            let out = std::fs::File::create(dir.path().join("stdout.log")).expect("stdout log");
            let err = out.try_clone().expect("stderr log");
            let mut child = Command::new(&dovecot)
                .arg("-F")
                .arg("-c")
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .unwrap_or_else(|e| panic!("start {}: {e}", dovecot.display()));
            spawn_reaper(child.id(), dir.path());
            match wait_ready(&mut child, ports.imap, &greeting) {
                Ok(()) => {
                    return Dovecot {
                        dir,
                        conf,
                        layout: options.layout,
                        ports,
                        users: options.users.clone(),
                        cert,
                        relay: Mutex::new(Some(relay)),
                        child: Some(child),
                    };
                }
                Err(why) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    last_log = format!("{why}\n{}", read_logs(dir.path()));
                    // Two picks can also return one port (each probe
                    // socket is closed before the next): new ones too.
                    if !last_log.contains("in use") && !last_log.contains("duplicate listener") {
                        break;
                    }
                }
            }
        }
        panic!("Dovecot did not start:\n{last_log}");
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    pub fn ports(&self) -> Ports {
        self.ports
    }

    /// The listener on [`Ports::relay`], held since start; once per instance.
    pub(crate) fn take_relay_listener(&self) -> TcpListener {
        self.relay
            .lock()
            .expect("relay listener lock")
            .take()
            .expect("the relay port is already served by an SmtpSink of this Dovecot")
    }

    /// Always loopback.
    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    pub fn imap_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.ports.imap))
    }

    pub fn imaps_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.ports.imaps))
    }

    /// The first user (`alice` unless started with other users).
    pub fn user(&self) -> &TestUser {
        &self.users[0]
    }

    pub fn users(&self) -> &[TestUser] {
        &self.users
    }

    /// The server's self-signed certificate (valid for `localhost` and `127.0.0.1`).
    pub fn certificate(&self) -> &SelfSigned {
        &self.cert
    }

    pub fn config_path(&self) -> &Path {
        &self.conf
    }

    /// Dovecot's log so far, for assertion messages.
    pub fn log(&self) -> String {
        read_logs(self.dir.path())
    }

    /// Delivers `raw` into `folder` of `user` (like a mail arriving) and
    /// returns the UID it got.
    pub fn seed(&self, user: &str, folder: &str, raw: &[u8]) -> u32 {
        let mut child = self
            .doveadm_cmd()
            .args(["save", "-u", user, "-m", folder])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("run doveadm save: {e}"));
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(raw).expect("write message to doveadm save");
        }
        let out = child.wait_with_output().expect("wait for doveadm save");
        assert!(
            out.status.success(),
            "doveadm save -u {user} -m {folder:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let next = self.mailbox_status(user, folder, "uidnext");
        u32::try_from(next.saturating_sub(1)).expect("uid fits u32")
    }

    /// Delivers many messages into the INBOX of `user` at once by writing
    /// them into its Maildir (`new/`), as a local delivery agent does:
    /// thousands in the time `seed` takes for a few dozen. Dovecot indexes
    /// them when a client next looks.
    pub fn seed_inbox_many<'a>(&self, user: &str, messages: impl IntoIterator<Item = &'a [u8]>) {
        let id = identity(self.dir.path());
        let maildir = self.dir.path().join("home").join(user).join("Maildir");
        for sub in ["", "cur", "new", "tmp"] {
            let dir = maildir.join(sub);
            std::fs::create_dir_all(&dir)
                .unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
            std::os::unix::fs::chown(&dir, Some(id.uid), Some(id.gid))
                .unwrap_or_else(|e| panic!("chown {}: {e}", dir.display()));
        }
        let tag = random_u64();
        for (i, raw) in messages.into_iter().enumerate() {
            let path = maildir
                .join("new")
                .join(format!("1700000000.M{i}P{tag:x}.mailroom-test"));
            std::fs::write(&path, raw).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
            std::os::unix::fs::chown(&path, Some(id.uid), Some(id.gid))
                .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
        }
    }

    /// Runs `doveadm -c CONF ARGS…` and returns its stdout; panics with its
    /// output when it fails.
    pub fn doveadm(&self, args: &[&str]) -> String {
        let out = self
            .doveadm_cmd()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run doveadm {args:?}: {e}"));
        assert!(
            out.status.success(),
            "doveadm {args:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// One numeric field of `doveadm mailbox status` (`uidnext`,
    /// `uidvalidity`, `messages`, `highestmodseq`, …).
    pub fn mailbox_status(&self, user: &str, folder: &str, field: &str) -> u64 {
        let out = self.doveadm(&["-f", "flow", "mailbox", "status", "-u", user, field, folder]);
        let key = format!("{field}=");
        out.split_whitespace()
            .find_map(|t| t.strip_prefix(&key))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {field} in doveadm output {out:?}"))
    }

    pub fn uidvalidity(&self, user: &str, folder: &str) -> u32 {
        u32::try_from(self.mailbox_status(user, folder, "uidvalidity"))
            .expect("uidvalidity fits u32")
    }

    /// The UIDs in `folder`, ascending.
    pub fn uids(&self, user: &str, folder: &str) -> Vec<u32> {
        let out = self.doveadm(&[
            "-f", "flow", "fetch", "-u", user, "uid", "mailbox", folder, "all",
        ]);
        let mut uids: Vec<u32> = out
            .split_whitespace()
            .filter_map(|t| t.strip_prefix("uid=")?.parse().ok())
            .collect();
        uids.sort_unstable();
        uids
    }

    /// The flags of one message (e.g. `\Seen`), sorted; panics when the
    /// UID is not in the folder.
    pub fn flags(&self, user: &str, folder: &str, uid: u32) -> Vec<String> {
        let uid_arg = uid.to_string();
        let out = self.doveadm(&[
            "-f", "flow", "fetch", "-u", user, "flags", "mailbox", folder, "uid", &uid_arg,
        ]);
        let line = out
            .lines()
            .find_map(|l| l.strip_prefix("flags="))
            .unwrap_or_else(|| panic!("no message UID {uid} in {folder:?}: {out:?}"));
        let mut flags: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        flags.sort();
        flags
    }

    /// Adds flags (space-separated, e.g. `\Seen \Flagged`) to one message.
    pub fn add_flags(&self, user: &str, folder: &str, uid: u32, flags: &str) {
        let uid = uid.to_string();
        self.doveadm(&[
            "flags", "add", "-u", user, flags, "mailbox", folder, "uid", &uid,
        ]);
    }

    pub fn remove_flags(&self, user: &str, folder: &str, uid: u32, flags: &str) {
        let uid = uid.to_string();
        self.doveadm(&[
            "flags", "remove", "-u", user, flags, "mailbox", folder, "uid", &uid,
        ]);
    }

    /// Deletes one message for good (as another client's EXPUNGE would).
    pub fn expunge(&self, user: &str, folder: &str, uid: u32) {
        let uid = uid.to_string();
        self.doveadm(&["expunge", "-u", user, "mailbox", folder, "uid", &uid]);
    }

    pub fn create_mailbox(&self, user: &str, folder: &str) {
        self.doveadm(&["mailbox", "create", "-u", user, folder]);
    }

    /// Deletes a mailbox with its mail (`-r`: also when not empty).
    pub fn delete_mailbox(&self, user: &str, folder: &str) {
        self.doveadm(&["mailbox", "delete", "-r", "-u", user, folder]);
    }

    /// Gives the mailbox a new UIDVALIDITY (its messages keep their UIDs,
    /// which a client must now treat as void).
    pub fn set_uidvalidity(&self, user: &str, folder: &str, uidvalidity: u32) {
        let v = uidvalidity.to_string();
        self.doveadm(&[
            "mailbox",
            "update",
            "-u",
            user,
            "--uid-validity",
            &v,
            folder,
        ]);
    }

    /// Stops the server (also done on drop).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // SIGKILL: the master takes ~3 s to shut down on SIGTERM, and this
        // instance's data is thrown away anyway. Its children (login, imap,
        // auth, log…) notice the master is gone and exit by themselves.
        let _ = child.kill();
        let _ = child.wait();
    }

    fn doveadm_cmd(&self) -> Command {
        let mut c = Command::new(find_binary("doveadm"));
        c.arg("-c").arg(&self.conf);
        c
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `dovecot` lives in /usr/sbin, which is not on every PATH.
fn find_binary(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("`{name}` not found: {INSTALL_HINT}"))
}

/// `dovecot-core` alone starts but cannot serve IMAP, POP3 or submission:
/// say which package is missing instead of failing on a cryptic log line.
fn check_protocols() {
    let libexec = Path::new("/usr/lib/dovecot");
    if !libexec.is_dir() {
        // Not Debian's layout; Dovecot's own start-up error will tell.
        return;
    }
    for (binary, package) in [
        ("imap", "dovecot-imapd"),
        ("pop3", "dovecot-pop3d"),
        ("submission", "dovecot-submissiond"),
    ] {
        assert!(
            libexec.join(binary).is_file(),
            "{package} is missing: {INSTALL_HINT}"
        );
    }
}

/// As root, mail users are `nobody` (Dovecot refuses uid 0) and the
/// services run as Debian's `dovecot`/`dovenull`; otherwise everything runs
/// as the current user.
fn identity(dir: &Path) -> Identity {
    let me = std::fs::metadata(dir).expect("stat temp dir");
    if me.uid() == 0 {
        Identity {
            uid: 65534,
            gid: 65534,
            internal_user: "dovecot".into(),
            login_user: "dovenull".into(),
            as_root: true,
        }
    } else {
        let name = Command::new("id")
            .arg("-un")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        Identity {
            uid: me.uid(),
            gid: me.gid(),
            internal_user: name.clone(),
            login_user: name,
            as_root: false,
        }
    }
}

fn write(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    set_mode(path, mode).unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

fn read_logs(dir: &Path) -> String {
    let log = std::fs::read_to_string(dir.join("dovecot.log")).unwrap_or_default();
    let out = std::fs::read_to_string(dir.join("stdout.log")).unwrap_or_default();
    format!("{log}{out}")
}

/// Ready means: our instance (its unique greeting) answers on the IMAP port.
/// Another server that happens to hold the port does not count.
fn wait_ready(child: &mut Child, port: u16, greeting: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("dovecot exited with {status}"));
        }
        if let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = [0u8; 1024];
            let mut got = Vec::new();
            while !got.contains(&b'\n') {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            let line = String::from_utf8_lossy(&got);
            if line.contains(greeting) {
                let _ = s.write_all(b"x LOGOUT\r\n");
                return Ok(());
            }
            return Err(format!("port {port} answered {line:?}, not our Dovecot"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err("Dovecot did not answer within 20 s".into())
}

/// A detached shell that stops the server and deletes its directory once
/// this process is gone while the directory still exists (the test died
/// without dropping the instance). It exits by itself after a normal stop.
fn spawn_reaper(dovecot_pid: u32, dir: &Path) {
    let script = format!(
        "while [ -d /proc/{me} ] && [ -d '{dir}' ]; do sleep 1; done; \
         if [ -d '{dir}' ]; then kill -9 {dovecot_pid} 2>/dev/null; sleep 1; rm -rf '{dir}'; fi",
        me = std::process::id(),
        dir = dir.display(),
    );
    let _ = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}
