//! Outlook.com (personal Microsoft accounts) and Microsoft 365 (Exchange
//! Online): one service, one set of servers.
//!
//! Sources: Microsoft's "POP, IMAP, and SMTP settings for Outlook.com"
//! (OAuth2 required, IMAP/POP off until switched on), "Authenticate an IMAP,
//! POP or SMTP connection using OAuth" (scopes, XOAUTH2), "Enable or disable
//! SMTP AUTH in Exchange Online", the Exchange team's announcement of the end
//! of basic authentication for SMTP AUTH (550 5.7.30), Thunderbird's ISPDB
//! entry for hotmail.com (domains; it lists smtp.office365.com first, which
//! serves both account kinds), and the servers' words in public reports.
//!
//! What is special about Microsoft:
//! - No passwords at all: Outlook.com requires OAuth2 and Exchange Online has
//!   switched basic authentication off for IMAP and POP, and for SMTP AUTH
//!   too. App passwords do not help either. OAuth2 is the only method.
//! - SMTP AUTH (also with OAuth2) must be enabled for the mailbox or the
//!   tenant, or the server answers `535 5.7.139 … SmtpClientAuthentication is
//!   disabled for the Tenant`.
//! - A sign-in can succeed while the mailbox cannot be opened ("User is
//!   authenticated but not connected"): no IMAP access, no mailbox licence,
//!   or a shared mailbox addressed the wrong way.
//! - Folder names follow the mailbox's language (`Gesendete Elemente`,
//!   `送信済みアイテム`); the common table knows the European ones, this
//!   plugin adds Japanese, Polish, Danish, Finnish and Spanish variants.
//! - Whether SMTP submission files a Sent copy is not documented for both
//!   account kinds, so the host's Message-ID check decides (quirk `false`).

use mailroom_plugin_sdk::provider::{AuthMethod, ConnectionStep, SaslMechanism};
use mailroom_plugin_sdk::types::FolderRole;
use provider_common::{
    AUTH_STEPS, DEFAULT_QUIRKS, FolderNames, OAuth, Pattern, Service, ServiceInfo, starttls, tls,
};

pub struct Microsoft;

const SMTP_AUTH_HELP: &str = "https://learn.microsoft.com/en-us/exchange/clients-and-mobile-in-exchange-online/authenticated-client-smtp-submission";

impl Service for Microsoft {
    const PLUGIN: &'static str = "provider-microsoft";
    const DESCRIPTION: &'static str = "Outlook.com and Microsoft 365: server presets, OAuth2 (the only way in), Exchange Online's sign-in and SMTP AUTH errors explained";
    const INFO: ServiceInfo = ServiceInfo {
        id: "microsoft",
        name: "Outlook.com / Microsoft 365",
        domains: DOMAINS,
        imap: Some(tls("outlook.office365.com", 993)),
        pop3: Some(tls("outlook.office365.com", 995)),
        // Submission offers STARTTLS on 587 only.
        smtp: Some(starttls("smtp.office365.com", 587)),
        auth_methods: &[AuthMethod::Oauth2],
        oauth2: Some(OAuth {
            // `common` serves both personal and work/school accounts.
            authorization_url: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
            token_url: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
            scopes: &[
                "https://outlook.office.com/IMAP.AccessAsUser.All",
                "https://outlook.office.com/POP.AccessAsUser.All",
                "https://outlook.office.com/SMTP.Send",
                // for a refresh token
                "offline_access",
            ],
            sasl: SaslMechanism::Xoauth2,
        }),
        app_password_hint: Some(
            "Outlook.com takes no passwords over IMAP, POP or SMTP, not even app passwords, and \
             Microsoft 365 has switched password (basic) authentication off: connect the account \
             with OAuth2 (Sign in with Microsoft).",
        ),
        quirks: DEFAULT_QUIRKS,
    };

    /// Exchange's folder names in languages the common table lacks.
    const FOLDERS: FolderNames = &[
        (
            FolderRole::Sent,
            &["送信済みアイテム", "Elementy wysłane", "Sendt post"],
        ),
        (
            FolderRole::Trash,
            &[
                "削除済みアイテム",
                "Elementy usunięte",
                "Slettet post",
                "Poistetut",
            ],
        ),
        (
            FolderRole::Spam,
            &[
                "迷惑メール",
                "Wiadomości-śmieci",
                "Correo electrónico no deseado",
                "Uønsket mail",
            ],
        ),
        (FolderRole::Drafts, &["下書き", "Kopie robocze"]),
        (
            FolderRole::Outbox,
            &["送信トレイ", "Skrzynka nadawcza", "Udbakke", "Lähtevät"],
        ),
    ];

