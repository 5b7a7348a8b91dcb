//! Every bundled provider plugin, loaded by the host and called through the
//! contract: the facts accounts are created from (ids, domains, presets,
//! auth methods, quirks) and the diagnoses admins read must hold as the host
//! sees them, not only in the plugins' own unit tests.

use crate::common::blocking;
use crate::common::engine;
use mailroom::ids::OrgId;
use mailroom::plugin::bindings::latest::provider::{
    AuthMethod, ConnectionProblem, ConnectionStep, ProviderInfo, Security, ServerPreset,
};
use mailroom::plugin::bindings::latest::types::{FolderRole, Mailbox};
use mailroom::plugin::invoke::Call;
use mailroom::plugin::state::PluginScope;
use mailroom::plugin::{Limits, LoadedComponent, PluginEngine, PluginKind};
use mailroom_plugin_artifacts as artifacts;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

fn load(bytes: &[u8]) -> Arc<LoadedComponent> {
    engine().load(bytes).expect("load")
}

fn call_with<'a>(
    engine: &'a PluginEngine,
    component: &'a LoadedComponent,
    config: &[(&str, &str)],
) -> Call<'a> {
    let mut scope = PluginScope::isolated(OrgId::from("org_test"), "test");
    scope.config = Arc::new(
        config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
    );
    Call {
        engine,
        component,
        scope: Arc::new(scope),
        limits: Limits::default(),
    }
}

fn call<'a>(engine: &'a PluginEngine, component: &'a LoadedComponent) -> Call<'a> {
    call_with(engine, component, &[])
}

type Bundled = (String, Arc<LoadedComponent>, ProviderInfo);

/// Every bundled provider plugin: (package name, component, its info),
/// loaded once for all tests (compiling a component takes a while).
fn providers() -> &'static [Bundled] {
    static PROVIDERS: OnceLock<Vec<Bundled>> = OnceLock::new();
    PROVIDERS.get_or_init(|| {
        let engine = engine();
        artifacts::BUNDLED
            .iter()
            .map(|b| (b.package, load(b.bytes)))
            .filter(|(_, c)| c.world.kind == PluginKind::Provider)
            .map(|(name, c)| {
                let info = blocking(call(&engine, &c).provider_info())
                    .result
                    .unwrap_or_else(|e| panic!("{name}: info: {e}"));
                (name.to_string(), c, info)
            })
            .collect()
    })
}

fn provider(id: &str) -> (Arc<LoadedComponent>, ProviderInfo) {
    providers()
        .iter()
        .find(|(_, _, info)| info.id == id)
        .map(|(_, c, info)| (c.clone(), info.clone()))
        .unwrap_or_else(|| panic!("no bundled provider with id {id}"))
}

fn diagnose(component: &LoadedComponent, step: ConnectionStep, server: &str, said: &str) -> String {
    let protocol = if server.starts_with("smtp") {
        "smtp"
    } else {
        "imap"
    };
    let problem = ConnectionProblem {
        step,
        protocol: protocol.into(),
        server: server.into(),
        message: said.into(),
    };
    let d = blocking(call(&engine(), component).diagnose(&problem))
        .result
        .expect("diagnose")
        .unwrap_or_else(|| panic!("no diagnosis for {said:?}"));
    assert!(!d.summary.is_empty() && !d.advice.is_empty());
    format!("{}\n{}", d.summary, d.advice)
}

fn map(component: &LoadedComponent, name: &str, attributes: &[&str]) -> Option<FolderRole> {
    let mailbox = Mailbox {
        name: name.into(),
        delimiter: Some("/".into()),
        attributes: attributes.iter().map(|a| a.to_string()).collect(),
    };
    blocking(call(&engine(), component).map_folder(&mailbox))
        .result
        .expect("map-folder")
}

#[test]
fn every_service_is_bundled_once_with_sound_presets() {
    let providers = providers();
    let ids: BTreeSet<&str> = providers.iter().map(|(_, _, i)| i.id.as_str()).collect();
    assert_eq!(ids.len(), providers.len(), "provider ids are not unique");
    for id in [
        "generic",
        "gmail",
        "microsoft",
        "yahoo",
        "zoho",
        "icloud",
        "aol",
    ] {
        assert!(ids.contains(id), "{id} is not bundled: {ids:?}");
    }

    let mut owner_of_domain: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, component, info) in providers {
        let meta = blocking(call(&engine(), component).metadata())
            .result
            .expect("metadata");
        assert_eq!(&meta.name, name);
        for domain in &info.domains {
            if let Some(other) = owner_of_domain.insert(domain, &info.id) {
                panic!("{domain} is claimed by both {other} and {}", info.id);
            }
        }
        let presets: [&Option<ServerPreset>; 3] = [&info.imap, &info.pop3, &info.smtp];
        for preset in presets.into_iter().flatten() {
            assert!(!preset.host.trim().is_empty(), "{name}: empty host");
            assert!(preset.port != 0, "{name}: port 0");
            assert!(
                matches!(preset.security, Security::Tls | Security::Starttls),
                "{name}: {} without TLS",
                preset.host
            );
        }
        assert!(!info.auth_methods.is_empty(), "{name}");
        assert_eq!(
            info.oauth2.is_some(),
            info.auth_methods.contains(&AuthMethod::Oauth2),
            "{name}: OAuth2 endpoints and auth methods disagree"
        );
        if info.id != "generic" {
            assert!(info.imap.is_some() && info.smtp.is_some(), "{name}");
            assert!(!info.domains.is_empty(), "{name}");
        }
    }
}

