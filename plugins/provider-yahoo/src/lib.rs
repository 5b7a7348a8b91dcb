//! Yahoo Mail.
//!
//! Sources: Yahoo Help "IMAP server settings" (SLN4075) and "Generate and
//! manage third-party app passwords" (SLN15241); Thunderbird's ISPDB entry
//! for yahoo.com (domains, hosts, OAuth2 endpoints and the `mail-w` scope);
//! the servers' words as quoted in public bug reports.
//!
//! What is special about Yahoo:
//! - Mail programs must use an app password; the account password is
//!   refused, and repeated tries get `(#AUTH005) Too many bad auth attempts`.
//!   OAuth2 works too, but only for client ids Yahoo approved for mail.
//! - Yahoo drops idle connections early: IDLE is restarted every 5 minutes.
//! - `yahoo.co.jp` is Yahoo! JAPAN, a different company with other servers:
//!   it is deliberately not among the domains.
//! - Folders carry special-use attributes; the names (`Bulk`, `Draft`) are
//!   only a fallback. Messages need no fixing.

use mailroom_plugin_sdk::provider::{AuthMethod, ProviderQuirks};
use mailroom_plugin_sdk::types::FolderRole;
use provider_common::{
    DEFAULT_QUIRKS, FolderNames, Pattern, Service, ServiceInfo, tls, yahoo_platform,
    yahoo_platform_oauth,
};

pub struct Yahoo;

impl Service for Yahoo {
    const PLUGIN: &'static str = "provider-yahoo";
    const DESCRIPTION: &'static str =
        "Yahoo Mail: server presets, app passwords, short IDLE, Yahoo's login errors explained";
    const INFO: ServiceInfo = ServiceInfo {
        id: "yahoo",
        name: "Yahoo Mail",
        domains: &[
            "yahoo.com",
            "ymail.com",
            "rocketmail.com",
            "myyahoo.com",
            "yahoo.co.uk",
            "yahoo.fr",
            "yahoo.de",
            "yahoo.it",
            "yahoo.es",
            "yahoo.se",
            "yahoo.ca",
            "yahoo.co.in",
            "yahoo.co.nz",
            "yahoo.com.au",
            "yahoo.com.ar",
            "yahoo.com.br",
            "yahoo.com.mx",
        ],
        imap: Some(tls("imap.mail.yahoo.com", 993)),
        pop3: Some(tls("pop.mail.yahoo.com", 995)),
        smtp: Some(tls("smtp.mail.yahoo.com", 465)),
        // App passwords first: Yahoo grants mail scopes only to approved apps.
        auth_methods: &[AuthMethod::AppPassword, AuthMethod::Oauth2],
        oauth2: Some(yahoo_platform_oauth(
            "https://api.login.yahoo.com/oauth2/request_auth",
            "https://api.login.yahoo.com/oauth2/get_token",
        )),
        app_password_hint: Some(
            "Yahoo accepts no account password from mail programs. Sign in at \
             https://login.yahoo.com, open Account info → Account security → Generate app password \
             (or \"Manage app passwords\"), name it \"Mailroom\", and use the password it shows, \
             with the full Yahoo address as the user name.",
        ),
        quirks: ProviderQuirks {
            // Yahoo closes idle IMAP connections after a few minutes.
            idle_restart_seconds: 300,
            ..DEFAULT_QUIRKS
        },
    };

    /// Yahoo's own names: spam is "Bulk", drafts "Draft".
    const FOLDERS: FolderNames = &[
        (FolderRole::Spam, &["Bulk", "Bulk Mail"]),
        (FolderRole::Drafts, &["Draft"]),
    ];

    const DIAGNOSES: &'static [Pattern] =
        &yahoo_platform(Some("https://help.yahoo.com/kb/SLN15241.html"));
}

provider_common::export_service!(Yahoo);

#[cfg(test)]
mod tests {
    use super::*;
    use provider_common::testing::*;

    #[test]
    fn info() {
        let info = checked_info::<Yahoo>("yahoo");
        assert_eq!(info.imap.unwrap().host, "imap.mail.yahoo.com");
        assert_eq!(info.smtp.unwrap().port, 465);
        assert_eq!(info.auth_methods[0], AuthMethod::AppPassword);
        assert!(!info.auth_methods.contains(&AuthMethod::Password));
        assert!(
            info.app_password_hint
                .unwrap()
                .contains("Generate app password")
        );
        assert!(info.quirks.idle_restart_seconds <= 600);
    }

    #[test]
    fn domains() {
        let domains = Yahoo::info().domains;
        for d in [
            "yahoo.com",
            "ymail.com",
            "rocketmail.com",
            "yahoo.co.uk",
            "yahoo.fr",
            "yahoo.de",
        ] {
            assert!(domains.iter().any(|x| x == d), "{d}");
        }
        // Yahoo! JAPAN is another service.
        assert!(!domains.iter().any(|x| x == "yahoo.co.jp"));
    }

    #[test]
    fn folders() {
        let map = |name: &str, attributes: &[&str]| {
            Yahoo::map_folder(mailbox(name, Some("/"), attributes))
        };
        assert_eq!(
            map("Bulk", &["\\Junk", "\\HasNoChildren"]),
            Some(FolderRole::Spam)
        );
        assert_eq!(map("Whatever", &["\\Sent"]), Some(FolderRole::Sent));
        assert_eq!(map("Bulk", &[]), Some(FolderRole::Spam));
        assert_eq!(map("Draft", &[]), Some(FolderRole::Drafts));
        assert_eq!(map("Trash", &[]), Some(FolderRole::Trash));
        assert_eq!(map("Archive", &[]), Some(FolderRole::Archive));
        assert_eq!(map("Receipts", &[]), None);
    }

    #[test]
    fn every_diagnosis_pattern() {
        let samples = [
            (
                problem(
                    Step::SmtpAuth,
                    "smtp",
                    "smtp.mail.yahoo.com:465",
                    "535 5.7.0 (#AUTH005) Too many bad auth attempts.",
                ),
                0,
            ),
            (
                problem(
                    Step::Login,
                    "imap",
                    "imap.mail.yahoo.com:993",
                    "a1 NO [AUTHENTICATIONFAILED] LOGIN Invalid credentials",
                ),
                1,
            ),
            (
                problem(
                    Step::SmtpAuth,
                    "smtp",
                    "smtp.mail.yahoo.com:465",
                    "535 5.7.0 (#MBR1212) Incorrect username or password.",
                ),
                1,
            ),
        ];
        assert_patterns_cover(Yahoo::DIAGNOSES, &samples);
        let d = Yahoo::diagnose(samples[1].0.clone()).unwrap();
        assert!(d.advice.contains("login.yahoo.com"), "{}", d.advice);
        assert_eq!(
            d.help_url.as_deref(),
            Some("https://help.yahoo.com/kb/SLN15241.html")
        );
    }
}