    const DIAGNOSES: &'static [Pattern] = &[
        // "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is
        // disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled …"
        Pattern {
            steps: &[ConnectionStep::SmtpAuth],
            any: &["smtpclientauthentication is disabled", "smtp_auth_disabled"],
            all: &[],
            summary: "SMTP AUTH is turned off for this mailbox or the whole Microsoft 365 tenant",
            advice: "Microsoft 365 refuses authenticated SMTP, even with OAuth2, until it is switched on. \
                     In the Microsoft 365 admin center open Users → Active users → the user → Mail → Manage \
                     email apps, tick \"Authenticated SMTP\" and save. When it is off for the whole \
                     organisation, an Exchange admin turns it on in the Exchange admin center (Settings → \
                     Mail flow → untick \"Turn off SMTP AUTH protocol for your organization\") or with \
                     `Set-TransportConfig -SmtpClientAuthenticationDisabled $false`; the mailbox setting \
                     wins over the tenant's. The change can take an hour to apply.",
            help_url: Some(SMTP_AUTH_HELP),
        },
        // "535 5.7.139 Authentication unsuccessful, user is locked by your
        // organization's security defaults policy. Contact your administrator."
        Pattern {
            steps: AUTH_STEPS,
            any: &["security defaults"],
            all: &[],
            summary: "Microsoft Entra security defaults block password sign-in",
            advice: "The tenant uses security defaults, which block basic (password) authentication for \
                     IMAP, POP and SMTP. Connect the account with OAuth2 (Sign in with Microsoft) instead; \
                     passwords will not work.",
            help_url: Some(SMTP_AUTH_HELP),
        },
        // "535 5.7.139 Authentication unsuccessful, the request did not meet the
        // criteria to be authenticated successfully. Contact your administrator."
        Pattern {
            steps: AUTH_STEPS,
            any: &["did not meet the criteria to be authenticated"],
            all: &[],
            summary: "A Microsoft 365 sign-in policy refused this login",
            advice: "A Conditional Access policy (multi-factor authentication, or a block on legacy \
                     authentication) refused the sign-in. Connect the account with OAuth2; if it already \
                     is, an admin can look up the failed sign-in in the Microsoft Entra admin center → \
                     Sign-in logs to see which policy refused it.",
            help_url: None,
        },
        // "550 5.7.30 Basic authentication is not supported for Client Submission."
        Pattern {
            steps: &[],
            any: &["basic authentication is not supported"],
            all: &[],
            summary: "Microsoft no longer accepts passwords for sending",
            advice: "Exchange Online has retired basic authentication for SMTP AUTH. Connect the account \
                     with OAuth2 (Sign in with Microsoft); Authenticated SMTP must stay enabled for the mailbox.",
            help_url: Some(SMTP_AUTH_HELP),
        },
        // "BAD User is authenticated but not connected."
        Pattern {
            steps: &[],
            any: &["user is authenticated but not connected"],
            all: &[],
            summary: "Microsoft accepted the sign-in but could not open the mailbox",
            advice: "The sign-in worked but there is no mailbox behind it for IMAP/POP. Check that (1) IMAP \
                     (or POP) is allowed for the mailbox: Microsoft 365 admin center → Users → Active users → \
                     the user → Mail → Manage email apps; for Outlook.com, Settings → Mail → Forwarding and \
                     IMAP → \"Let devices and apps use IMAP\"; (2) the user has an Exchange Online licence and \
                     a mailbox; (3) for a shared mailbox, the user name is the shared mailbox's own address \
                     and the signed-in user has Full Access to it (the old user@domain\\shared form only \
                     worked with passwords).",
            help_url: None,
        },
        // IMAP "NO AUTHENTICATE failed." / "NO LOGIN failed.", POP "-ERR Logon
        // failure: unknown user name or bad password.", SMTP "535 5.7.3
        // Authentication unsuccessful", "AuthFailed:LogonDenied".
        Pattern {
            steps: AUTH_STEPS,
            any: &[
                "authenticate failed",
                "login failed",
                "logondenied",
                "logon failure",
                "5.7.3 authentication unsuccessful",
                "5.7.139 authentication unsuccessful",
            ],
            all: &[],
            summary: "Microsoft refused the login",
            advice: "Outlook.com and Microsoft 365 take no passwords over IMAP, POP or SMTP (basic \
                     authentication is off), so a password always ends here: connect the account with \
                     OAuth2 (Sign in with Microsoft). If it already uses OAuth2: the user name must be the \
                     mailbox's address, the mailbox must have IMAP/POP and Authenticated SMTP allowed \
                     (admin center → Users → Active users → Mail → Manage email apps), and the tenant must \
                     have consented to Mailroom's app registration.",
            help_url: None,
        },
        // "554 5.2.252 SendAsDenied; … not allowed to send as …;
        // STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied"
        Pattern {
            steps: &[ConnectionStep::SmtpSend],
            any: &["sendasdenied"],
            all: &[],
            summary: "The mailbox may not send from this address",
            advice: "Microsoft only sends from the mailbox's own addresses and those it has \"Send As\" \
                     permission for. Use one of the account's addresses as the from-address, or have an \
                     Exchange admin grant Send As on the other mailbox or add the address as an alias.",
            help_url: None,
        },
        // "554 5.2.0 STOREDRV.Submission.Exception:OutboundSpamException; …"
        Pattern {
            steps: &[ConnectionStep::SmtpSend],
            any: &["outboundspamexception"],
            all: &[],
            summary: "Microsoft has blocked sending from this account",
            advice: "Microsoft believes the account sent spam and stopped it from sending. The user signs \
                     in at outlook.com (or Outlook on the web) and follows the unblock prompt; for Microsoft \
                     365 an admin releases the user in the Microsoft Defender portal → Restricted entities.",
            help_url: None,
        },
    ];
}

