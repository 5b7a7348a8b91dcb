//! AOL Mail.
//!
//! Sources: AOL Help "Use other email apps to send and receive AOL Mail";
//! Thunderbird's ISPDB entry for aol.com (domains, hosts, OAuth2 endpoints
//! and the `mail-w` scope); chatmail's provider database (app passwords).
//!
//! AOL Mail runs on Yahoo Mail's platform (its MX is
//! `mail.gm0.yahoodns.net`), so it shares Yahoo's habits: app passwords
//! instead of the account password, the same error words
//! ([`provider_common::yahoo_platform`]), and idle connections dropped after a
//! few minutes (IDLE restarted every 5 minutes, as for Yahoo). Its own are
//! the hosts, the domains and where the app password is made.

use mailroom_plugin_sdk::provider::{AuthMethod, ProviderQuirks};
use provider_common::{
    DEFAULT_QUIRKS, Pattern, Service, ServiceInfo, tls, yahoo_platform, yahoo_platform_oauth,
};

pub struct Aol;

impl Service for Aol {
    const PLUGIN: &'static str = "provider-aol";
    const DESCRIPTION: &'static str =
        "AOL Mail: server presets, app passwords, short IDLE, AOL's login errors explained";
    const INFO: ServiceInfo = ServiceInfo {
        id: "aol",
        name: "AOL Mail",
        domains: &[
            "aol.com",
            "aim.com",
            "netscape.net",
            "compuserve.com",
            "cs.com",
            "wmconnect.com",
            "aol.co.uk",
            "aol.de",
            "aol.fr",
            "aol.it",
            "aol.es",
            "aol.se",
            "aol.co.nz",
            "aol.com.au",
            "aol.com.ar",
            "aol.com.br",
            "aol.com.mx",
        ],
        imap: Some(tls("imap.aol.com", 993)),
        pop3: Some(tls("pop.aol.com", 995)),
        smtp: Some(tls("smtp.aol.com", 465)),
        auth_methods: &[AuthMethod::AppPassword, AuthMethod::Oauth2],
        oauth2: Some(yahoo_platform_oauth(
            "https://api.login.aol.com/oauth2/request_auth",
            "https://api.login.aol.com/oauth2/get_token",
        )),
        app_password_hint: Some(
            "AOL accepts no account password from mail programs. Sign in at \
             https://login.aol.com/account/security, choose Generate app password (or \"Manage app \
             passwords\" → \"Other app\"), name it \"Mailroom\", and use the password it shows, \
             without spaces, with the full AOL address as the user name.",
        ),
        quirks: ProviderQuirks {
            // Yahoo's platform closes idle IMAP connections after a few minutes.
            idle_restart_seconds: 300,
            ..DEFAULT_QUIRKS
        },
    };

    // AOL's folders (Inbox, Drafts, Sent, Spam, Trash, Archive) carry
    // special-use attributes and English names the common table knows.

    const DIAGNOSES: &'static [Pattern] = &yahoo_platform(None);
}

provider_common::export_service!(Aol);

#[cfg(test)]
mod tests {
    use super::*;
    use provider_common::testing::*;

    #[test]
    fn info() {
        let info = checked_info::<Aol>("aol");
        let imap = info.imap.unwrap();
        assert_eq!((imap.host.as_str(), imap.port), ("imap.aol.com", 993));
        let smtp = info.smtp.unwrap();
        assert_eq!((smtp.host.as_str(), smtp.port), ("smtp.aol.com", 465));
        assert_eq!(info.auth_methods[0], AuthMethod::AppPassword);
        assert!(info.quirks.idle_restart_seconds <= 600);
    }

    #[test]
    fn domains() {
        let domains = Aol::info().domains;
        for d in ["aol.com", "aim.com", "aol.co.uk"] {
            assert!(domains.iter().any(|x| x == d), "{d}");
        }
    }

    #[test]
    fn folders() {
        let map =
            |name: &str, attributes: &[&str]| Aol::map_folder(mailbox(name, Some("/"), attributes));
        assert_eq!(map("Bulk Mail", &["\\Junk"]), Some(FolderRole::Spam));
        assert_eq!(map("Spam", &[]), Some(FolderRole::Spam));
        assert_eq!(map("Sent", &[]), Some(FolderRole::Sent));
        assert_eq!(map("Saved Mail", &[]), None);
    }

    #[test]
    fn every_diagnosis_pattern() {
        let samples = [
            (
                problem(
                    Step::SmtpAuth,
                    "smtp",
                    "smtp.aol.com:465",
                    "535 5.7.0 (#AUTH005) Too many bad auth attempts.",
                ),
                0,
            ),
            (
                problem(
                    Step::Login,
                    "imap",
                    "imap.aol.com:993",
                    "a1 NO [AUTHENTICATIONFAILED] LOGIN Invalid credentials",
                ),
                1,
            ),
        ];
        assert_patterns_cover(Aol::DIAGNOSES, &samples);
        let d = Aol::diagnose(samples[0].0.clone()).unwrap();
        assert!(d.advice.contains("login.aol.com"), "{}", d.advice);
    }
}
