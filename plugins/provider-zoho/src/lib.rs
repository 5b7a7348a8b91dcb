//! Zoho Mail, in each of its data centres, for personal and organisation
//! accounts.
//!
//! Sources: Zoho Mail Help "Access via IMAP" and "SMTP Server Configuration"
//! (hosts per account kind and data centre, enabling IMAP access, app-specific
//! passwords with two-factor authentication); Thunderbird's ISPDB entries for
//! zoho.com and zoho.eu; Zoho's ZeptoMail SMTP error list (the wording Zoho's
//! servers use); the servers' words in public reports.
//!
//! What is special about Zoho:
//! - Hosts depend on the data centre (`imap.zoho.com`, `.eu`, `.in`,
//!   `.com.au`, `.jp`, `.com.cn`) and on the account: organisation accounts
//!   (the organisation's own domain) use `imappro`/`smtppro`/`poppro`.
//!   Neither can be told from the address, so the org admin sets this
//!   plugin's `region` and `organisation` config; the defaults are the US
//!   data centre and personal hosts.
//! - IMAP access is off until switched on per account (Settings → Mail
//!   Accounts → IMAP Access).
//! - Whether SMTP files a copy in Sent is an account setting ("Save copy of
//!   sent emails" under Mail Accounts → SMTP), so the quirk is `false` and
//!   the host's Message-ID check in Sent avoids a double copy.
//! - With two-factor authentication on, only an app-specific password works.
//! - The Chinese data centre names folders in Chinese.

use mailroom_plugin_sdk::provider::{AuthMethod, ConnectionStep, ProviderInfo, Security};
use mailroom_plugin_sdk::types::{ConfigKey, FolderRole};
use mailroom_plugin_sdk::{config, log};
use provider_common::info::server;
use provider_common::{
    AUTH_STEPS, DEFAULT_QUIRKS, FolderNames, Pattern, Service, ServiceInfo, tls,
};

pub struct Zoho;

/// Zoho's data centres, by the ending of their host names.
pub const REGIONS: &[&str] = &["com", "eu", "in", "com.au", "jp", "com.cn"];

/// The presets for a data centre (`region`, one of [`REGIONS`]) and account kind.
pub fn zoho_info(region: &str, organisation: bool) -> ProviderInfo {
    let mut info = Zoho::INFO.to_info();
    let pro = if organisation { "pro" } else { "" };
    let host = |service: &str| format!("{service}{pro}.zoho.{region}");
    info.imap = Some(server(host("imap"), 993, Security::Tls));
    info.pop3 = Some(server(host("pop"), 995, Security::Tls));
    info.smtp = Some(server(host("smtp"), 465, Security::Tls));
    info
}

/// The org's `region` setting, accepting what admins write (`EU`, `.eu`,
/// `zoho.eu`, `mail.zoho.eu`); `com` when unset or unknown.
pub fn region(setting: Option<&str>) -> &'static str {
    let Some(raw) = setting else {
        return "com";
    };
    let wanted = raw.trim().to_ascii_lowercase();
    let wanted = wanted
        .rsplit_once("zoho.")
        .map_or(wanted.trim_start_matches('.'), |(_, tld)| tld);
    let aliases = [("us", "com"), ("au", "com.au"), ("cn", "com.cn")];
    let wanted = aliases
        .iter()
        .find(|(alias, _)| *alias == wanted)
        .map_or(wanted, |(_, tld)| tld);
    REGIONS
        .iter()
        .find(|r| **r == wanted)
        .copied()
        .unwrap_or_else(|| {
            log::warn!("config `region`: unknown Zoho data centre {raw:?}, using com");
            "com"
        })
}

impl Service for Zoho {
    const PLUGIN: &'static str = "provider-zoho";
    const DESCRIPTION: &'static str = "Zoho Mail: presets for every data centre and for organisation accounts, IMAP access and app-specific passwords explained";
    /// The defaults; [`Service::describe`] picks the hosts from the org's config.
    const INFO: ServiceInfo = ServiceInfo {
        id: "zoho",
        name: "Zoho Mail",
        domains: &[
            "zoho.com",
            "zohomail.com",
            "zoho.eu",
            "zohomail.eu",
            "zohomail.in",
        ],
        imap: Some(tls("imap.zoho.com", 993)),
        pop3: Some(tls("pop.zoho.com", 995)),
        smtp: Some(tls("smtp.zoho.com", 465)),
        auth_methods: &[AuthMethod::Password, AuthMethod::AppPassword],
        oauth2: None,
        app_password_hint: Some(
            "With two-factor authentication on, Zoho refuses the account password: sign in at \
             https://accounts.zoho.com (accounts.zoho.eu, .in … for the other data centres) → \
             Security → App Passwords → Generate New Password, name it \"Mailroom\" and use that \
             password, with the full address as the user name.",
        ),
        // smtp-saves-sent-copy stays false: it is the account's "Save copy of sent emails".
        quirks: DEFAULT_QUIRKS,
    };

