//! {{name}}: what Mailroom needs to know about one mail service.
//!
//! Server presets and sign-in methods (so adding an account needs only an
//! address and a password), how its folder names map to roles, a message
//! quirk to undo, and what its login errors mean in plain words. Replace the
//! `example.com` values with your service's. The contract it implements is
//! `wit/v{{contract}}/provider.wit`.

use mailroom_plugin_sdk::prelude::*;
use mailroom_plugin_sdk::provider::{
    AuthMethod, ConnectionProblem, ConnectionStep, Diagnosis, ProviderInfo, ProviderQuirks,
    Security, ServerPreset,
};

pub struct Plugin;

const APP_PASSWORD_HINT: &str = "Create an app password in your account's security settings and use it instead of your password.";

impl mailroom_plugin_sdk::Plugin for Plugin {
    fn metadata() -> Metadata {
        Metadata::new("{{name}}", env!("CARGO_PKG_VERSION"), PluginKind::Provider)
            .description("Server settings, folder roles and error advice for example.com mail")
    }
}

impl Provider for Plugin {
    fn info() -> ProviderInfo {
        let tls = |host: &str, port| ServerPreset {
            host: host.into(),
            port,
            security: Security::Tls,
        };
        ProviderInfo {
            id: "{{name}}".into(),
            name: "{{name}}".into(),
            domains: vec!["example.com".into()],
            imap: Some(tls("imap.example.com", 993)),
            pop3: None,
            smtp: Some(tls("smtp.example.com", 465)),
            auth_methods: vec![AuthMethod::Password, AuthMethod::AppPassword],
            oauth2: None,
            app_password_hint: Some(APP_PASSWORD_HINT.into()),
            quirks: ProviderQuirks {
                smtp_saves_sent_copy: false,
                // Restart IDLE before the 30 minutes after which servers may drop it.
                idle_restart_seconds: 1740,
                qresync_broken: false,
                labels_as_folders: false,
                max_connections: 10,
            },
        }
    }

    fn map_folder(mailbox: Mailbox) -> Option<FolderRole> {
        // The last segment: `INBOX/Sent Items` and `INBOX.Sent Items` are both
        // "sent items", whatever the server's hierarchy delimiter.
        let leaf = match mailbox.delimiter.as_deref().filter(|d| !d.is_empty()) {
            Some(delimiter) => mailbox.name.rsplit(delimiter).next().unwrap_or(""),
            None => mailbox.name.as_str(),
        };
        let role = match leaf.to_lowercase().as_str() {
            "sent" | "sent items" | "sent messages" => Some(FolderRole::Sent),
            "drafts" => Some(FolderRole::Drafts),
            "junk" | "junk e-mail" | "spam" => Some(FolderRole::Spam),
            "trash" | "deleted items" | "deleted messages" => Some(FolderRole::Trash),
            "archive" => Some(FolderRole::Archive),
            // No opinion: the host falls back to the server's special-use
            // attributes and the admin's mapping.
            _ => None,
        };
        log::info!("{} -> {role:?}", mailbox.name);
        role
    }

    fn normalize(mut message: Message) -> Result<Message, String> {
        // Some gateways prefix external mail's subject; threads and searches
        // work better without it.
        const PREFIX: &str = "[external] ";
        if message.subject.len() >= PREFIX.len()
            && message.subject.is_char_boundary(PREFIX.len())
            && message.subject[..PREFIX.len()].eq_ignore_ascii_case(PREFIX)
        {
            message.subject = message.subject[PREFIX.len()..].to_string();
        }
        Ok(message)
    }

    fn diagnose(problem: ConnectionProblem) -> Option<Diagnosis> {
        let words = problem.message.to_lowercase();
        let refused = ["authenticationfailed", "invalid credentials", "authentication failed"]
            .iter()
            .any(|w| words.contains(w));
        (matches!(problem.step, ConnectionStep::Login) && refused).then(|| Diagnosis {
            summary: "{{name}} refused the password".into(),
            advice: APP_PASSWORD_HINT.into(),
            help_url: None,
        })
    }
}

mailroom_plugin_sdk::export_provider!(Plugin);
