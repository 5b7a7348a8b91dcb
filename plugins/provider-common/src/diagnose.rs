//! Turning a failed connection step and the server's words into advice.
//!
//! A service plugin lists what its own servers say as [`Pattern`]s; they are
//! tried first, because a service knows what its words mean ("534-5.7.9" is
//! Gmail asking for an app password, not a wrong password). Whatever no
//! pattern recognises falls through to [`generic`], which knows the words
//! every server and network produce. `None` means nothing is recognised and
//! the host shows the server's words as they are.

use mailroom_plugin_sdk::provider::{ConnectionProblem, ConnectionStep, Diagnosis};

/// The steps at which credentials are checked.
pub const AUTH_STEPS: &[ConnectionStep] = &[ConnectionStep::Login, ConnectionStep::SmtpAuth];

/// One thing a service's servers say, and what it means.
#[derive(Clone, Copy, Debug)]
pub struct Pattern {
    /// The steps it applies to; empty for every step.
    pub steps: &'static [ConnectionStep],
    /// Lower-case fragments of the server's words: any one of them matches.
    pub any: &'static [&'static str],
    /// Lower-case fragments that must all be there as well (narrows `any`).
    pub all: &'static [&'static str],
    pub summary: &'static str,
    /// `{server}` becomes the server's name and `{hint}` the service's
    /// app-password hint, so one text serves every account.
    pub advice: &'static str,
    pub help_url: Option<&'static str>,
}

impl Pattern {
    /// `said` is the server's words in lower case.
    fn matches(&self, step: ConnectionStep, said: &str) -> bool {
        (self.steps.is_empty() || self.steps.contains(&step))
            && (self.any.is_empty() || self.any.iter().any(|w| said.contains(w)))
            && self.all.iter().all(|w| said.contains(w))
    }

    fn diagnosis(&self, problem: &ConnectionProblem, hint: Option<&str>) -> Diagnosis {
        Diagnosis {
            summary: self.summary.to_string(),
            advice: self
                .advice
                .replace("{server}", &problem.server)
                .replace("{hint}", hint.unwrap_or_default())
                .trim_end()
                .to_string(),
            help_url: self.help_url.map(str::to_string),
        }
    }
}

/// A service whose servers refuse the account's normal password and want an
/// app password (Yahoo, AOL, iCloud …): `any` are the words its servers use
/// for a refused login. The advice is the service's own hint.
pub const fn app_password_needed(
    any: &'static [&'static str],
    help_url: Option<&'static str>,
) -> Pattern {
    Pattern {
        steps: AUTH_STEPS,
        any,
        all: &[],
        summary: "The server refused the password: this service wants an app password",
        advice: "The service does not accept the account's normal password from other programs. \
                 Check the user name (the full email address) and use an app password. {hint}",
        help_url,
    }
}

/// What Yahoo Mail's servers say, which also serve AOL Mail (AOL's MX is
/// `mail.gm0.yahoodns.net`): the same words for both services, each with its
/// own hint and help page.
pub const fn yahoo_platform(help_url: Option<&'static str>) -> [Pattern; 2] {
    [
        // SMTP "535 5.7.0 (#AUTH005) Too many bad auth attempts."
        Pattern {
            steps: AUTH_STEPS,
            any: &["#auth005", "too many bad auth attempts"],
            all: &[],
            summary: "The server refused the password and blocks logins for a while",
            advice: "These servers answer this when the account's normal password is tried (they refuse \
                     it from mail programs) or after several failed logins, and then refuse logins for a \
                     while. Wait a few minutes, then connect with an app password. {hint}",
            help_url,
        },
        // IMAP "NO [AUTHENTICATIONFAILED] LOGIN Invalid credentials";
        // SMTP "535 5.7.0 (#MBR1212) Incorrect username or password."
        app_password_needed(
            &[
                "invalid credentials",
                "#mbr1212",
                "incorrect username or password",
                "authenticationfailed",
            ],
            help_url,
        ),
    ]
}