/// Outlook.com's address domains, from Thunderbird's ISPDB (hotmail.com).
/// Microsoft 365 tenants use their own domains, which suggest no provider.
const DOMAINS: &[&str] = &[
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "windowslive.com",
    "outlook.at",
    "outlook.be",
    "outlook.cl",
    "outlook.cz",
    "outlook.de",
    "outlook.dk",
    "outlook.es",
    "outlook.fr",
    "outlook.hu",
    "outlook.ie",
    "outlook.in",
    "outlook.it",
    "outlook.jp",
    "outlook.kr",
    "outlook.lv",
    "outlook.my",
    "outlook.ph",
    "outlook.pt",
    "outlook.sa",
    "outlook.sg",
    "outlook.sk",
    "outlook.co.id",
    "outlook.co.il",
    "outlook.co.th",
    "outlook.com.ar",
    "outlook.com.au",
    "outlook.com.br",
    "outlook.com.gr",
    "outlook.com.tr",
    "outlook.com.vn",
    "hotmail.be",
    "hotmail.ca",
    "hotmail.cl",
    "hotmail.cz",
    "hotmail.de",
    "hotmail.dk",
    "hotmail.es",
    "hotmail.fi",
    "hotmail.fr",
    "hotmail.gr",
    "hotmail.hu",
    "hotmail.it",
    "hotmail.lt",
    "hotmail.lv",
    "hotmail.my",
    "hotmail.nl",
    "hotmail.no",
    "hotmail.ph",
    "hotmail.rs",
    "hotmail.se",
    "hotmail.sg",
    "hotmail.sk",
    "hotmail.co.id",
    "hotmail.co.il",
    "hotmail.co.in",
    "hotmail.co.jp",
    "hotmail.co.kr",
    "hotmail.co.th",
    "hotmail.co.uk",
    "hotmail.co.za",
    "hotmail.com.ar",
    "hotmail.com.au",
    "hotmail.com.br",
    "hotmail.com.hk",
    "hotmail.com.tr",
    "hotmail.com.tw",
    "hotmail.com.vn",
    "live.at",
    "live.be",
    "live.ca",
    "live.cl",
    "live.cn",
    "live.de",
    "live.dk",
    "live.fi",
    "live.fr",
    "live.hk",
    "live.ie",
    "live.in",
    "live.it",
    "live.jp",
    "live.nl",
    "live.no",
    "live.ru",
    "live.se",
    "live.co.jp",
    "live.co.kr",
    "live.co.uk",
    "live.co.za",
    "live.com.ar",
    "live.com.au",
    "live.com.mx",
    "live.com.my",
    "live.com.ph",
    "live.com.pt",
    "live.com.sg",
    "livemail.tw",
];

provider_common::export_service!(Microsoft);

#[cfg(test)]
mod tests {
    use super::*;
    use provider_common::testing::*;

    #[test]
    fn info() {
        let info = checked_info::<Microsoft>("microsoft");
        assert_eq!(info.imap.unwrap().host, "outlook.office365.com");
        let smtp = info.smtp.unwrap();
        assert_eq!((smtp.host.as_str(), smtp.port), ("smtp.office365.com", 587));
        assert_eq!(smtp.security, Security::Starttls);
        // OAuth2 only: Outlook.com takes no passwords, and says so.
        assert_eq!(info.auth_methods, [AuthMethod::Oauth2]);
        assert!(info.app_password_hint.unwrap().contains("no passwords"));
        let oauth = info.oauth2.unwrap();
        assert!(
            oauth
                .authorization_url
                .ends_with("/common/oauth2/v2.0/authorize")
        );
        assert!(oauth.scopes.iter().any(|s| s.ends_with("/SMTP.Send")));
        assert!(oauth.scopes.iter().any(|s| s == "offline_access"));
    }

