//! The generic provider: any standard IMAP/POP3/SMTP service.
//!
//! It has no server presets (the admin enters host and port), maps folders by
//! special-use attribute and by the names clients use in several languages
//! ([`folders`]), fixes no message quirks beyond trimming the subject, and
//! explains the connection errors every server produces in its own words
//! ([`diagnose`]).

use mailroom_plugin_sdk::prelude::*;
use mailroom_plugin_sdk::provider::{
    AuthMethod, ConnectionProblem, ConnectionStep, Diagnosis, ProviderInfo, ProviderQuirks,
};

pub mod folders;

pub struct GenericProvider;

impl Plugin for GenericProvider {
    fn metadata() -> Metadata {
        Metadata::new("provider-generic", env!("CARGO_PKG_VERSION"), PluginKind::Provider)
            .description("Any standard IMAP/POP3/SMTP server: folder names in many languages and plain-language connection errors")
    }
}

impl Provider for GenericProvider {
    fn info() -> ProviderInfo {
        ProviderInfo {
            id: "generic".into(),
            name: "Other mail server (IMAP/POP3)".into(),
            domains: Vec::new(),
            imap: None,
            pop3: None,
            smtp: None,
            auth_methods: vec![AuthMethod::Password, AuthMethod::AppPassword],
            oauth2: None,
            app_password_hint: None,
            quirks: ProviderQuirks {
                smtp_saves_sent_copy: false,
                // RFC 2177: re-issue IDLE at least every 29 minutes.
                idle_restart_seconds: 29 * 60,
                qresync_broken: false,
                labels_as_folders: false,
                // Dovecot's default per user and IP is 10; stay well below.
                max_connections: 5,
            },
        }
    }

    fn map_folder(mailbox: Mailbox) -> Option<FolderRole> {
        folders::map_folder(&mailbox)
    }

    fn normalize(mut message: Message) -> Result<Message, String> {
        let trimmed = message.subject.trim();
        if trimmed.len() != message.subject.len() {
            message.subject = trimmed.to_string();
        }
        Ok(message)
    }

    fn diagnose(problem: ConnectionProblem) -> Option<Diagnosis> {
        diagnose(&problem)
    }
}

mailroom_plugin_sdk::export_provider!(GenericProvider);

fn diagnosis(summary: &str, advice: String) -> Option<Diagnosis> {
    Some(Diagnosis {
        summary: summary.to_string(),
        advice,
        help_url: None,
    })
}

/// The usual ports, for advice about the wrong one.
fn ports(protocol: &str) -> &'static str {
    match protocol {
        "pop3" => "995 with TLS, or 110 with STARTTLS",
        "smtp" => "465 with TLS, or 587 with STARTTLS",
        _ => "993 with TLS, or 143 with STARTTLS",
    }
}