/// The first of `patterns` that recognises the problem, else [`generic`].
pub fn diagnose_with(
    problem: &ConnectionProblem,
    patterns: &[Pattern],
    hint: Option<&str>,
) -> Option<Diagnosis> {
    let said = problem.message.to_lowercase();
    patterns
        .iter()
        .find(|p| p.matches(problem.step, &said))
        .map(|p| p.diagnosis(problem, hint))
        .or_else(|| generic(problem))
}

/// The index of the first of `patterns` that recognises the problem; for
/// tests that check each pattern is reachable and not shadowed by another.
pub fn which_pattern(problem: &ConnectionProblem, patterns: &[Pattern]) -> Option<usize> {
    let said = problem.message.to_lowercase();
    patterns.iter().position(|p| p.matches(problem.step, &said))
}

/// A problem as the host reports it, for tests.
pub fn problem(
    step: ConnectionStep,
    protocol: &str,
    server: &str,
    said: &str,
) -> ConnectionProblem {
    ConnectionProblem {
        step,
        protocol: protocol.to_string(),
        server: server.to_string(),
        message: said.to_string(),
    }
}

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

/// Recognises what any server and the network say when a connection fails.
pub fn generic(problem: &ConnectionProblem) -> Option<Diagnosis> {
    let said = problem.message.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| said.contains(w));
    let server = &problem.server;
    let protocol = problem.protocol.to_ascii_uppercase();

    let auth_step = AUTH_STEPS.contains(&problem.step);
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
        "causedasendentity",
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

    fn summary(step: ConnectionStep, protocol: &str, message: &str) -> Option<String> {
        generic(&problem(step, protocol, "mail.example.com:993", message)).map(|d| d.summary)
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
        let p = problem(ConnectionStep::Tcp, "smtp", "x:587", "operation timed out");
        assert!(generic(&p).unwrap().advice.contains("587"));
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

    const PATTERNS: &[Pattern] = &[
        Pattern {
            steps: &[ConnectionStep::SmtpAuth],
            any: &["5.7.139"],
            all: &["tenant"],
            summary: "tenant",
            advice: "ask the admin of {server}",
            help_url: Some("https://example.com/help"),
        },
        app_password_needed(&["invalid credentials"], None),
    ];

    #[test]
    fn patterns_come_first_and_fill_in_server_and_hint() {
        let p = problem(
            ConnectionStep::SmtpAuth,
            "smtp",
            "smtp.example.com:587",
            "535 5.7.139 Authentication unsuccessful, disabled for the Tenant",
        );
        let d = diagnose_with(&p, PATTERNS, None).unwrap();
        assert_eq!(d.summary, "tenant");
        assert_eq!(d.advice, "ask the admin of smtp.example.com:587");
        assert_eq!(d.help_url.as_deref(), Some("https://example.com/help"));

        let p = problem(
            ConnectionStep::Login,
            "imap",
            "x",
            "NO LOGIN Invalid credentials",
        );
        let d = diagnose_with(&p, PATTERNS, Some("make one at example.com")).unwrap();
        assert!(
            d.advice.ends_with("make one at example.com"),
            "{}",
            d.advice
        );
        assert_eq!(which_pattern(&p, PATTERNS), Some(1));
    }

    #[test]
    fn steps_and_all_narrow_a_pattern() {
        // Same words at another step, or without "tenant": the generic answer.
        let p = problem(ConnectionStep::Login, "imap", "x", "535 5.7.139 tenant");
        assert_eq!(which_pattern(&p, PATTERNS), None);
        let p = problem(ConnectionStep::SmtpAuth, "smtp", "x", "535 5.7.139 nope");
        assert_eq!(which_pattern(&p, PATTERNS), None);
        let d = diagnose_with(&p, PATTERNS, None).unwrap();
        assert!(d.summary.contains("user name or password"));
    }
}
