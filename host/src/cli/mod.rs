//! The `mailroom` command line: argument parsing and dispatch. Each
//! subcommand's work lives in its own module; this one only wires them.

pub mod plugin;

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
}

/// Sets up logging: `RUST_LOG` filters (default `info`); text or JSON.
pub fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Plugin(cmd) => plugin::run(cmd).await,
    }
}
