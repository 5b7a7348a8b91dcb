//! A create-account request and its checks: turned into the store's
//! `NewAccount`, with servers left out filled from a provider preset (the
//! one named, or the one the address's domain suggests), and a sign-in the
//! provider does not take refused in the provider's words.

use super::error::{ApiError, ApiResult};
use mailroom_core::destinations::{DestinationPolicy, Purpose};
use mailroom_core::ids::UserId;
use mailroom_plugin_host::bindings::latest::provider;
use mailroom_store::{
    AuthKind, Credentials, FromAddress, NewAccount, Protocol, Security, ServerSettings, Sharing,
    StoreSent,
};
use serde::Deserialize;
use utoipa::ToSchema;

/// Refuses a sign-in the provider does not take, with its own advice.
fn check_auth(info: &provider::ProviderInfo, kind: AuthKind) -> ApiResult<()> {
    use provider::AuthMethod;
    let takes = |m: AuthMethod| info.auth_methods.contains(&m);
    let wanted = match kind {
        AuthKind::Oauth2 => takes(AuthMethod::Oauth2),
        // Which kind of password was typed cannot be told apart here; the
        // server's refusal (with the provider's hint) says the rest.
        AuthKind::Password | AuthKind::AppPassword => {
            takes(AuthMethod::Password) || takes(AuthMethod::AppPassword)
        }
    };
    if wanted {
        return Ok(());
    }
    let offered: Vec<&str> = info
        .auth_methods
        .iter()
        .map(|m| match m {
            AuthMethod::Password => "password",
            AuthMethod::AppPassword => "app_password",
            AuthMethod::Oauth2 => "oauth2",
        })
        .collect();
    let mut why = format!(
        "{} does not take auth_kind {:?}; use {}",
        info.name,
        kind.as_str(),
        offered.join(" or ")
    );
    if let Some(hint) = &info.app_password_hint
        && kind != AuthKind::Oauth2
    {
        why.push_str(". ");
        why.push_str(hint);
    }
    Err(ApiError::unprocessable(why))
}

fn default_protocol() -> Protocol {
    Protocol::Imap
}
fn default_auth() -> AuthKind {
    AuthKind::Password
}
fn yes() -> bool {
    true
}

/// A new account: from a provider preset (`provider_id`, servers omitted)
/// or with explicit servers.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    /// The owning user; the caller unless an admin names someone else.
    #[serde(default)]
    pub owner: Option<UserId>,
    #[serde(default = "default_protocol")]
    pub protocol: Protocol,
    /// A preset id from GET /v1/providers; fills servers left out.
    #[serde(default)]
    pub provider_id: Option<String>,
    #[serde(default)]
    pub display_name: String,
    pub email: String,
    #[serde(default)]
    pub incoming: Option<ServerSettings>,
    #[serde(default)]
    pub outgoing: Option<ServerSettings>,
    #[serde(default = "yes")]
    pub same_credentials_for_outgoing: bool,
    #[serde(default = "default_auth")]
    pub auth_kind: AuthKind,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub outgoing_username: Option<String>,
    #[serde(default)]
    pub credentials: Credentials,
    #[serde(default = "yes")]
    pub tls_verify: bool,
    #[serde(default)]
    pub from_addresses: Vec<FromAddress>,
    #[serde(default)]
    pub default_from: Option<String>,
    #[serde(default)]
    pub sharing: Sharing,
    #[serde(default)]
    pub shared_with: Vec<UserId>,
    #[serde(default = "yes")]
    pub pop3_keep_on_server: bool,
    #[serde(default)]
    pub store_sent: StoreSent,
}

fn server(preset: &provider::ServerPreset) -> ServerSettings {
    ServerSettings {
        host: preset.host.clone(),
        port: preset.port,
        security: match preset.security {
            provider::Security::Tls => Security::Tls,
            provider::Security::Starttls => Security::Starttls,
            provider::Security::None => Security::None,
        },
    }
}

