//! The `mailroom` command line: argument parsing and dispatch. Each
//! subcommand's work lives in its own module; this one only wires them.

pub mod account;
pub mod connections;
pub mod demo;
pub mod org;
pub mod plugin;
pub mod serve;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "mailroom",
    version,
    about = "Self-hosted email integration host for a CRM, extended by WebAssembly plugins"
)]
pub struct Cli {
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, global = true, env = "MAILROOM_LOG_JSON")]
    pub log_json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check and run plugin components locally (for plugin authors).
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Run the HTTP API server.
    Serve(serve::ServeArgs),
    /// Create and list orgs (operator commands, run next to the server's data).
    #[command(subcommand)]
    Org(org::OrgCommand),
    /// Start a throwaway server with a demo org, the bundled plugins and sample mail.
    Demo(demo::DemoArgs),
    /// Test or sync one mail account (operator commands, run next to the server's data).
    #[command(subcommand)]
    Account(account::AccountCommand),
}

/// Sets up logging: `RUST_LOG` filters (default `info`); text or JSON.
/// Called once, by [`run`], when the settings are known.
pub fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // try_init: a test harness or an embedding program may have set one up already.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Plugin(cmd) => {
            init_logging(cli.log_json);
            plugin::run(cmd).await
        }
        Command::Serve(args) => serve::run(args, cli.log_json).await,
        Command::Org(cmd) => org::run(cmd, cli.log_json).await,
        Command::Demo(args) => demo::run(args, cli.log_json).await,
        Command::Account(cmd) => account::run(cmd, cli.log_json).await,
    }
}
