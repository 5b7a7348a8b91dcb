//! Gmail and Google Workspace.
//!
//! Sources: Google's help pages on IMAP/SMTP settings, app passwords
//! (support.google.com/accounts/answer/185833) and the 15-connection limit;
//! Google's OAuth2 endpoints as K-9/Thunderbird for Android use them; the
//! servers' own words as quoted in public bug reports (listed by pattern).
//!
//! What is special about Gmail:
//! - SMTP submission files the message in Sent by itself, so Mailroom must
//!   not APPEND another copy.
//! - Labels appear as IMAP folders: a message with three labels is in three
//!   folders. Mailroom syncs `[Gmail]/All Mail` (special-use `\All`) only and
//!   reads labels from there; the server advertises `X-GM-EXT-1`.
//! - System folders live under `[Gmail]/`, or `[Google Mail]/` for accounts
//!   opened in Germany and the UK, in the user's language; Gmail always
//!   marks them with special-use attributes, so names are only a fallback.
//! - Google takes no account password from mail programs: OAuth2, or an app
//!   password when 2-Step Verification is on. Since January 2025 IMAP is
//!   always on for personal accounts; Workspace admins can still turn it off.
//! - Messages need no fixing beyond the common trimming.

use mailroom_plugin_sdk::provider::{AuthMethod, ProviderQuirks, SaslMechanism};
use mailroom_plugin_sdk::types::FolderRole;
use provider_common::{
    AUTH_STEPS, DEFAULT_QUIRKS, FolderNames, OAuth, Pattern, Service, ServiceInfo, tls,
};

pub struct Gmail;

impl Service for Gmail {
    const PLUGIN: &'static str = "provider-gmail";
    const DESCRIPTION: &'static str = "Gmail and Google Workspace: server presets, OAuth2, labels as folders, Google's sign-in errors explained";
    const INFO: ServiceInfo = ServiceInfo {
        id: "gmail",
        name: "Gmail / Google Workspace",
        domains: &["gmail.com", "googlemail.com"],
        imap: Some(tls("imap.gmail.com", 993)),
        pop3: Some(tls("pop.gmail.com", 995)),
        // 465 (implicit TLS, RFC 8314) rather than 587: both are offered.
        smtp: Some(tls("smtp.gmail.com", 465)),
        auth_methods: &[AuthMethod::Oauth2, AuthMethod::AppPassword],
        oauth2: Some(OAuth {
            authorization_url: "https://accounts.google.com/o/oauth2/v2/auth",
            token_url: "https://oauth2.googleapis.com/token",
            // The one scope that covers IMAP, POP and SMTP.
            scopes: &["https://mail.google.com/"],
            sasl: SaslMechanism::Xoauth2,
        }),
        app_password_hint: Some(
            "Google accepts no account password from mail programs. Connect with OAuth2 (Sign in \
             with Google), or turn on 2-Step Verification and create an app password at \
             https://myaccount.google.com/apppasswords (Google Account → Security → 2-Step \
             Verification → App passwords); use its 16 letters, without spaces, as the password \
             and the full address as the user name. Google Workspace admins can forbid app passwords.",
        ),
        quirks: ProviderQuirks {
            smtp_saves_sent_copy: true,
            labels_as_folders: true,
            // "Gmail supports up to 15 simultaneous IMAP connections" per account.
            max_connections: 15,
            ..DEFAULT_QUIRKS
        },
    };

    /// Localized names of Gmail's system labels that the common table lacks
    /// (Spanish, Italian, Portuguese, Dutch). Used only when a server does
    /// not send special-use attributes, which Gmail always does.
    const FOLDERS: FolderNames = &[
        (
            FolderRole::Starred,
            &["Destacados", "Speciali", "Com estrela", "Met ster"],
        ),
        (
            FolderRole::Important,
            &["Importantes", "Importanti", "Importante", "Belangrijk"],
        ),
        (FolderRole::AllMail, &["Todos os e-mails", "Alle berichten"]),
        (FolderRole::Sent, &["E-mails enviados"]),
    ];

