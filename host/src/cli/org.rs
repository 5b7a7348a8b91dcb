//! `mailroom org create NAME --admin EMAIL` (installs the bundled plugins
//! and prints the first admin token, once) and `mailroom org list`: operator commands that open the same store
//! as `serve` (same config file, environment and flags).

use super::serve::{StoreArgs, open_registry, open_store};
use crate::config::Settings;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an org with its first admin and the bundled plugins, and print
    /// that admin's API token.
    Create {
        /// The org's name (unique).
        name: String,
        /// Email of the first admin.
        #[arg(long)]
        admin: String,
        /// Display name of the first admin.
        #[arg(long, default_value = "")]
        admin_name: String,
        /// Start without the plugins this binary carries (providers, filter
        /// importers, classifier, workflow); an admin can install each later
        /// with `POST /v1/bundled-plugins/{name}/install`.
        #[arg(long)]
        no_bundled_plugins: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List every org.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub async fn run(cmd: OrgCommand, log_json: bool) -> anyhow::Result<()> {
    match cmd {
        OrgCommand::Create {
            name,
            admin,
            admin_name,
            no_bundled_plugins,
            store,
        } => {
            let settings = Settings::load(&store.overrides(None, log_json))?;
            super::init_logging(settings.log_json);
            let store = open_store(&settings).await?;
            let registry = open_registry(&settings, &store)?;
            let (org, user, token) = store
                .create_org_with_admin(&name, &admin, &admin_name)
                .await?;
            println!(
                "Created org {:?} ({}) with admin {} ({}).",
                org.name, org.id, user.email, user.id
            );
            if !no_bundled_plugins {
                install_bundled(&registry, &org.id).await;
            }
            store.close().await;
            println!();
            println!("Admin API token (shown only now; store it somewhere safe):");
            println!();
            println!("    {}", token.secret.expose());
            println!();
            println!(
                "Try it:  curl -H 'Authorization: Bearer {}' http://{}/v1/me",
                token.secret.expose(),
                settings.listen
            );
            Ok(())
        }
        OrgCommand::List { store } => {
            let settings = Settings::load(&store.overrides(None, log_json))?;
            super::init_logging(settings.log_json);
            let store = open_store(&settings).await?;
            let orgs = store.list_orgs().await?;
            store.close().await;
            if orgs.is_empty() {
                println!("No orgs yet: create one with `mailroom org create NAME --admin EMAIL`.");
            }
            for org in orgs {
                println!("{}\t{}", org.id, org.name);
            }
            Ok(())
        }
    }
}

/// Installs the bundled plugins and says what was installed. The org exists
/// whatever happens here, so a plugin that fails is reported (with how to
/// retry), not an error of the command.
async fn install_bundled(
    registry: &mailroom_plugin_host::registry::PluginRegistry,
    org: &mailroom_core::ids::OrgId,
) {
    let mut installed = Vec::new();
    for done in crate::bundled::install_all(registry, org).await {
        match done.result {
            Ok(view) => installed.push(format!(
                "{} {}",
                view.record.name, view.active_version.metadata.version
            )),
            Err(e) => eprintln!(
                "The bundled plugin {} was not installed: {e}\n\
                 Retry with POST /v1/bundled-plugins/{{name}}/install once the cause is fixed.",
                done.package
            ),
        }
    }
    println!(
        "Installed {} bundled plugins: {}.",
        installed.len(),
        installed.join(", ")
    );
}
