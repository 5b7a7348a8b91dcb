//! Renders a private Dovecot configuration: its own base/state dirs,
//! instance name, log, loopback listeners on the given ports, a certificate,
//! passwd-file users (passwords, and OAuth bearer tokens in a second passdb
//! that Dovecot 2.3 checks like passwords — or, when an introspection URL is
//! given, the `oauth2` passdb asking a real authorization server), and one
//! of the folder layouts.

use super::{DovecotOptions, Layout, Ports};
use std::fmt::Write as _;
use std::path::Path;

/// Who the Dovecot processes and the mail files run as.
pub(crate) struct Identity {
    /// uid/gid of the mail users (cannot be 0: Dovecot refuses root mail users).
    pub uid: u32,
    pub gid: u32,
    pub internal_user: String,
    pub login_user: String,
    /// Login processes chroot only when started as root.
    pub as_root: bool,
}

pub(crate) struct Rendered {
    pub conf: String,
    pub passwd: String,
    pub tokens: String,
    /// `dovecot-oauth2.conf.ext`, when tokens are introspected.
    pub oauth2: Option<String>,
}

pub(crate) fn render(
    dir: &Path,
    instance: &str,
    greeting: &str,
    ports: &Ports,
    options: &DovecotOptions,
    id: &Identity,
) -> Rendered {
    let DovecotOptions {
        layout,
        users,
        hide_capabilities,
        extra_capabilities,
        oauth2_introspection_url,
        auth_mechanisms,
    } = options;
    let d = dir.display();
    let mut passwd = String::new();
    let mut tokens = String::new();
    for u in users {
        let home = dir.join("home").join(&u.name);
        let home = home.display();
        let _ = writeln!(
            passwd,
            "{}:{{PLAIN}}{}:{}:{}::{home}::",
            u.name, u.password, id.uid, id.gid
        );
        let _ = writeln!(
            tokens,
            "{}:{{PLAIN}}{}:{}:{}::{home}::",
            u.name, u.oauth_token, id.uid, id.gid
        );
    }
    let dh = Path::new("/usr/share/dovecot/dh.pem");
    let dh = if dh.exists() {
        format!("ssl_dh = <{}\n", dh.display())
    } else {
        String::new()
    };
    let chroot = if id.as_root { "" } else { "  chroot =\n" };
    let capability = if hide_capabilities.is_empty() && extra_capabilities.is_empty() {
        String::new()
    } else {
        // Dovecot can add to its capability list but not remove from it:
        // spell out its 2.3 list without the hidden ones, with the extras.
        let kept: Vec<&str> = DOVECOT_CAPABILITIES
            .split_whitespace()
            .filter(|c| !hide_capabilities.iter().any(|h| h.eq_ignore_ascii_case(c)))
            .chain(extra_capabilities.iter().map(String::as_str))
            .collect();
        format!("imap_capability = {}\n", kept.join(" "))
    };
    // Bearer tokens: a fixed one per user, or whatever the authorization
    // server says is active (RFC 7662 introspection, POSTed form).
    let (token_passdb, oauth2) = match oauth2_introspection_url.as_deref() {
        None => (
            format!(
                "passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {d}/tokens\n}}"
            ),
            None,
        ),
        Some(url) => (
            format!("passdb {{\n  driver = oauth2\n  args = {d}/dovecot-oauth2.conf.ext\n}}"),
            Some(format!(
                "introspection_mode = post\nintrospection_url = {url}\nusername_attribute = username\n\
                 active_attribute = active\nactive_value = true\n"
            )),
        ),
    };
    let conf = format!(
        r#"# Written by mailroom-test-servers; one throwaway instance.
protocols = imap pop3 submission
base_dir = {d}/run
state_dir = {d}/state
instance_name = {instance}
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
listen = 127.0.0.1
login_greeting = {greeting}
{capability}ssl = yes
ssl_cert = <{d}/cert.pem
ssl_key = <{d}/key.pem
{dh}disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
# Tests of wrong passwords should not wait Dovecot's default 2 s.
auth_failure_delay = 0
default_internal_user = {internal}
default_login_user = {login}
mail_location = maildir:~/Maildir
hostname = localhost
# Submission needs a relay; nothing listens there, which tests of sending replace.
submission_relay_host = 127.0.0.1
submission_relay_port = {relay}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
{token_passdb}
userdb {{
  driver = passwd-file
  args = username_format=%u {d}/passwd
}}
{namespace}
service imap-login {{
{chroot}  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
{chroot}  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = {pop3s}
    ssl = yes
  }}
}}
service submission-login {{
{chroot}  inet_listener submission {{
    port = {submission}
  }}
  inet_listener submissions {{
    port = {submissions}
    ssl = yes
  }}
}}
"#,
        mechanisms = auth_mechanisms.join(" "),
        internal = id.internal_user,
        login = id.login_user,
        relay = ports.relay,
        namespace = namespace(*layout),
        imap = ports.imap,
        imaps = ports.imaps,
        pop3 = ports.pop3,
        pop3s = ports.pop3s,
        submission = ports.submission,
        submissions = ports.submissions,
    );
    Rendered {
        conf,
        passwd,
        tokens,
        oauth2,
    }
}

/// What Dovecot 2.3 advertises after login.
const DOVECOT_CAPABILITIES: &str = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT \
    SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL \
    CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC \
    ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY \
    PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ NOTIFY SPECIAL-USE";

fn namespace(layout: Layout) -> &'static str {
    match layout {
        Layout::SpecialUse => {
            r#"namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \Sent
    auto = subscribe
  }
  mailbox Junk {
    special_use = \Junk
    auto = subscribe
  }
  mailbox Trash {
    special_use = \Trash
    auto = subscribe
  }
  mailbox Archive {
    special_use = \Archive
    auto = subscribe
  }
}"#
        }
        // A Courier-style server: everything under `INBOX.`, localized and
        // vendor names, no RFC 6154 attributes. Mailbox names in the block
        // are relative to the namespace prefix.
        Layout::NonStandard => {
            r#"namespace inbox {
  inbox = yes
  separator = .
  prefix = INBOX.
  mailbox "Sent Items" {
    auto = subscribe
  }
  mailbox Papierkorb {
    auto = subscribe
  }
  mailbox Entwürfe {
    auto = subscribe
  }
  mailbox Projects {
    auto = subscribe
  }
}"#
        }
    }
}
