//! `mailroom demo`: a throwaway server a newcomer can poke at in a minute. It
//! starts on SQLite in a temporary data directory (or `--data-dir`), creates
//! a demo org with an admin and a user, installs the bundled plugins, loads
//! the sample mail of `examples/sample-mail/` through the store's ingestion
//! (the path sync uses), adds contacts and a lead matching the senders, and
//! prints tokens and curl lines that work.

use super::serve::{bind, open_state, serve, shutdown_signal};
use crate::api::AppState;
use crate::config::Settings;
use anyhow::Context;
use clap::Args;
use mailroom_core::ids::{AccountId, OrgId};
use mailroom_store::{
    AuthKind, Credentials, IncomingMessage, Location, NewAccount, NewCrmRecord, NewUser, Protocol,
    Role, Security, ServerSettings, Sharing, StoreSent,
};
use std::net::SocketAddr;
use std::path::PathBuf;

const ORG: &str = "Northwind (demo)";
const ADMIN: (&str, &str) = ("alex@northwind.example", "Alex Morgan");
const USER: (&str, &str) = ("jordan@northwind.example", "Jordan Lee");

/// The sample mail, compiled in so the demo runs from any directory.
macro_rules! sample_mail {
    ($($file:literal),* $(,)?) => {
        &[$(($file, include_bytes!(concat!("../../../examples/sample-mail/", $file)) as &[u8])),*]
    };
}

pub const SAMPLE_MAIL: &[(&str, &[u8])] = sample_mail!(
    "01-pricing-inquiry.eml",
    "02-re-pricing-sent.eml",
    "03-re-re-pricing.eml",
    "04-complaint-damaged-order.eml",
    "05-meeting-request.eml",
    "06-newsletter.eml",
    "07-html-only.eml",
    "08-german-quote-request.eml",
    "09-japanese-template-question.eml",
    "10-signed-contract-attachment.eml",
    "11-french-demo-request.eml",
    "12-out-of-office.eml",
    "13-cc-security-questionnaire.eml",
    "14-spanish-new-lead.eml",
    "15-invoice-question.eml",
);

#[derive(Clone, Debug, Args)]
pub struct DemoArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Keep the demo's data here instead of a temporary directory removed on exit.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// What the seeding made, for the printout.
struct Seeded {
    admin_token: String,
    user_token: String,
    contact: Option<String>,
    messages: usize,
    plugins: Vec<String>,
}

pub async fn run(args: DemoArgs, log_json: bool) -> anyhow::Result<()> {
    super::init_logging(log_json);
    let (data_dir, temporary) = match &args.data_dir {
        Some(dir) => (dir.clone(), false),
        None => (
            std::env::temp_dir().join(format!("mailroom-demo-{}", std::process::id())),
            true,
        ),
    };
    let settings = Settings {
        listen: args.listen,
        data_dir: data_dir.clone(),
        log_json,
        ..Settings::default()
    };
    let result = async {
        // Bind first: a busy port fails before any work is done.
        let listener = bind(settings.listen).await?;
        let address = listener.local_addr()?;
        let state = open_state(settings).await?;
        let seeded = seed(&state).await?;
        print_next_steps(address, &data_dir, temporary, &seeded);
        serve(listener, state, shutdown_signal()).await
    }
    .await;
    if temporary {
        let _ = std::fs::remove_dir_all(&data_dir);
    }
    result
}