#[test]
fn gmail_files_sent_mail_itself_and_syncs_all_mail() {
    let (gmail, info) = provider("gmail");
    assert!(info.quirks.smtp_saves_sent_copy);
    assert!(info.quirks.labels_as_folders);
    assert_eq!(info.imap.unwrap().host, "imap.gmail.com");
    assert_eq!(
        map(&gmail, "[Gmail]/All Mail", &["\\All", "\\HasNoChildren"]),
        Some(FolderRole::AllMail)
    );
    assert_eq!(
        map(&gmail, "[Google Mail]/Gesendet", &["\\Sent"]),
        Some(FolderRole::Sent)
    );
    assert_eq!(map(&gmail, "[Gmail]", &["\\Noselect"]), None);
    let d = diagnose(
        &gmail,
        ConnectionStep::SmtpAuth,
        "smtp.gmail.com:465",
        "534-5.7.9 Application-specific password required. https://support.google.com/mail/?p=InvalidSecondFactor",
    );
    assert!(d.contains("app password"), "{d}");
}

#[test]
fn outlook_takes_oauth_only_and_smtp_auth_disabled_is_explained() {
    let (microsoft, info) = provider("microsoft");
    assert_eq!(info.auth_methods, [AuthMethod::Oauth2]);
    assert!(info.domains.iter().any(|d| d == "outlook.com"));
    assert!(
        info.app_password_hint
            .as_deref()
            .is_some_and(|h| h.contains("OAuth2")),
        "{info:?}"
    );
    let smtp = info.smtp.unwrap();
    assert_eq!(smtp.host, "smtp.office365.com");
    assert_eq!(smtp.security, Security::Starttls);

    let d = diagnose(
        &microsoft,
        ConnectionStep::SmtpAuth,
        "smtp.office365.com:587",
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. \
         Visit https://aka.ms/smtp_auth_disabled for more information.",
    );
    assert!(d.contains("Authenticated SMTP"), "{d}");
    let d = diagnose(
        &microsoft,
        ConnectionStep::ListFolders,
        "outlook.office365.com:993",
        "BAD User is authenticated but not connected.",
    );
    assert!(d.contains("shared mailbox"), "{d}");
}

#[test]
fn app_password_services_say_how_to_make_one() {
    for id in ["yahoo", "aol", "icloud"] {
        let (component, info) = provider(id);
        assert!(info.auth_methods.contains(&AuthMethod::AppPassword), "{id}");
        assert!(!info.auth_methods.contains(&AuthMethod::Password), "{id}");
        let hint = info.app_password_hint.expect("hint");
        let server = format!("{}:993", info.imap.unwrap().host);
        let d = diagnose(
            &component,
            ConnectionStep::Login,
            &server,
            "a1 NO [AUTHENTICATIONFAILED] Invalid credentials",
        );
        assert!(d.contains(&hint), "{id}: {d}");
    }
}

#[test]
fn service_quirks() {
    let (_, icloud) = provider("icloud");
    assert!(icloud.quirks.qresync_broken);
    let (_, yahoo) = provider("yahoo");
    assert!(yahoo.quirks.idle_restart_seconds <= 600);
    assert!(yahoo.domains.iter().any(|d| d == "ymail.com"));
    let (_, zoho) = provider("zoho");
    assert!(!zoho.quirks.smtp_saves_sent_copy);
}

#[test]
fn zoho_presets_follow_the_orgs_region_and_account_kind() {
    let engine = engine();
    let (zoho, default) = provider("zoho");
    assert_eq!(default.imap.unwrap().host, "imap.zoho.com");
    let info = blocking(
        call_with(
            &engine,
            &zoho,
            &[("region", "eu"), ("organisation", "true")],
        )
        .provider_info(),
    )
    .result
    .expect("info");
    assert_eq!(info.imap.unwrap().host, "imappro.zoho.eu");
    assert_eq!(info.smtp.unwrap().host, "smtppro.zoho.eu");
    let d = diagnose(
        &zoho,
        ConnectionStep::Login,
        "imap.zoho.com:993",
        "NO You are yet to enable IMAP access. Please login to Zoho Mail and enable IMAP access.",
    );
    assert!(d.contains("IMAP Access"), "{d}");
}
