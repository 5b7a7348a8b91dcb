//! iCloud Mail (icloud.com, me.com, mac.com).
//!
//! Sources: Apple Support "iCloud Mail server settings for other email
//! client apps" (hosts, ports, user names) and "Sign in to apps with your
//! Apple Account using app-specific passwords"; Thunderbird's ISPDB entry for
//! me.com; chatmail's provider database; the servers' words in public reports.
//!
//! What is special about iCloud:
//! - Only app-specific passwords work, and only with two-factor
//!   authentication on. There is no OAuth2 for mail and no POP.
//! - The IMAP user name is the part of the address before the `@` (the full
//!   address is accepted too); SMTP wants the full address.
//! - The server advertises QRESYNC, but it does not work reliably, so the
//!   host must not use it (quirk `qresync-broken`).
//! - Folder names are "Sent Messages" and "Deleted Messages"; messages need
//!   no fixing.

use mailroom_plugin_sdk::provider::{AuthMethod, ConnectionStep, ProviderQuirks};
use mailroom_plugin_sdk::types::FolderRole;
use provider_common::{
    DEFAULT_QUIRKS, FolderNames, Pattern, Service, ServiceInfo, app_password_needed, starttls, tls,
};

pub struct ICloud;

impl Service for ICloud {
    const PLUGIN: &'static str = "provider-icloud";
    const DESCRIPTION: &'static str = "iCloud Mail: server presets, app-specific passwords, QRESYNC avoided, Apple's errors explained";
    const INFO: ServiceInfo = ServiceInfo {
        id: "icloud",
        name: "iCloud Mail",
        domains: &["icloud.com", "me.com", "mac.com"],
        imap: Some(tls("imap.mail.me.com", 993)),
        pop3: None,
        // Apple documents STARTTLS on 587 only.
        smtp: Some(starttls("smtp.mail.me.com", 587)),
        auth_methods: &[AuthMethod::AppPassword],
        oauth2: None,
        app_password_hint: Some(
            "iCloud accepts no Apple Account password from other mail programs. With two-factor \
             authentication on, sign in at https://appleid.apple.com (now account.apple.com) → \
             Sign-In and Security → App-Specific Passwords, create one named \"Mailroom\" and use it \
             (xxxx-xxxx-xxxx-xxxx) as the password. For IMAP the user name may be the part of the \
             address before the @; for SMTP it is the full address.",
        ),
        quirks: ProviderQuirks {
            qresync_broken: true,
            ..DEFAULT_QUIRKS
        },
    };

    const FOLDERS: FolderNames = &[
        (FolderRole::Sent, &["Sent Messages"]),
        (FolderRole::Trash, &["Deleted Messages"]),
        (FolderRole::Spam, &["Junk"]),
    ];

    const DIAGNOSES: &'static [Pattern] = &[
        // IMAP "NO [AUTHENTICATIONFAILED] Authentication failed.";
        // SMTP "535 5.7.8 Error: authentication failed: …"
        app_password_needed(
            &[
                "authenticationfailed",
                "authentication failed",
                "invalid credentials",
                "535 5.7.8",
            ],
            Some("https://support.apple.com/en-us/102654"),
        ),
        // SMTP "550 5.7.0 From address is not one of your addresses"
        Pattern {
            steps: &[ConnectionStep::SmtpSend],
            any: &["not one of your addresses"],
            all: &[],
            summary: "iCloud may not send from this address",
            advice: "iCloud only sends from the account's own addresses: the iCloud address, its aliases \
                     and custom-domain addresses set up in iCloud Mail settings. Choose one of those as \
                     the from-address, or add the address in iCloud Mail first.",
            help_url: None,
        },
    ];
}

provider_common::export_service!(ICloud);

#[cfg(test)]
mod tests {
    use super::*;
    use provider_common::testing::*;

    #[test]
    fn info() {
        let info = checked_info::<ICloud>("icloud");
        assert_eq!(info.imap.unwrap().host, "imap.mail.me.com");
        let smtp = info.smtp.unwrap();
        assert_eq!((smtp.host.as_str(), smtp.port), ("smtp.mail.me.com", 587));
        assert_eq!(smtp.security, Security::Starttls);
        assert!(info.pop3.is_none());
        assert_eq!(info.auth_methods, [AuthMethod::AppPassword]);
        assert!(
            info.app_password_hint
                .unwrap()
                .contains("App-Specific Passwords")
        );
        assert!(info.quirks.qresync_broken);
    }

    #[test]
    fn domains() {
        assert_eq!(ICloud::info().domains, ["icloud.com", "me.com", "mac.com"]);
    }

    #[test]
    fn folders() {
        let map = |name: &str, attributes: &[&str]| {
            ICloud::map_folder(mailbox(name, Some("/"), attributes))
        };
        assert_eq!(map("Sent Messages", &["\\Sent"]), Some(FolderRole::Sent));
        assert_eq!(map("Deleted Messages", &[]), Some(FolderRole::Trash));
        assert_eq!(map("Sent Messages", &[]), Some(FolderRole::Sent));
        assert_eq!(map("Junk", &[]), Some(FolderRole::Spam));
        assert_eq!(map("Archive", &[]), Some(FolderRole::Archive));
        assert_eq!(map("Notes", &[]), None);
    }

    #[test]
    fn every_diagnosis_pattern() {
        let samples = [
            (
                problem(
                    Step::Login,
                    "imap",
                    "imap.mail.me.com:993",
                    "a1 NO [AUTHENTICATIONFAILED] Authentication failed.",
                ),
                0,
            ),
            (
                problem(
                    Step::SmtpAuth,
                    "smtp",
                    "smtp.mail.me.com:587",
                    "535 5.7.8 Error: authentication failed: bad user/password",
                ),
                0,
            ),
            (
                problem(
                    Step::SmtpSend,
                    "smtp",
                    "smtp.mail.me.com:587",
                    "550 5.7.0 From address is not one of your addresses",
                ),
                1,
            ),
        ];
        assert_patterns_cover(ICloud::DIAGNOSES, &samples);
        let d = ICloud::diagnose(samples[0].0.clone()).unwrap();
        assert!(d.advice.contains("appleid.apple.com"), "{}", d.advice);
    }
}
