//! The `mailroom` command: parses the command line and hands it to [`mailroom::cli::run`].

use clap::Parser;
use mailroom::cli::{self, Cli};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Logging starts in `cli::run`, once the config file (which may ask for JSON logs) is read.
    let cli = Cli::parse();
    match cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
