//! The generic provider: any standard IMAP/POP3/SMTP service.
//!
//! It has no server presets (the admin enters host and port) and no names or
//! words of its own: folders are mapped by special-use attribute and the names
//! clients use in many languages, and connection errors are explained in the
//! words every server produces, all from `provider-common`.

use mailroom_plugin_sdk::provider::AuthMethod;
use provider_common::{DEFAULT_QUIRKS, Service, ServiceInfo};

pub struct GenericProvider;

impl Service for GenericProvider {
    const PLUGIN: &'static str = "provider-generic";
    const DESCRIPTION: &'static str = "Any standard IMAP/POP3/SMTP server: folder names in many languages and plain-language connection errors";
    const INFO: ServiceInfo = ServiceInfo {
        id: "generic",
        name: "Other mail server (IMAP/POP3)",
        domains: &[],
        imap: None,
        pop3: None,
        smtp: None,
        auth_methods: &[AuthMethod::Password, AuthMethod::AppPassword],
        oauth2: None,
        app_password_hint: Some(
            "If the account uses two-step verification, create an app password in the mail \
             service's security settings and use it instead of the account's password.",
        ),
        quirks: DEFAULT_QUIRKS,
    };
}

provider_common::export_service!(GenericProvider);

#[cfg(test)]
mod tests {
    use super::*;
    use provider_common::testing::*;

    #[test]
    fn info_has_no_presets_and_no_domains() {
        let info = checked_info::<GenericProvider>("generic");
        assert!(info.domains.is_empty());
        assert!(info.imap.is_none() && info.smtp.is_none());
    }

    #[test]
    fn folders_and_errors_come_from_the_common_tables() {
        let map = |name: &str| GenericProvider::map_folder(mailbox(name, Some("."), &[]));
        assert_eq!(map("INBOX.Sent Items"), Some(FolderRole::Sent));
        assert_eq!(map("INBOX.Entw&APw-rfe"), Some(FolderRole::Drafts));
        assert_eq!(map("Customers"), None);
        let d = GenericProvider::diagnose(problem(
            Step::Login,
            "imap",
            "imap.example.com:993",
            "a1 NO [AUTHENTICATIONFAILED] Authentication failed.",
        ))
        .unwrap();
        assert!(d.summary.contains("user name or password"));
    }

    #[test]
    fn normalize_trims_the_subject() {
        let msg = Message {
            subject: " Hi ".into(),
            ..Default::default()
        };
        assert_eq!(GenericProvider::normalize(msg).unwrap().subject, "Hi");
    }
}
