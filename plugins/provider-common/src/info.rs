//! A service's `provider-info` written as a constant.
//!
//! The contract's records own `String`s and `Vec`s, which cannot be built in
//! a `const`; [`ServiceInfo`] is the same data with `&'static str`s, so each
//! service plugin is a page of facts, and [`ServiceInfo::to_info`] turns it
//! into what the host receives.

use mailroom_plugin_sdk::provider::{
    AuthMethod, Oauth2Endpoints, ProviderInfo, ProviderQuirks, SaslMechanism, Security,
    ServerPreset,
};

/// One server: host, port and how TLS starts.
#[derive(Clone, Copy, Debug)]
pub struct Preset {
    pub host: &'static str,
    pub port: u16,
    pub security: Security,
}

/// Implicit TLS from the first byte (RFC 8314), e.g. IMAP on 993.
pub const fn tls(host: &'static str, port: u16) -> Preset {
    Preset {
        host,
        port,
        security: Security::Tls,
    }
}

/// Plain text upgraded with STARTTLS, e.g. SMTP submission on 587.
pub const fn starttls(host: &'static str, port: u16) -> Preset {
    Preset {
        host,
        port,
        security: Security::Starttls,
    }
}

impl Preset {
    pub fn to_preset(self) -> ServerPreset {
        server(self.host.to_string(), self.port, self.security)
    }
}

/// A preset whose host is computed (regional hosts).
pub fn server(host: String, port: u16, security: Security) -> ServerPreset {
    ServerPreset {
        host,
        port,
        security,
    }
}

/// The OAuth2 authorization-code endpoints and the scopes mail access needs.
#[derive(Clone, Copy, Debug)]
pub struct OAuth {
    pub authorization_url: &'static str,
    pub token_url: &'static str,
    pub scopes: &'static [&'static str],
    pub sasl: SaslMechanism,
}

/// OAuth2 on Yahoo's mail platform, which serves Yahoo and AOL: the
/// `mail-w` scope (read and send) and XOAUTH2, at each brand's login API.
pub const fn yahoo_platform_oauth(
    authorization_url: &'static str,
    token_url: &'static str,
) -> OAuth {
    OAuth {
        authorization_url,
        token_url,
        scopes: &["mail-w"],
        sasl: SaslMechanism::Xoauth2,
    }
}

/// Quirks of a service that has none: what the generic provider assumes.
pub const DEFAULT_QUIRKS: ProviderQuirks = ProviderQuirks {
    smtp_saves_sent_copy: false,
    // RFC 2177: re-issue IDLE at least every 29 minutes, since servers may
    // log a client off after 30 minutes of inactivity.
    idle_restart_seconds: 29 * 60,
    qresync_broken: false,
    labels_as_folders: false,
    // Dovecot's default per user and IP is 10; stay well below.
    max_connections: 5,
};

/// Everything the host needs to know about a service, as constants.
#[derive(Clone, Copy, Debug)]
pub struct ServiceInfo {
    /// Stable id, e.g. `gmail`.
    pub id: &'static str,
    pub name: &'static str,
    /// Email domains that suggest the service, lower case.
    pub domains: &'static [&'static str],
    pub imap: Option<Preset>,
    pub pop3: Option<Preset>,
    pub smtp: Option<Preset>,
    /// In order of preference.
    pub auth_methods: &'static [AuthMethod],
    pub oauth2: Option<OAuth>,
    pub app_password_hint: Option<&'static str>,
    pub quirks: ProviderQuirks,
}

impl ServiceInfo {
    pub fn to_info(&self) -> ProviderInfo {
        let strings = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
        ProviderInfo {
            id: self.id.to_string(),
            name: self.name.to_string(),
            domains: strings(self.domains),
            imap: self.imap.map(Preset::to_preset),
            pop3: self.pop3.map(Preset::to_preset),
            smtp: self.smtp.map(Preset::to_preset),
            auth_methods: self.auth_methods.to_vec(),
            oauth2: self.oauth2.map(|o| Oauth2Endpoints {
                authorization_url: o.authorization_url.to_string(),
                token_url: o.token_url.to_string(),
                scopes: strings(o.scopes),
                sasl: o.sasl,
            }),
            app_password_hint: self.app_password_hint.map(str::to_string),
            quirks: self.quirks,
        }
    }
}