    #[test]
    fn domains() {
        let domains = Microsoft::info().domains;
        for d in [
            "outlook.com",
            "hotmail.com",
            "live.com",
            "msn.com",
            "hotmail.co.uk",
        ] {
            assert!(domains.iter().any(|x| x == d), "{d}");
        }
        let mut unique = domains.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), domains.len());
    }

    #[test]
    fn folders() {
        let map = |name: &str, attributes: &[&str]| {
            Microsoft::map_folder(mailbox(name, Some("/"), attributes))
        };
        // Special-use first, whatever the name says.
        assert_eq!(map("Sent Items", &["\\Trash"]), Some(FolderRole::Trash));
        // Japanese and Polish Exchange names, as modified UTF-7.
        assert_eq!(map("&kAFP4W4IMH8wojCkMMYw4A-", &[]), Some(FolderRole::Sent));
        assert_eq!(
            map("&UkqWZG4IMH8wojCkMMYw4A-", &[]),
            Some(FolderRole::Trash)
        );
        assert_eq!(map("&j,dg0TDhMPww6w-", &[]), Some(FolderRole::Spam));
        assert_eq!(map("&Tgtm+DBN-", &[]), Some(FolderRole::Drafts));
        assert_eq!(
            map("Wiadomo&AVs-ci-&AVs-mieci", &[]),
            Some(FolderRole::Spam)
        );
        assert_eq!(
            map("Correo electr&APM-nico no deseado", &[]),
            Some(FolderRole::Spam)
        );
        // Common names for the rest.
        assert_eq!(map("Junk Email", &[]), Some(FolderRole::Spam));
        assert_eq!(map("Gel&APY-schte Elemente", &[]), Some(FolderRole::Trash));
        assert_eq!(map("Outbox", &[]), Some(FolderRole::Outbox));
        assert_eq!(map("Conversation History", &[]), None);
    }

    #[test]
    fn every_diagnosis_pattern() {
        let smtp = |said| problem(Step::SmtpAuth, "smtp", "smtp.office365.com:587", said);
        let imap = |said| problem(Step::Login, "imap", "outlook.office365.com:993", said);
        let send = |said| problem(Step::SmtpSend, "smtp", "smtp.office365.com:587", said);
        let samples = [
            (
                smtp(
                    "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [MN2PR07CA0004.namprd07.prod.outlook.com]",
                ),
                0,
            ),
            (
                smtp(
                    "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy. Contact your administrator.",
                ),
                1,
            ),
            (
                smtp(
                    "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator.",
                ),
                2,
            ),
            (
                smtp("550 5.7.30 Basic authentication is not supported for Client Submission."),
                3,
            ),
            (
                problem(
                    Step::ListFolders,
                    "imap",
                    "outlook.office365.com:993",
                    "a2 BAD User is authenticated but not connected.",
                ),
                4,
            ),
            (imap("a1 NO AUTHENTICATE failed."), 5),
            (
                problem(
                    Step::Login,
                    "pop3",
                    "outlook.office365.com:995",
                    "-ERR Logon failure: unknown user name or bad password.",
                ),
                5,
            ),
            (
                smtp(
                    "535 5.7.3 Authentication unsuccessful [BN6PR03CA0021.namprd03.prod.outlook.com]",
                ),
                5,
            ),
            (
                send(
                    "554 5.2.252 SendAsDenied; anna@contoso.com not allowed to send as sales@contoso.com; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied",
                ),
                6,
            ),
            (
                send(
                    "554 5.2.0 STOREDRV.Submission.Exception:OutboundSpamException; Failed to process message due to a permanent exception with message WASCL UserAction verdict is not None.",
                ),
                7,
            ),
        ];
        assert_patterns_cover(Microsoft::DIAGNOSES, &samples);

        let d = Microsoft::diagnose(samples[0].0.clone()).unwrap();
        assert!(d.advice.contains("Authenticated SMTP"), "{}", d.advice);
        assert!(d.advice.contains("Manage email apps"), "{}", d.advice);
        let d = Microsoft::diagnose(samples[5].0.clone()).unwrap();
        assert!(d.advice.contains("OAuth2"), "{}", d.advice);
    }
}