    const DIAGNOSES: &'static [Pattern] = &[
        // IMAP: "NO [ALERT] Application-specific password required:
        // https://support.google.com/accounts/answer/185833 (Failure)";
        // SMTP: "534-5.7.9 Application-specific password required. … InvalidSecondFactor".
        Pattern {
            steps: AUTH_STEPS,
            any: &[
                "application-specific password required",
                "invalidsecondfactor",
                "534-5.7.9",
                "534 5.7.9",
            ],
            all: &[],
            summary: "Google wants an app password or OAuth2, not the account password",
            advice: "The account has 2-Step Verification on, so Google refuses its normal password. {hint}",
            help_url: Some("https://support.google.com/accounts/answer/185833"),
        },
        // "NO [WEBALERT https://accounts.google.com/…] Web login required." /
        // "[ALERT] Please log in via your web browser: …/answer/78754 (Failure)" /
        // SMTP "534-5.7.14 <…> Please log in via your web browser and then try again."
        Pattern {
            steps: &[],
            any: &[
                "please log in via your web browser",
                "web login required",
                "[webalert",
                "534-5.7.14",
                "534 5.7.14",
            ],
            all: &[],
            summary: "Google blocked the sign-in until it is confirmed in a browser",
            advice: "Google did not trust this sign-in (a new place, or a plain password) and blocked it. \
                     Sign in to Gmail in a web browser as this user, confirm the security alert under \
                     Google Account → Security → Recent security activity, then test again. Google no \
                     longer lets mail programs sign in with the account password at all. {hint}",
            help_url: Some("https://support.google.com/mail/answer/78754"),
        },
        // "[ALERT] Your account is not enabled for IMAP use. Please visit your
        // Gmail settings page and enable your account for IMAP access."
        Pattern {
            steps: &[],
            any: &["not enabled for imap"],
            all: &[],
            summary: "IMAP is turned off for this Google account",
            advice: "Since January 2025 personal Gmail accounts always have IMAP on, so this is a Google \
                     Workspace account whose admin turned IMAP off: in the Google Admin console open Apps → \
                     Google Workspace → Gmail → End User Access and allow POP and IMAP access for the user's \
                     organisational unit. On an account that still shows the switch, enable IMAP in Gmail → \
                     Settings → See all settings → Forwarding and POP/IMAP.",
            help_url: Some("https://support.google.com/mail/answer/7126229"),
        },
        // "-ERR [SYS/PERM] Your account is not enabled for POP access. Please
        // visit your Gmail settings page and enable your account for POP access."
        Pattern {
            steps: &[],
            any: &["not enabled for pop"],
            all: &[],
            summary: "POP is turned off for this Google account",
            advice: "Turn POP on in Gmail → Settings → See all settings → Forwarding and POP/IMAP → POP \
                     download (\"Enable POP for all mail\"), or connect with IMAP instead. For a Google \
                     Workspace account the admin must also allow POP in the Admin console (Apps → Google \
                     Workspace → Gmail → End User Access).",
            help_url: None,
        },
        // SMTP "535-5.7.8 Username and Password not accepted. … ?p=BadCredentials";
        // IMAP "NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)".
        Pattern {
            steps: AUTH_STEPS,
            any: &[
                "username and password not accepted",
                "badcredentials",
                "invalid credentials (failure)",
            ],
            all: &[],
            summary: "Google did not accept the user name or password",
            advice: "The user name is the full address (also for Google Workspace). An app password is \
                     refused when it was revoked, typed with a mistake, or the account password was changed \
                     since (that revokes every app password). With OAuth2, connect the account again: its \
                     token was revoked or has expired. {hint}",
            help_url: Some("https://support.google.com/mail/?p=BadCredentials"),
        },
        // "NO [ALERT] Too many simultaneous connections. (Failure)"
        Pattern {
            steps: &[],
            any: &["too many simultaneous connections"],
            all: &[],
            summary: "Gmail allows no more IMAP connections for this account",
            advice: "Gmail allows 15 IMAP connections per account at once, counted across every phone, \
                     desktop client and service connected to it. Mailroom retries later; closing mail \
                     programs the user no longer needs frees connections.",
            help_url: None,
        },
        // "550-5.4.5 Daily user sending limit exceeded."
        Pattern {
            steps: &[],
            any: &[
                "sending limit exceeded",
                "sending quota exceeded",
                "5.4.5 daily",
            ],
            all: &[],
            summary: "The account reached Google's daily sending limit",
            advice: "Google stops an account from sending for up to 24 hours after its daily limit \
                     (about 500 recipients a day for Gmail, 2,000 for Google Workspace). The messages stay \
                     in Mailroom's outbox and are sent again later.",
            help_url: None,
        },
    ];
}

provider_common::export_service!(Gmail);

#[cfg(test)]
mod tests {
    use super::*;
    use provider_common::testing::*;

    #[test]
    fn info() {
        let info = checked_info::<Gmail>("gmail");
        let imap = info.imap.unwrap();
        assert_eq!((imap.host.as_str(), imap.port), ("imap.gmail.com", 993));
        assert_eq!(imap.security, Security::Tls);
        assert_eq!(info.smtp.unwrap().host, "smtp.gmail.com");
        let oauth = info.oauth2.unwrap();
        assert_eq!(oauth.scopes, ["https://mail.google.com/"]);
        assert_eq!(oauth.token_url, "https://oauth2.googleapis.com/token");
        assert!(info.quirks.smtp_saves_sent_copy);
        assert!(info.quirks.labels_as_folders);
        assert!(!info.auth_methods.contains(&AuthMethod::Password));
    }