/// Recognises what servers and the network say when a connection fails.
/// `None` when the words are not recognised: the host shows them as they are.
pub fn diagnose(problem: &ConnectionProblem) -> Option<Diagnosis> {
    let said = problem.message.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| said.contains(w));
    let server = &problem.server;
    let protocol = problem.protocol.to_ascii_uppercase();

    let auth_step = matches!(
        problem.step,
        ConnectionStep::Login | ConnectionStep::SmtpAuth
    );
    let smtp_535 = problem.step == ConnectionStep::SmtpAuth && said.trim_start().starts_with("535");
    if has(&[
        "authenticationfailed",
        "authentication failed",
        "auth failed",
        "invalid credentials",
        "login failed",
        "logon failure",
        "incorrect password",
        "bad credentials",
        "[auth]",
        "username and password not accepted",
        "535 5.7.",
        "535-5.7.",
        "5.7.8",
    ]) || smtp_535
        || (auth_step && has(&["-err", "no login", "no [authenticationfailed]"]))
    {
        return diagnosis(
            "The server rejected the user name or password",
            format!(
                "Check the user name (often the full email address) and the password for {server}. \
                 If the account uses two-step verification, the normal password will not work: create an \
                 app password in the mail service's security settings, or connect with OAuth2 if offered. \
                 Some services also require IMAP/POP access to be switched on first."
            ),
        );
    }

    if has(&[
        "certificate",
        "unknownissuer",
        "unknown issuer",
        "self signed",
        "self-signed",
        "notvalidforname",
        "not valid for name",
        "caUsedAsEndEntity",
        "hostname mismatch",
        "expired",
    ]) || (problem.step == ConnectionStep::Tls && has(&["invalid peer", "verify"]))
    {
        return diagnosis(
            "The server's TLS certificate was not accepted",
            format!(
                "The certificate {server} presented is not trusted for that name: it may be self-signed, \
                 expired, or issued for another host name. Use the host name that is on the certificate \
                 (often mail.<domain> or the hosting company's server name) and ask the server's admin \
                 to install a certificate from a public authority. Mailroom does not connect without a \
                 valid certificate, to keep passwords safe."
            ),
        );
    }

    if has(&[
        "wrong version number",
        "unexpected eof",
        "handshake",
        "starttls",
        "tls required",
        "ssl",
    ]) {
        return diagnosis(
            "The TLS settings do not match the port",
            format!(
                "The server at {server} did not speak TLS the way Mailroom expected. Implicit TLS and \
                 STARTTLS use different ports: for {protocol} use {}. Check the security setting and the port together.",
                ports(&problem.protocol)
            ),
        );
    }

    if problem.step == ConnectionStep::Dns
        || has(&[
            "failed to lookup address",
            "name or service not known",
            "nodename nor servname",
            "no such host",
            "dns",
            "temporary failure in name resolution",
        ])
    {
        return diagnosis(
            "The server name could not be found",
            format!(
                "{server} does not resolve. Check the spelling of the host name (for example imap.<domain> \
                 or mail.<domain>); the mail service's help pages list the exact names."
            ),
        );
    }

    if has(&[
        "connection refused",
        "timed out",
        "timeout",
        "no route to host",
        "network is unreachable",
        "network unreachable",
        "connection reset",
        "host is down",
    ]) {
        return diagnosis(
            "The server could not be reached",
            format!(
                "Nothing answered at {server}. Check the host and the port (for {protocol}: {}) and the \
                 security setting; make sure no firewall between Mailroom and the server blocks the port \
                 (many networks block outgoing port 25, so use 587 or 465 for SMTP).",
                ports(&problem.protocol)
            ),
        );
    }

    if has(&[
        "too many connections",
        "maximum number of connections",
        "too many simultaneous",
        "[limit]",
    ]) {
        return diagnosis(
            "The server allows no more connections",
            "Another program (a phone, a desktop client) holds the connections the server allows for this \
             account. Mailroom retries later; lowering the number of devices connected at once also helps."
                .to_string(),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(step: ConnectionStep, protocol: &str, message: &str) -> ConnectionProblem {
        ConnectionProblem {
            step,
            protocol: protocol.into(),
            server: "mail.example.com:993".into(),
            message: message.into(),
        }
    }

    fn summary(step: ConnectionStep, protocol: &str, message: &str) -> Option<String> {
        diagnose(&problem(step, protocol, message)).map(|d| d.summary)
    }

    #[test]
    fn credentials() {
        for (step, protocol, msg) in [
            (
                ConnectionStep::Login,
                "imap",
                "a1 NO [AUTHENTICATIONFAILED] Authentication failed.",
            ),
            (
                ConnectionStep::SmtpAuth,
                "smtp",
                "535 5.7.8 Error: authentication failed",
            ),
            (
                ConnectionStep::SmtpAuth,
                "smtp",
                "535 Incorrect authentication data",
            ),
            (
                ConnectionStep::Login,
                "pop3",
                "-ERR [AUTH] Authentication failed.",
            ),
        ] {
            let s = summary(step, protocol, msg).unwrap();
            assert!(s.contains("user name or password"), "{msg}: {s}");
        }
    }

    #[test]
    fn certificates_and_network() {
        let s = summary(
            ConnectionStep::Tls,
            "imap",
            "invalid peer certificate: UnknownIssuer",
        )
        .unwrap();
        assert!(s.contains("certificate"));
        let s = summary(
            ConnectionStep::Tcp,
            "imap",
            "Connection refused (os error 111)",
        )
        .unwrap();
        assert!(s.contains("could not be reached"));
        let d = diagnose(&problem(ConnectionStep::Tcp, "smtp", "operation timed out")).unwrap();
        assert!(d.advice.contains("587"), "{}", d.advice);
        let s = summary(
            ConnectionStep::Dns,
            "imap",
            "failed to lookup address information",
        )
        .unwrap();
        assert!(s.contains("name could not be found"));
    }

    #[test]
    fn unknown_words_get_no_opinion() {
        assert_eq!(
            summary(ConnectionStep::ListFolders, "imap", "BAD command unknown"),
            None
        );
    }

    #[test]
    fn normalize_trims_subject_only() {
        let msg = Message {
            subject: "  Hello \t".into(),
            text_body: " body ".into(),
            ..Default::default()
        };
        let out = GenericProvider::normalize(msg.clone()).unwrap();
        assert_eq!(out.subject, "Hello");
        assert_eq!(out.text_body, " body ");
        assert_eq!(GenericProvider::normalize(out.clone()).unwrap(), out);
    }
}