/// Where a server may be, told at once when an account is created or
/// changed: the org's destination policy (what can be known before a DNS
/// lookup: the port, and the address when the host is one), and plain text
/// (`security: none`) only to this machine or a host the policy names. The
/// protocol clients keep both rules again at connect time, on the
/// addresses DNS gives ([`mailroom_net::transport::resolve`]).
pub fn check_destination(
    which: &str,
    server: &ServerSettings,
    policy: &DestinationPolicy,
) -> ApiResult<()> {
    if server.security == Security::None && !policy.allows_plain_text(&server.host, None) {
        return Err(ApiError::unprocessable(format!(
            "`{which}.security: none` would send the login in plain text to {}, which is not \
             this machine: use \"tls\" or \"starttls\" (plain text is for a server on this \
             machine, or one an admin names in `plain_text_hosts` of the org's destination \
             policy)",
            server.host
        )));
    }
    policy
        .check_before_lookup(&server.host, server.port, Purpose::Mail)
        .map_err(|refused| ApiError::unprocessable(format!("`{which}`: {refused}")))
}

/// Builds the store's `NewAccount`, taking servers left out from `preset`.
pub fn new_account(
    req: CreateAccount,
    owner: UserId,
    preset: Option<&provider::ProviderInfo>,
    policy: &DestinationPolicy,
) -> ApiResult<NewAccount> {
    // Only where the preset is the server: one given explicitly may take
    // what its provider's public service does not (e.g. a custom IdP).
    if let Some(info) = preset
        && req.incoming.is_none()
    {
        check_auth(info, req.auth_kind)?;
    }
    let preset_incoming = preset.and_then(|info| match req.protocol {
        Protocol::Imap => info.imap.as_ref(),
        Protocol::Pop3 => info.pop3.as_ref(),
    });
    let incoming = match (req.incoming, preset_incoming) {
        (Some(s), _) => s,
        (None, Some(p)) => server(p),
        (None, None) => {
            return Err(ApiError::unprocessable(match &req.provider_id {
                Some(id) => format!(
                    "provider {id:?} has no {} preset: give `incoming` servers",
                    req.protocol.as_str()
                ),
                None => format!(
                    "no provider plugin of this org knows the domain of {:?}: give `incoming` \
                     servers or a `provider_id` from GET /v1/providers",
                    req.email
                ),
            }));
        }
    };
    let outgoing = req
        .outgoing
        .or_else(|| preset.and_then(|i| i.smtp.as_ref()).map(server));
    check_destination("incoming", &incoming, policy)?;
    if let Some(outgoing) = &outgoing {
        check_destination("outgoing", outgoing, policy)?;
    }
    let display_name = if req.display_name.trim().is_empty() {
        req.email.clone()
    } else {
        req.display_name
    };
    Ok(NewAccount {
        owner,
        protocol: req.protocol,
        provider_id: req.provider_id,
        display_name,
        email: req.email,
        incoming,
        outgoing,
        same_credentials_for_outgoing: req.same_credentials_for_outgoing,
        auth_kind: req.auth_kind,
        username: req.username,
        outgoing_username: req.outgoing_username,
        credentials: req.credentials,
        tls_verify: req.tls_verify,
        from_addresses: req.from_addresses,
        default_from: req.default_from,
        sharing: req.sharing,
        shared_with: req.shared_with,
        pop3_keep_on_server: req.pop3_keep_on_server,
        store_sent: req.store_sent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::providers::suggests;

    fn info() -> provider::ProviderInfo {
        let preset = |host: &str, port, security| provider::ServerPreset {
            host: host.into(),
            port,
            security,
        };
        provider::ProviderInfo {
            id: "example".into(),
            name: "Example Mail".into(),
            domains: vec!["example.com".into()],
            imap: Some(preset("imap.example.com", 993, provider::Security::Tls)),
            pop3: None,
            smtp: Some(preset(
                "smtp.example.com",
                587,
                provider::Security::Starttls,
            )),
            auth_methods: vec![provider::AuthMethod::Password],
            oauth2: None,
            app_password_hint: None,
            quirks: provider::ProviderQuirks {
                smtp_saves_sent_copy: true,
                idle_restart_seconds: 600,
                qresync_broken: false,
                labels_as_folders: false,
                max_connections: 5,
            },
        }
    }

    fn request(json: serde_json::Value) -> CreateAccount {
        serde_json::from_value(json).expect("request")
    }

    #[test]
    fn an_address_suggests_the_providers_of_its_domain() {
        let info = info();
        assert!(suggests(&info, "ann@example.com"));
        assert!(suggests(&info, " Ann@EXAMPLE.COM "), "case and spaces");
        assert!(suggests(&info, "ann@eu.example.com"), "a subdomain");
        assert!(suggests(&info, "\"a@b\"@example.com"), "the last @ counts");
        assert!(!suggests(&info, "ann@notexample.com"), "not a suffix match");
        assert!(!suggests(&info, "ann@example.com.evil"));
        assert!(!suggests(&info, "example.com"), "no address");
        assert!(!suggests(&info, "ann@"));
    }

    #[test]
    fn a_sign_in_the_provider_does_not_take_is_refused_with_its_advice() {
        let mut oauth_only = info();
        oauth_only.auth_methods = vec![provider::AuthMethod::Oauth2];
        oauth_only.app_password_hint = Some("This provider takes no passwords.".into());
        let why = check_auth(&oauth_only, AuthKind::Password)
            .unwrap_err()
            .message;
        assert!(
            why.contains("use oauth2") && why.contains("takes no passwords"),
            "{why}"
        );
        assert!(check_auth(&oauth_only, AuthKind::AppPassword).is_err());
        assert!(check_auth(&oauth_only, AuthKind::Oauth2).is_ok());
        let why = check_auth(&info(), AuthKind::Oauth2).unwrap_err().message;
        assert!(why.contains("use password"), "{why}");
        // A password where only app passwords work cannot be told from an
        // app password: the server decides.
        let mut app_only = info();
        app_only.auth_methods = vec![provider::AuthMethod::AppPassword];
        assert!(check_auth(&app_only, AuthKind::Password).is_ok());
    }

    #[test]
    fn presets_fill_the_servers_left_out() {
        let req =
            request(serde_json::json!({"email": "ann@example.com", "provider_id": "example"}));
        let new = new_account(
            req,
            UserId("usr_a".into()),
            Some(&info()),
            &DestinationPolicy::default(),
        )
        .expect("new account");
        assert_eq!(
            new.incoming,
            ServerSettings {
                host: "imap.example.com".into(),
                port: 993,
                security: Security::Tls
            }
        );
        assert_eq!(
            new.outgoing.map(|o| (o.port, o.security)),
            Some((587, Security::Starttls))
        );
        assert_eq!(new.display_name, "ann@example.com");
        // Explicit servers win over the preset.
        let req = request(
            serde_json::json!({"email": "ann@example.com", "provider_id": "example",
            "incoming": {"host": "mail.example.com", "port": 143, "security": "starttls"}}),
        );
        let new = new_account(
            req,
            UserId("usr_a".into()),
            Some(&info()),
            &DestinationPolicy::default(),
        )
        .expect("new account");
        assert_eq!(new.incoming.host, "mail.example.com");
        // A protocol the provider has no preset for needs servers.
        let req = request(
            serde_json::json!({"email": "ann@example.com", "provider_id": "example", "protocol": "pop3"}),
        );
        let err = new_account(
            req,
            UserId("usr_a".into()),
            Some(&info()),
            &DestinationPolicy::default(),
        )
        .unwrap_err();
        assert!(err.message.contains("pop3"), "{}", err.message);
    }
}