async fn seed(state: &AppState) -> anyhow::Result<Seeded> {
    let store = &state.store;
    if let Some(org) = store.find_org_by_name(ORG).await? {
        // A kept data directory from an earlier run: everything is there, but
        // tokens cannot be shown again, so make fresh ones.
        let token = |email: &'static str| {
            let org = org.id.clone();
            async move {
                let user = store
                    .find_user_by_email(&org, email)
                    .await?
                    .context("demo user missing")?;
                anyhow::Ok(
                    store
                        .create_token(&org, &user.id, "demo")
                        .await?
                        .secret
                        .expose()
                        .to_owned(),
                )
            }
        };
        let contact = store
            .crm_find_by_email::<mailroom_core::ids::ContactId>(
                &org.id,
                "maria.garcia@acme-logistics.example",
            )
            .await?;
        let plugins = state
            .registry
            .list(&org.id)
            .await?
            .into_iter()
            .map(|v| v.record.name)
            .collect();
        return Ok(Seeded {
            admin_token: token(ADMIN.0).await?,
            user_token: token(USER.0).await?,
            contact: contact.first().map(|c| c.id.to_string()),
            messages: 0,
            plugins,
        });
    }
    let (org, admin, admin_token) = store.create_org_with_admin(ORG, ADMIN.0, ADMIN.1).await?;
    let user = store
        .create_user(
            &org.id,
            &NewUser {
                email: USER.0.into(),
                display_name: USER.1.into(),
                role: Role::User,
                licensed: true,
            },
        )
        .await?;
    let user_token = store.create_token(&org.id, &user.id, "demo").await?;

    let mut plugins = Vec::new();
    for done in crate::bundled::install_all(&state.registry, &org.id).await {
        match done.result {
            Ok(view) => plugins.push(view.record.name),
            // The demo is still useful without one plugin; say which and why.
            Err(e) => {
                tracing::warn!(plugin = done.package, error = %e, "demo: bundled plugin not installed")
            }
        }
    }

    let account = store
        .create_account(
            &org.id,
            &NewAccount {
                owner: admin.id.clone(),
                protocol: Protocol::Imap,
                provider_id: Some("generic".into()),
                display_name: ADMIN.1.into(),
                email: ADMIN.0.into(),
                incoming: ServerSettings {
                    host: "imap.northwind.example".into(),
                    port: 993,
                    security: Security::Tls,
                },
                outgoing: Some(ServerSettings {
                    host: "smtp.northwind.example".into(),
                    port: 465,
                    security: Security::Tls,
                }),
                same_credentials_for_outgoing: true,
                auth_kind: AuthKind::Password,
                username: None,
                outgoing_username: None,
                credentials: Credentials::default(),
                tls_verify: true,
                from_addresses: Vec::new(),
                default_from: None,
                sharing: Sharing::Public,
                shared_with: Vec::new(),
                pop3_keep_on_server: true,
                store_sent: StoreSent::Auto,
            },
        )
        .await?;
    let messages = load_sample_mail(state, &org.id, &account.id).await?;
    let contact = add_contacts(state, &org.id).await?;
    // Classify the sample mail now, so the first look already shows results.
    mailroom_pipeline::Pipeline::new(state.store.clone(), state.registry.clone())
        .run_pending(100)
        .await
        .context("running the plugin pipeline on the sample mail")?;
    Ok(Seeded {
        admin_token: admin_token.secret.expose().to_owned(),
        user_token: user_token.secret.expose().to_owned(),
        contact: Some(contact),
        messages,
        plugins,
    })
}

/// Ingests the sample mail as if synced into the account (mail from the
/// account's own address lands in `sent`).
pub async fn load_sample_mail(
    state: &AppState,
    org: &OrgId,
    account: &AccountId,
) -> anyhow::Result<usize> {
    let items: Vec<IncomingMessage<'_>> = SAMPLE_MAIL
        .iter()
        .map(|(file, raw)| {
            let from_us = mailroom_core::mime::parse(raw)
                .from
                .iter()
                .any(|a| a.email.eq_ignore_ascii_case(ADMIN.0));
            let role = if from_us { "sent" } else { "inbox" };
            IncomingMessage {
                location: Location::Local {
                    key: (*file).to_owned(),
                    role: role.to_owned(),
                },
                raw,
                received_at: None,
            }
        })
        .collect();
    let ingested = state
        .store
        .ingest_batch(org, account, &items, None)
        .await
        .context("ingesting the sample mail")?;
    Ok(ingested.len())
}

