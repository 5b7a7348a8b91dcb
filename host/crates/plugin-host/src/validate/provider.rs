//! The range of a provider plugin's answers: its description of the
//! provider (ids, host names, web addresses), folder roles, connection
//! advice, and the normalized message. The normalized message only goes on
//! to the org's other plugins (the host keeps its identity fields), so it
//! is held to the contract's shape rather than to what the store keeps.

use super::{PluginOutput, TextRule, Violation, count, host_name, identifier, violation, web_url};
use crate::bindings::latest::provider::{Diagnosis, ProviderInfo, ServerPreset};
use crate::bindings::latest::types::{FolderRole, Message};

/// Most entries of any list in a normalized message.
const MAX_MESSAGE_LIST: usize = 10_000;

impl PluginOutput for ProviderInfo {
    fn check(&self) -> Result<(), Violation> {
        identifier("id", &self.id, 64, &['-', '_', '.'])?;
        TextRule::line(100).check("name", &self.name)?;
        count("domains", &self.domains, 1000)?;
        for (i, d) in self.domains.iter().enumerate() {
            host_name(move || format!("domains[{i}]"), d)?;
        }
        for (name, preset) in [
            ("imap", &self.imap),
            ("pop3", &self.pop3),
            ("smtp", &self.smtp),
        ] {
            if let Some(p) = preset {
                check_preset(name, p)?;
            }
        }
        if let Some(o) = &self.oauth2 {
            web_url("oauth2.authorization-url", &o.authorization_url)?;
            web_url("oauth2.token-url", &o.token_url)?;
            count("oauth2.scopes", &o.scopes, 50)?;
            for (i, s) in o.scopes.iter().enumerate() {
                TextRule::line(500).check(|| format!("oauth2.scopes[{i}]"), s)?;
            }
        }
        TextRule::lines(1000).check_opt("app-password-hint", self.app_password_hint.as_ref())?;
        if self.quirks.max_connections == 0 {
            return Err(violation(
                "quirks.max-connections",
                "is 0; a provider allows at least one connection",
            ));
        }
        Ok(())
    }
}

fn check_preset(name: &'static str, p: &ServerPreset) -> Result<(), Violation> {
    host_name(move || format!("{name}.host"), &p.host)?;
    if p.port == 0 {
        return Err(violation(move || format!("{name}.port"), "is 0"));
    }
    Ok(())
}

impl PluginOutput for FolderRole {
    fn check(&self) -> Result<(), Violation> {
        Ok(())
    }
}

impl PluginOutput for Diagnosis {
    fn check(&self) -> Result<(), Violation> {
        TextRule::line(300).check("summary", &self.summary)?;
        TextRule::lines(4000).check("advice", &self.advice)?;
        if let Some(url) = &self.help_url {
            web_url("help-url", url)?;
        }
        Ok(())
    }
}

impl PluginOutput for Message {
    /// The text of a normalized message is mail as senders wrote it (a
    /// display name may carry any character), it only reaches other
    /// plugins, and the host restores its identity fields; so only its
    /// lists are bounded here (its size is bounded with every output's).
    fn check(&self) -> Result<(), Violation> {
        for (name, list) in [
            ("from", &self.from),
            ("to", &self.to),
            ("cc", &self.cc),
            ("bcc", &self.bcc),
            ("reply-to", &self.reply_to),
        ] {
            count(name, list, MAX_MESSAGE_LIST)?;
        }
        count("headers", &self.headers, MAX_MESSAGE_LIST)?;
        count("references", &self.references, MAX_MESSAGE_LIST)?;
        count("attachments", &self.attachments, MAX_MESSAGE_LIST)
    }
}