    #[test]
    fn domains() {
        assert_eq!(Gmail::info().domains, ["gmail.com", "googlemail.com"]);
    }

    #[test]
    fn folders() {
        let map = |name: &str, attributes: &[&str]| {
            Gmail::map_folder(mailbox(name, Some("/"), attributes))
        };
        assert_eq!(
            map("[Gmail]/All Mail", &["\\All", "\\HasNoChildren"]),
            Some(FolderRole::AllMail)
        );
        assert_eq!(
            map("[Google Mail]/Gesendet", &["\\HasNoChildren", "\\Sent"]),
            Some(FolderRole::Sent)
        );
        assert_eq!(
            map("[Gmail]/Starred", &["\\Flagged"]),
            Some(FolderRole::Starred)
        );
        assert_eq!(
            map("[Gmail]/Important", &["\\Important"]),
            Some(FolderRole::Important)
        );
        assert_eq!(map("[Gmail]", &["\\Noselect", "\\HasChildren"]), None);
        // Without attributes: Gmail's own localized names, then the common ones.
        assert_eq!(map("[Gmail]/Destacados", &[]), Some(FolderRole::Starred));
        assert_eq!(map("[Gmail]/Importanti", &[]), Some(FolderRole::Important));
        assert_eq!(
            map("[Google Mail]/Alle Nachrichten", &[]),
            Some(FolderRole::AllMail)
        );
        assert_eq!(map("[Gmail]/Sent Mail", &[]), Some(FolderRole::Sent));
        assert_eq!(map("[Google Mail]/Bin", &[]), Some(FolderRole::Trash));
        // A user's label is a folder of its own.
        assert_eq!(map("Clients/ACME", &[]), None);
        assert_eq!(map("INBOX", &[]), Some(FolderRole::Inbox));
    }

    #[test]
    fn every_diagnosis_pattern() {
        let imap = |said| problem(Step::Login, "imap", "imap.gmail.com:993", said);
        let smtp = |said| problem(Step::SmtpAuth, "smtp", "smtp.gmail.com:465", said);
        let samples = [
            (
                imap(
                    "a1 NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)",
                ),
                0,
            ),
            (
                smtp(
                    "534-5.7.9 Application-specific password required. For more information, go to\n534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor - gsmtp",
                ),
                0,
            ),
            (
                imap(
                    "* NO [WEBALERT https://accounts.google.com/signin/continue?sarp=1] Web login required.\r\na1 NO [ALERT] Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 (Failure)",
                ),
                1,
            ),
            (
                smtp(
                    "534-5.7.14 <https://accounts.google.com/signin/continue?…> Please log in via your web browser and\n534-5.7.14 then try again.",
                ),
                1,
            ),
            (
                imap(
                    "a1 NO [ALERT] Your account is not enabled for IMAP use. Please visit your Gmail settings page and enable your account for IMAP access. (Failure)",
                ),
                2,
            ),
            (
                problem(
                    Step::Login,
                    "pop3",
                    "pop.gmail.com:995",
                    "-ERR [SYS/PERM] Your account is not enabled for POP access. Please visit your Gmail settings page and enable your account for POP access.",
                ),
                3,
            ),
            (
                smtp(
                    "535-5.7.8 Username and Password not accepted. For more information, go to\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials - gsmtp",
                ),
                4,
            ),
            (
                imap("a1 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)"),
                4,
            ),
            (
                problem(
                    Step::ListFolders,
                    "imap",
                    "imap.gmail.com:993",
                    "* BYE [ALERT] Too many simultaneous connections. (Failure)",
                ),
                5,
            ),
            (
                problem(
                    Step::SmtpSend,
                    "smtp",
                    "smtp.gmail.com:465",
                    "550-5.4.5 Daily user sending limit exceeded. For more information on Gmail\n550-5.4.5 sending limits go to https://support.google.com/a/answer/166852",
                ),
                6,
            ),
        ];
        assert_patterns_cover(Gmail::DIAGNOSES, &samples);

        // The hint reaches the advice; unknown words fall to the generic patterns.
        let d = Gmail::diagnose(samples[0].0.clone()).unwrap();
        assert!(
            d.advice.contains("myaccount.google.com/apppasswords"),
            "{}",
            d.advice
        );
        let d = Gmail::diagnose(problem(
            Step::Tcp,
            "imap",
            "imap.gmail.com:993",
            "Connection refused",
        ))
        .unwrap();
        assert!(d.summary.contains("could not be reached"));
    }
}
