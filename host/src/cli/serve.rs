//! `mailroom serve`: loads the settings, opens the store, starts the plugin
//! engine and registry, and serves the HTTP API until Ctrl-C or SIGTERM,
//! letting requests in flight finish.

use crate::api::{self, AppState};
use crate::config::{Overrides, Settings};
use anyhow::Context;
use clap::Args;
use mailroom_pipeline::Pipeline;
use mailroom_plugin_host::registry::PluginRegistry;
use mailroom_plugin_host::{EngineSettings, PluginEngine};
use mailroom_store::{LoadedKey, SQLITE_FILE, Store, StoreConfig, sqlite_url};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Where the data is: shared by every command that opens the store.
#[derive(Clone, Debug, Default, Args)]
pub struct StoreArgs {
    /// TOML config file (also `MAILROOM_CONFIG`); environment variables and flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Data directory (default `./mailroom-data`; also `MAILROOM_DATA_DIR`).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// `postgres://…` or `sqlite:…` (default: a SQLite file in the data directory).
    #[arg(long)]
    pub database_url: Option<String>,
    /// File holding the key that encrypts mail credentials (default `<data-dir>/secret.key`).
    #[arg(long)]
    pub secret_key_file: Option<PathBuf>,
}

impl StoreArgs {
    pub fn overrides(&self, listen: Option<SocketAddr>, log_json: bool) -> Overrides {
        Overrides {
            config: self.config.clone(),
            listen,
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            secret_key_file: self.secret_key_file.clone(),
            log_json,
        }
    }
}

#[derive(Clone, Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080; also `MAILROOM_LISTEN`).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub async fn run(args: ServeArgs, log_json: bool) -> anyhow::Result<()> {
    let settings = Settings::load(&args.store.overrides(args.listen, log_json))?;
    super::init_logging(settings.log_json);
    let state = open_state(settings).await?;
    let listener = bind(state.settings.listen).await?;
    tracing::info!(address = %listener.local_addr()?, data_dir = %state.settings.data_dir.display(), "serving the Mailroom API");
    serve(listener, state, shutdown_signal()).await
}

/// Opens the store the settings name (creating the data directory, the
/// SQLite file and the secret key on first start).
pub async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let store = match &settings.secret_key_file {
        None => {
            Store::open(&StoreConfig {
                data_dir: settings.data_dir.clone(),
                database_url: settings.database_url.clone(),
            })
            .await
        }
        Some(key_file) => {
            mailroom_core::private_fs::create_private_dir(&settings.data_dir).with_context(
                || {
                    format!(
                        "cannot create data directory {}",
                        settings.data_dir.display()
                    )
                },
            )?;
            let key = LoadedKey::load_or_create_file(key_file)?;
            let url = match &settings.database_url {
                Some(url) => url.clone(),
                None => sqlite_url(&settings.data_dir.join(SQLITE_FILE))?,
            };
            Store::connect(&url, key).await
        }
    };
    store.context("cannot open the store")
}

/// The store, the plugin engine (precompiled artifacts cached in the data
/// directory) and the registry backed by the store.
pub async fn open_state(settings: Settings) -> anyhow::Result<AppState> {
    let store = open_store(&settings).await?;
    let registry = open_registry(&settings, &store)?;
    // Artifacts of plugins no org runs any more (removed while this server
    // was down, or by another node) take disk for nothing.
    if let Err(e) = registry.collect_unused_artifacts().await {
        tracing::warn!(error = %e, "could not clean the plugin cache");
    }
    let node = node_identity(&settings.data_dir)?;
    Ok(AppState::new(store, registry, settings).with_node_identity(node))
}

/// The plugin engine (precompiled artifacts cached in the data directory)
/// and the registry backed by `store`.
pub fn open_registry(settings: &Settings, store: &Store) -> anyhow::Result<Arc<PluginRegistry>> {
    let engine = PluginEngine::new(&EngineSettings {
        cache_dir: Some(settings.plugin_cache_dir()),
        ..EngineSettings::default()
    })
    .map_err(|e| anyhow::anyhow!("cannot start the plugin engine: {e}"))?;
    Ok(PluginRegistry::new(
        engine,
        Arc::new(store.clone()),
        crate::config::registry_settings(settings),
    ))
}

/// This server's identity in account leases, kept in `<data-dir>/node-id`
/// (created on first start): a restarted server knows the leases its
/// previous run left (a crash, `kill -9`) as its own and gives them back
/// at once. Servers sharing one PostgreSQL each have their own data
/// directory, hence their own identity.
fn node_identity(data_dir: &std::path::Path) -> anyhow::Result<String> {
    let path = data_dir.join("node-id");
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => return Ok(id.trim().to_owned()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
    let id = mailroom_sync::scheduler::new_node_id();
    std::fs::create_dir_all(data_dir)
        .and_then(|()| std::fs::write(&path, format!("{id}\n")))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(id)
}

pub async fn bind(address: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))
}

/// Serves until `shutdown` completes, then lets requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store = state.store.clone();
    let state_http = state.settings.http;
    let pipeline = Arc::new(Pipeline::new(store.clone(), state.registry.clone()));
    let worker = tokio::spawn(mailroom_pipeline::run_worker(pipeline));
    // What the runs left pending for outside effects: tasks, notifications.
    let executors = tokio::spawn(mailroom_actions::run_worker(store.clone()));
    // The outbox: queued mail goes out, woken by each API send.
    let sender = Arc::new(mailroom_send::Sender::new(
        store.clone(),
        Some(state.registry.clone()),
        mailroom_send::SendOptions::default(),
    ));
    let outbox = tokio::spawn(mailroom_send::run_worker(
        sender,
        state.outbox_wakeup.clone(),
    ));
    // Push watchers (IDLE, STATUS polls) for IMAP accounts, full syncs
    // for the rest.
    let scheduler = state.sync.clone();
    if let Err(e) = scheduler.recover().await {
        tracing::warn!(error = %e, "cannot give back the leases of this server's previous run; they lapse within a minute");
    }
    let syncing = tokio::spawn(scheduler.clone().run());
    let app = api::router(state);
    // Connections carry their client address (for /metrics' loopback rule
    // and the failed-authentication budget).
    super::connections::serve(listener, app, state_http, shutdown)
        .await
        .context("the HTTP server failed")?;
    // Stopping between runs is safe: a run's results commit with its end.
    worker.abort();
    // An action's effect commits with its outcome; one cut off mid-way is
    // claimed again when its lease runs out.
    executors.abort();
    // Every outbox step commits its own state change; an entry cut off
    // mid-step is taken up again when its lease runs out.
    outbox.abort();
    // A sync cut off here resumes from its last committed batch next start.
    syncing.abort();
    let _ = syncing.await;
    scheduler.stop().await;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