fn record(name: &str, email: &str, secondary: &[&str], company: &str) -> NewCrmRecord {
    NewCrmRecord {
        name: name.into(),
        primary_email: Some(email.into()),
        secondary_emails: secondary.iter().map(|s| (*s).to_owned()).collect(),
        owner: None,
        fields: serde_json::json!({ "company": company }),
    }
}

/// Contacts for the senders, and one lead; returns the first contact's id.
async fn add_contacts(state: &AppState, org: &OrgId) -> anyhow::Result<String> {
    let contacts = [
        record(
            "Maria Garcia",
            "maria.garcia@acme-logistics.example",
            &["maria@garcia-home.example"],
            "Acme Logistics",
        ),
        record(
            "Luis Romero",
            "luis.romero@acme-logistics.example",
            &[],
            "Acme Logistics",
        ),
        record(
            "Tom Becker",
            "tom.becker@brightwave.example",
            &["ap@brightwave.example"],
            "Brightwave GmbH",
        ),
        record(
            "Priya Natarajan",
            "priya@lumen-health.example",
            &[],
            "Lumen Health",
        ),
        record(
            "Chen Wei",
            "chen.wei@orbitretail.example",
            &[],
            "Orbit Retail",
        ),
        record(
            "Jürgen Müller",
            "j.mueller@mueller-bau.example",
            &[],
            "Müller Bau GmbH",
        ),
        record(
            "山田 花子",
            "hanako.yamada@sakura-trading.example",
            &[],
            "さくら商事",
        ),
        record(
            "Camille Laurent",
            "camille.laurent@atelier-nord.example",
            &[],
            "Atelier Nord",
        ),
    ];
    let ids = state
        .store
        .crm_import::<mailroom_core::ids::ContactId>(org, &contacts)
        .await?;
    let lead = record(
        "Lucía Fernández",
        "lucia@verde-energia.example",
        &[],
        "Verde Energía",
    );
    state
        .store
        .crm_create::<mailroom_core::ids::LeadId>(org, &lead)
        .await?;
    ids.first()
        .map(|id| id.to_string())
        .context("no demo contact created")
}

fn print_next_steps(address: SocketAddr, data_dir: &std::path::Path, temporary: bool, s: &Seeded) {
    let url = format!("http://{address}");
    let kept = if temporary {
        "temporary, removed on exit"
    } else {
        "kept"
    };
    println!();
    println!("Mailroom demo is running at {url}");
    println!("  data:     {} ({kept})", data_dir.display());
    println!(
        "  org:      {ORG}, {} sample messages loaded, plugins: {}",
        s.messages,
        list_or_none(&s.plugins)
    );
    println!();
    println!("  admin token ({}, admin): {}", ADMIN.1, s.admin_token);
    println!("  user token  ({}, user):  {}", USER.1, s.user_token);
    println!();
    println!("Next steps:");
    println!("  export TOKEN={}", s.admin_token);
    println!("  curl -s {url}/healthz");
    println!("  curl -s -H \"Authorization: Bearer $TOKEN\" {url}/v1/me");
    println!("  curl -s -H \"Authorization: Bearer $TOKEN\" '{url}/v1/messages?limit=5'");
    if let Some(contact) = &s.contact {
        println!(
            "  curl -s -H \"Authorization: Bearer $TOKEN\" {url}/v1/contacts/{contact}/messages"
        );
    }
    println!("  curl -s -H \"Authorization: Bearer $TOKEN\" {url}/v1/plugins");
    println!(
        "  curl -s -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: text/csv' --data-binary $'name,email\\nAda Lovelace,ada@example.com' {url}/v1/contacts/import"
    );
    println!();
    println!("  API description: {url}/openapi.json    metrics: {url}/metrics");
    println!("Press Ctrl-C to stop.");
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}