    /// Zoho's folders in its Chinese data centre, as its IMAP server names them.
    const FOLDERS: FolderNames = &[
        (FolderRole::Sent, &["已发送邮件"]),
        (FolderRole::Spam, &["垃圾邮件"]),
    ];

    const DIAGNOSES: &'static [Pattern] = &[
        // "You are yet to enable IMAP access…"; the connection test also
        // reports "Unable to get SMTP email" when access is off.
        Pattern {
            steps: &[],
            any: &[
                "yet to enable imap",
                "enable imap access",
                "imap access is disabled",
                "unable to get smtp email",
            ],
            all: &[],
            summary: "IMAP access is switched off for this Zoho account",
            advice: "Sign in to Zoho Mail on the web, open Settings → Mail Accounts → the account's address \
                     → IMAP, tick \"IMAP Access\" and save. In an organisation, the admin may also have to \
                     allow IMAP in the Zoho Mail admin console (the organisation's email policy).",
            help_url: Some("https://www.zoho.com/mail/help/imap-access.html"),
        },
        Pattern {
            steps: &[],
            any: &["yet to enable pop", "enable pop access"],
            all: &[],
            summary: "POP access is switched off for this Zoho account",
            advice: "Sign in to Zoho Mail on the web, open Settings → Mail Accounts → the account's address \
                     → POP, tick \"POP Access\" and save, or connect with IMAP instead.",
            help_url: Some("https://www.zoho.com/mail/help/pop-access.html"),
        },
        // IMAP "NO [AUTHENTICATIONFAILED] Invalid credentials"; SMTP "535 Authentication Failed".
        Pattern {
            steps: AUTH_STEPS,
            any: &[
                "authenticationfailed",
                "authentication failed",
                "invalid credentials",
                "535",
            ],
            all: &[],
            summary: "Zoho refused the login",
            advice: "Check, in this order: (1) the user name is the full email address; (2) with two-factor \
                     authentication on, only an app-specific password works. {hint} (3) The server \
                     {server} matches the account: organisation accounts (the organisation's own domain) \
                     use imappro/smtppro servers, so set this plugin's `organisation` setting to true; \
                     accounts in another data centre use its hosts, so set `region` to the ending of the \
                     address you sign in to Zoho at (mail.zoho.eu → eu, mail.zoho.in → in). (4) Users who \
                     sign in to Zoho with Google or another account have no Zoho password yet and must set one.",
            help_url: Some("https://www.zoho.com/mail/help/imap-access.html"),
        },
        // "553 Relaying disallowed as someone@example.com"
        Pattern {
            steps: &[ConnectionStep::SmtpSend],
            any: &["relaying disallowed"],
            all: &[],
            summary: "Zoho may not send from this address",
            advice: "Zoho only sends from the account's own address and the aliases and \"Send mail as\" \
                     addresses set up in Zoho Mail (Settings → Mail Accounts). Use one of those as the \
                     from-address, or add the address there first.",
            help_url: Some("https://www.zoho.com/mail/help/zoho-smtp.html"),
        },
        // "554 5.1.8 Sender Address Blocked" (after unusual sending activity)
        Pattern {
            steps: &[],
            any: &["sender address blocked", "unusual sending activity"],
            all: &[],
            summary: "Zoho has blocked sending from this account",
            advice: "Zoho stops an account from sending after unusual activity (or before the account is \
                     verified). Sign in to Zoho Mail on the web and follow the prompt there; an organisation's \
                     Zoho admin, or Zoho support, can unblock it. Mailroom keeps the messages in its outbox.",
            help_url: None,
        },
    ];

    fn describe() -> ProviderInfo {
        let region = region(config::get("region").as_deref());
        zoho_info(region, config::flag("organisation", false))
    }

    fn config_keys() -> Vec<ConfigKey> {
        vec![
            ConfigKey::optional(
                "region",
                "Zoho data centre: com, eu, in, com.au, jp or com.cn (the ending of the address \
                 you sign in to Zoho Mail at, e.g. mail.zoho.eu is eu)",
                Some("com"),
            ),
            ConfigKey::optional(
                "organisation",
                "true for organisation accounts (your own domain): use Zoho's imappro/smtppro/poppro \
                 servers; false for personal @zoho.com/@zohomail.* accounts",
                Some("false"),
            ),
        ]
    }
}

