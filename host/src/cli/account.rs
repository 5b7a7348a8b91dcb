//! `mailroom account test|sync`: the connection test and a sync of one
//! account from the command line, next to the server's data (same config,
//! environment and flags as `serve`). `sync` shows a progress bar with
//! messages, bytes and rate.

use super::serve::{StoreArgs, open_state};
use crate::config::Settings;
use crate::ids::{AccountId, OrgId};
use crate::store::AccountLease;
use crate::sync::diagnose::{StepStatus, test_account};
use crate::sync::{PluginProvider, SyncProgress, Timeouts, sync_account};
use anyhow::Context;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Test the account's connection step by step (DNS, TCP, TLS, login, folders).
    Test {
        /// The org the account belongs to.
        #[arg(long)]
        org: String,
        account: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Sync the account now, with a progress bar.
    Sync {
        #[arg(long)]
        org: String,
        account: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub async fn run(cmd: AccountCommand, log_json: bool) -> anyhow::Result<()> {
    let (AccountCommand::Test {
        org,
        account,
        store,
    }
    | AccountCommand::Sync {
        org,
        account,
        store,
    }) = &cmd;
    let settings = Settings::load(&store.overrides(None, log_json))?;
    super::init_logging(settings.log_json);
    let state = open_state(settings).await?;
    let (org, account) = (OrgId(org.clone()), AccountId(account.clone()));
    let found = state
        .store
        .get_account(&org, &account)
        .await
        .with_context(|| format!("no account {account} in org {org}"))?;
    let provider = PluginProvider::new(
        state.registry.clone(),
        org.clone(),
        found.provider_id.as_deref(),
    );
    let result = match cmd {
        AccountCommand::Test { .. } => {
            let report =
                test_account(&state.store, &org, &account, &provider, Timeouts::default()).await?;
            println!("{} ({})", report.server, report.security);
            for step in &report.steps {
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
            if report.ok {
                Ok(())
            } else {
                Err(anyhow::anyhow!("the connection test failed"))
            }
        }
        AccountCommand::Sync { .. } => {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {msg:20} [{bar:30}] {pos}/{len} messages, {binary_bytes_per_sec}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            // The same lease the server's scheduler takes: never two syncs of one account.
            let node = format!("cli-{}", std::process::id());
            if !state
                .store
                .try_lease_account(&org, &account, AccountLease::Sync, &node, 15 * 60 * 1000)
                .await?
            {
                anyhow::bail!(
                    "account {account} is being synced right now (by a server?); try again later"
                );
            }
            let mut bytes = 0u64;
            let report = sync_account(&state.store, &org, &account, &provider, |p| match p {
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
            })
            .await;
            bar.finish_and_clear();
            state
                .store
                .release_account_lease(&org, &account, AccountLease::Sync, &node)
                .await?;
            match report {
                Ok(report) => {
                    println!("{}", serde_json::to_string_pretty(&report)?);
                    println!("{} bytes downloaded", bytes);
                    Ok(())
                }
                Err(e) => Err(anyhow::anyhow!("sync failed: {e}")),
            }
        }
    };
    state.store.close().await;
    result
}
