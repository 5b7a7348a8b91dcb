//! `mailroom org create NAME --admin EMAIL` (prints the first admin token,
//! once) and `mailroom org list`: operator commands that open the same store
//! as `serve` (same config file, environment and flags).

use super::serve::{StoreArgs, open_store};
use crate::config::Settings;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an org with its first admin, and print that admin's API token.
    Create {
        /// The org's name (unique).
        name: String,
        /// Email of the first admin.
        #[arg(long)]
        admin: String,
        /// Display name of the first admin.
        #[arg(long, default_value = "")]
        admin_name: String,
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
            store,
        } => {
            let settings = Settings::load(&store.overrides(None, log_json))?;
            super::init_logging(settings.log_json);
            let store = open_store(&settings).await?;
            let (org, user, token) = store
                .create_org_with_admin(&name, &admin, &admin_name)
                .await?;
            store.close().await;
            println!(
                "Created org {:?} ({}) with admin {} ({}).",
                org.name, org.id, user.email, user.id
            );
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
