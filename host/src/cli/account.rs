//! `mailroom account test|sync|folders|map-folder`: the connection test, a
//! sync, the folder list and the manual folder mapping of one account from
//! the command line, next to the server's data (same config, environment
//! and flags as `serve`). `sync` shows a progress bar with messages, bytes
//! and rate.

use super::serve::{StoreArgs, open_state};
use crate::api::AppState;
use crate::config::Settings;
use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use mailroom_core::ids::{AccountId, OrgId};
use mailroom_store::{Account, AccountLease};
use mailroom_sync::coordination::Lease;
use mailroom_sync::diagnose::{StepReport, StepStatus, test_account};
use mailroom_sync::imap::folder_mapping::{
    FolderMappingChange, account_folders, change_folder_mapping,
};
use mailroom_sync::scheduler::SchedulerSettings;
use mailroom_sync::{PluginProvider, SyncProgress, sync_account};

/// Which account, and where the server's data is.
#[derive(Debug, Args)]
pub struct AccountTarget {
    /// The org the account belongs to.
    #[arg(long)]
    org: String,
    /// The account's id.
    account: String,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Test the account's connections step by step: incoming (DNS, TCP, TLS, login,
    /// folders) and outgoing SMTP (DNS, TCP, TLS, login; nothing is sent).
    Test {
        #[command(flatten)]
        target: AccountTarget,
    },
    /// Sync the account now, with a progress bar.
    Sync {
        #[command(flatten)]
        target: AccountTarget,
    },
    /// List the account's server folders with their roles and message counts (JSON).
    Folders {
        #[command(flatten)]
        target: AccountTarget,
    },
    /// Map a server folder to a role by hand (inbox, drafts, sent, outbox,
    /// spam, trash, archive, custom:NAME), or give it back its automatic role.
    MapFolder {
        #[command(flatten)]
        target: AccountTarget,
        /// The folder's name, as the server spells it or as displayed.
        folder: String,
        /// The role; leave it out with --automatic.
        #[arg(required_unless_present = "automatic")]
        role: Option<String>,
        /// Remove the manual role: the folder gets its automatic one again.
        #[arg(long, conflicts_with = "role")]
        automatic: bool,
    },
}

impl AccountCommand {
    fn target(&self) -> &AccountTarget {
        match self {
            AccountCommand::Test { target }
            | AccountCommand::Sync { target }
            | AccountCommand::Folders { target }
            | AccountCommand::MapFolder { target, .. } => target,
        }
    }
}

pub async fn run(cmd: AccountCommand, log_json: bool) -> anyhow::Result<()> {
    let target = cmd.target();
    let settings = Settings::load(&target.store.overrides(None, log_json))?;
    super::init_logging(settings.log_json);
    let state = open_state(settings).await?;
    let (org, id) = (OrgId(target.org.clone()), AccountId(target.account.clone()));
    let account = state
        .store
        .get_account(&org, &id)
        .await
        .with_context(|| format!("no account {id} in org {org}"))?;
    let result = match cmd {
        AccountCommand::Test { .. } => test(&state, &account).await,
        AccountCommand::Sync { .. } => sync(&state, &account).await,
        AccountCommand::Folders { .. } => {
            let folders = account_folders(&state.store, &account).await?;
            println!("{}", serde_json::to_string_pretty(&folders)?);
            Ok(())
        }
        AccountCommand::MapFolder { folder, role, .. } => {
            let change = FolderMappingChange { folder, role };
            let folders =
                change_folder_mapping(&state.store, &account, &provider(&state, &account), &change)
                    .await?;
            println!("{}", serde_json::to_string_pretty(&folders)?);
            Ok(())
        }
    };
    state.store.close().await;
    result
}

fn provider(state: &AppState, account: &Account) -> PluginProvider {
    PluginProvider::new(
        state.registry.clone(),
        account.org.clone(),
        account.provider_id.as_deref(),
    )
}

async fn test(state: &AppState, account: &Account) -> anyhow::Result<()> {
    let report = test_account(
        &state.store,
        &account.org,
        &account.id,
        &provider(state, account),
        state.settings.connection_test.timeouts(),
    )
    .await?;
    print_server("incoming", &report.server, &report.security, &report.steps)?;
    match &report.outgoing {
        Some(out) => print_server("outgoing", &out.server, &out.security, &out.steps)?,
        None => println!("outgoing: none (this account has no SMTP server)"),
    }
    if report.ok {
        Ok(())
    } else {
        Err(anyhow::anyhow!("the connection test failed"))
    }
}

/// One server's steps of the connection test, with the provider's advice.
fn print_server(
    role: &str,
    server: &str,
    security: &str,
    steps: &[StepReport],
) -> anyhow::Result<()> {
    println!("{role}: {server} ({security})");
    for step in steps {
        let mark = match step.status {
            StepStatus::Ok => "ok  ",
            StepStatus::Failed => "FAIL",
            StepStatus::Skipped => "-   ",
        };
        println!(
            "  {mark} {:?}: {} ({} ms)",
            step.step, step.detail, step.elapsed_ms
        );
        if let Some(d) = &step.diagnosis {
            println!("       {}", serde_json::to_string(d)?);
        }
    }
    Ok(())
}

async fn sync(state: &AppState, account: &Account) -> anyhow::Result<()> {
    let (org, id) = (&account.org, &account.id);
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg:20} [{bar:30}] {pos}/{len} messages, {binary_bytes_per_sec}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    // The same lease the server's scheduler takes, as short and renewed
    // the same way: never two syncs of one account, and a killed command
    // holds the account up for a minute at most.
    let node = format!("cli-{}", std::process::id());
    let lease = Lease::new(
        state.store.clone(),
        AccountLease::Sync,
        node,
        SchedulerSettings::default().lease,
    );
    if !lease.take(org, id).await? {
        let holder = state
            .store
            .account_lease(org, id, AccountLease::Sync)
            .await?
            .map(|l| {
                let secs = ((l.until - mailroom_store::now_ms()).max(0) + 999) / 1000;
                format!(
                    " by {} (its lease lapses in {secs} s unless renewed)",
                    l.node
                )
            })
            .unwrap_or_default();
        anyhow::bail!("account {id} is being synced right now{holder}; try again later");
    }
    let mut bytes = 0u64;
    let mapper = provider(state, account);
    let work = sync_account(&state.store, org, id, &mapper, |p| match p {
        SyncProgress::Folders { total } => bar.set_message(format!("{total} folders")),
        SyncProgress::FolderStarted {
            folder, messages, ..
        } => {
            bar.set_message(folder);
            bar.inc_length(messages);
        }
        SyncProgress::BatchCommitted {
            messages, bytes: b, ..
        } => {
            bytes += b;
            bar.inc(messages);
        }
        SyncProgress::FolderDone(_) => {}
    });
    let report = lease
        .holding(org, id, work)
        .await
        .ok_or_else(|| anyhow::anyhow!("another node took the account over during the sync"))?;
    bar.finish_and_clear();
    let report = report.map_err(|e| anyhow::anyhow!("sync failed: {e}"))?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    println!("{bytes} bytes downloaded");
    Ok(())
}