provider_common::export_service!(Zoho);

#[cfg(test)]
mod tests {
    use super::*;
    use provider_common::testing::*;

    #[test]
    fn info_for_every_region_and_account_kind() {
        for r in REGIONS {
            for organisation in [false, true] {
                let info = zoho_info(r, organisation);
                assert_eq!(info_problems(&info), Vec::<String>::new(), "{r}");
                assert!(!info.quirks.smtp_saves_sent_copy);
            }
        }
        let eu_org = zoho_info("eu", true);
        assert_eq!(eu_org.imap.unwrap().host, "imappro.zoho.eu");
        assert_eq!(eu_org.smtp.unwrap().host, "smtppro.zoho.eu");
        assert_eq!(eu_org.pop3.unwrap().host, "poppro.zoho.eu");
        let au = zoho_info("com.au", false);
        assert_eq!(au.imap.unwrap().host, "imap.zoho.com.au");
        assert_eq!(au.smtp.unwrap().port, 465);
        // The constant defaults are the US personal hosts.
        assert_eq!(Zoho::INFO.to_info(), zoho_info("com", false));
        let meta = Zoho::metadata();
        assert_eq!(meta.name, "provider-zoho");
        assert_eq!(meta.config_keys.len(), 2);
    }

    #[test]
    fn region_setting() {
        assert_eq!(region(None), "com");
        for (raw, expected) in [
            ("eu", "eu"),
            (" EU ", "eu"),
            (".in", "in"),
            ("zoho.com.au", "com.au"),
            ("mail.zoho.jp", "jp"),
            ("cn", "com.cn"),
            ("us", "com"),
        ] {
            assert_eq!(region(Some(raw)), expected, "{raw}");
        }
    }

    #[test]
    fn domains() {
        let domains = Zoho::INFO.to_info().domains;
        for d in ["zoho.com", "zohomail.com", "zohomail.eu"] {
            assert!(domains.iter().any(|x| x == d), "{d}");
        }
    }

    #[test]
    fn folders() {
        let map = |name: &str, attributes: &[&str]| {
            Zoho::map_folder(mailbox(name, Some("/"), attributes))
        };
        assert_eq!(map("Sent", &["\\Sent"]), Some(FolderRole::Sent));
        // Chinese data centre, as modified UTF-7.
        assert_eq!(map("&XfJT0ZABkK5O9g-", &[]), Some(FolderRole::Sent));
        assert_eq!(map("&V4NXPpCuTvY-", &[]), Some(FolderRole::Spam));
        assert_eq!(map("Spam", &[]), Some(FolderRole::Spam));
        assert_eq!(map("Outbox", &[]), Some(FolderRole::Outbox));
        assert_eq!(map("Newsletter", &[]), None);
    }

    #[test]
    fn every_diagnosis_pattern() {
        let imap = |said| problem(Step::Login, "imap", "imap.zoho.com:993", said);
        let send = |said| problem(Step::SmtpSend, "smtp", "smtp.zoho.com:465", said);
        let samples = [
            (
                imap(
                    "a1 NO You are yet to enable IMAP access. Please login to Zoho Mail and enable IMAP access.",
                ),
                0,
            ),
            (
                problem(
                    Step::SmtpAuth,
                    "smtp",
                    "smtp.zoho.com:465",
                    "Unable to get SMTP email",
                ),
                0,
            ),
            (
                problem(
                    Step::Login,
                    "pop3",
                    "pop.zoho.com:995",
                    "-ERR You are yet to enable POP access",
                ),
                1,
            ),
            (imap("a1 NO [AUTHENTICATIONFAILED] Invalid credentials"), 2),
            (
                problem(
                    Step::SmtpAuth,
                    "smtp",
                    "smtp.zoho.com:465",
                    "535 Authentication Failed",
                ),
                2,
            ),
            (send("553 Relaying disallowed as sales@example.com"), 3),
            (send("554 5.1.8 Sender Address Blocked"), 4),
        ];
        assert_patterns_cover(Zoho::DIAGNOSES, &samples);
        let d = Zoho::diagnose(samples[3].0.clone()).unwrap();
        assert!(d.advice.contains("imap.zoho.com:993"), "{}", d.advice);
        assert!(d.advice.contains("App Passwords"), "{}", d.advice);
    }
}
