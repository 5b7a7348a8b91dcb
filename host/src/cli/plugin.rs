//! `mailroom plugin new|check|run`: what a plugin author runs before
//! uploading. `new` writes a project to start from (see [`crate::scaffold`]);
//! `check` reports what the host sees in a component and every admission
//! problem; `run` calls it on real input under the default limits and prints
//! the JSON result with the time taken and the memory used.

use crate::scaffold::{self, Language};
use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use mailroom_core::destinations::DestinationPolicy;
use mailroom_core::ids::OrgId;
use mailroom_core::mime;
use mailroom_plugin_host::bindings::latest::{provider, types, workflow};
use mailroom_plugin_host::convert::{MessageContext, plugin_message};
use mailroom_plugin_host::invoke::{Call, CallReport, Outcome};
use mailroom_plugin_host::metadata::Permission;
use mailroom_plugin_host::outbound::grant::HostRule;
use mailroom_plugin_host::outbound::send::check_ca;
use mailroom_plugin_host::outbound::{OutboundAccess, OutboundClients, OutboundGrant};
use mailroom_plugin_host::registry::memory::InMemoryStorage;
use mailroom_plugin_host::registry::validate_metadata;
use mailroom_plugin_host::state::PluginScope;
use mailroom_plugin_host::{EngineSettings, Limits, LoadedComponent, PluginEngine, PluginKind};
use sha2::Digest;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Subcommand)]
// Parsed once per run: the size of the enum does not matter.
#[allow(clippy::large_enum_variant)]
pub enum PluginCommand {
    /// Write a new plugin project (Rust, JavaScript or Python) that builds with
    /// one command into a component the host accepts.
    New(NewArgs),
    /// Print a component's kind, contract version, metadata, imports and exports,
    /// and every reason the host would refuse it. Exits non-zero if it would.
    Check { file: PathBuf },
    /// Run a component on real input and print the JSON result, time and memory.
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The plugin's name (a-z, 0-9, `-`); also the folder created.
    name: String,
    /// The language to write it in.
    #[arg(long, value_enum)]
    lang: Language,
    /// What the plugin is.
    #[arg(long, value_enum)]
    kind: KindArg,
    /// Where to create the project (default: ./NAME). Must not exist or be empty.
    #[arg(long)]
    dir: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum KindArg {
    Classifier,
    Workflow,
    Provider,
    FilterImporter,
}

impl From<KindArg> for PluginKind {
    fn from(kind: KindArg) -> Self {
        match kind {
            KindArg::Classifier => PluginKind::Classifier,
            KindArg::Workflow => PluginKind::Workflow,
            KindArg::Provider => PluginKind::Provider,
            KindArg::FilterImporter => PluginKind::FilterImporter,
        }
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    file: PathBuf,
    /// A message (.eml) for classifiers, workflows and provider `normalize`.
    #[arg(long)]
    eml: Option<PathBuf>,
    /// A filter export for filter importers.
    #[arg(long)]
    filter: Option<PathBuf>,
    /// The filter format id (default: the one whose extension matches the file).
    #[arg(long)]
    format: Option<String>,
    /// Workflow trigger.
    #[arg(long, value_enum, default_value_t = Trigger::Incoming)]
    trigger: Trigger,
    /// Provider: map this server mailbox name to a folder role.
    #[arg(long)]
    mailbox: Option<String>,
    /// Provider: attributes of `--mailbox` (e.g. `\Sent`); repeatable.
    #[arg(long = "attribute")]
    attributes: Vec<String>,
    /// Provider: diagnose this server error message (the login step).
    #[arg(long)]
    error: Option<String>,
    /// Plugin config `KEY=VALUE`; repeatable.
    #[arg(long = "config", value_parser = parse_key_value)]
    config: Vec<(String, String)>,
    /// Deadline in milliseconds (default: the host's default).
    #[arg(long)]
    deadline_ms: Option<u64>,
    /// Memory cap in MiB (default: the host's default).
    #[arg(long)]
    memory_mib: Option<u64>,
    /// Grant the plugin outbound HTTPS to this host (`host`, `host:port`,
    /// `*.domain`), as an admin would with `PUT /v1/plugins/{name}/outbound-http`;
    /// repeatable. Here the host may also be on this machine's network.
    #[arg(long = "allow-http")]
    allow_http: Vec<String>,
    /// A CA certificate (PEM file) trusted for `--allow-http` hosts besides the public roots.
    #[arg(long, requires = "allow_http")]
    http_ca: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Trigger {
    Incoming,
    Outgoing,
    ReplyReceived,
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected KEY=VALUE, got `{s}`"))
}

pub async fn run(cmd: PluginCommand) -> anyhow::Result<()> {
    if let PluginCommand::New(args) = cmd {
        return new_project(args);
    }
    // A local engine: nothing is stored but the precompiled components of
    // the last few plugins checked or run, so running the same build again
    // takes milliseconds instead of seconds (JavaScript and Python embed a
    // whole interpreter).
    let engine = PluginEngine::new(&EngineSettings {
        cache_dir: local_cache_dir(),
        ..EngineSettings::default()
    })?;
    match cmd {
        PluginCommand::Check { file } => check(&engine, &file).await,
        PluginCommand::Run(args) => run_plugin(&engine, args).await,
        PluginCommand::New(args) => new_project(args),
    }
}

fn new_project(args: NewArgs) -> anyhow::Result<()> {
    let dir = args.dir.unwrap_or_else(|| PathBuf::from(&args.name));
    let project = scaffold::create(&dir, args.lang, args.kind.into(), &args.name)?;
    println!(
        "Created a {} {} plugin in {} ({} files).",
        args.lang,
        PluginKind::from(args.kind),
        project.dir.display(),
        project.files.len()
    );
    println!("\nBuild it, check it and run it on the sample:\n");
    println!("    cd {}", project.dir.display());
    println!("    {}", project.build);
    println!("    mailroom plugin check {}", project.wasm);
    println!("    {}", project.run);
    println!("\nREADME.md says how to upload it.");
    Ok(())
}

/// How many precompiled components the local cache keeps.
const LOCAL_CACHE_ENTRIES: usize = 8;

/// `MAILROOM_PLUGIN_CACHE_DIR` (empty: no cache), else the user's cache
/// directory (`$XDG_CACHE_HOME` or `~/.cache`) + `mailroom/plugins`.
fn local_cache_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = std::env::var_os("MAILROOM_PLUGIN_CACHE_DIR") {
        return (!dir.is_empty()).then(|| PathBuf::from(dir));
    }
    let cache = var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(cache.join("mailroom").join("plugins"))
}

/// Keeps the precompiled form of a component that passed admission, then
/// trims the cache to its last few entries.
async fn keep_compiled(engine: &Arc<PluginEngine>, component: &Arc<LoadedComponent>) {
    let (engine, component) = (engine.clone(), component.clone());
    let _ = tokio::task::spawn_blocking(move || {
        engine.keep(&component);
        engine.retain_newest_artifacts(LOCAL_CACHE_ENTRIES);
    })
    .await;
}

/// Compiles a component off the async threads (it can take seconds).
async fn load(
    engine: &Arc<PluginEngine>,
    bytes: Vec<u8>,
) -> Result<Arc<mailroom_plugin_host::LoadedComponent>, mailroom_plugin_host::PluginError> {
    let engine = engine.clone();
    tokio::task::spawn_blocking(move || engine.load(&bytes))
        .await
        .map_err(|e| mailroom_plugin_host::PluginError::Host(format!("compile task failed: {e}")))?
}

fn read(file: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))
}

async fn check(engine: &Arc<PluginEngine>, file: &Path) -> anyhow::Result<()> {
    let bytes = read(file)?;
    println!("file:      {} ({} bytes)", file.display(), bytes.len());
    println!("sha256:    {}", hex::encode(sha2::Sha256::digest(&bytes)));
    // Compiled once: the inspection admits the component it compiled.
    let inspection = engine.inspect(&bytes);
    let mut problems: Vec<String> = inspection.problems.iter().map(|e| e.to_string()).collect();
    if let Some(shape) = &inspection.shape {
        println!("imports:   {}", list_or_none(&shape.imports));
        println!("exports:   {}", list_or_none(&shape.exports));
    }
    if let Some(component) = inspection.component {
        keep_compiled(engine, &component).await;
        println!("kind:      {}", component.world.kind);
        println!(
            "contract:  mailroom:plugin@{} ({})",
            component.world.version,
            component.world.name()
        );
        let scope = Arc::new(PluginScope::isolated(OrgId::from("local"), "check"));
        let call = Call {
            engine,
            component: &component,
            scope,
            limits: Limits::default(),
        };
        match call.metadata().await.result {
            Ok(meta) => {
                println!("metadata:  {}", serde_json::to_string_pretty(&meta)?);
                // The rule upload applies, so `check` approves what upload accepts.
                if let Err(e) = validate_metadata(&meta, &component) {
                    problems.push(e.to_string());
                }
            }
            Err(e) => problems.push(e.to_string()),
        }
        // The golden set upload runs, case by case.
        let org = OrgId::from("local");
        match mailroom_plugin_host::golden::run(engine, &component, &org, Limits::default()).await {
            Ok(cases) => {
                println!("golden set:");
                for c in cases {
                    println!(
                        "  {:<8} {:<15} {:>8.2} ms  {}: {}",
                        format!("{:?}", c.outcome).to_lowercase(),
                        c.call,
                        c.elapsed_ms,
                        c.case,
                        c.answer
                    );
                }
            }
            Err(failure) => problems.push(failure.to_string()),
        }
    }
    if problems.is_empty() {
        println!("\nOK: the host would accept this component.");
        return Ok(());
    }
    println!("\nThe host would refuse this component:");
    for p in &problems {
        println!("  - {p}");
    }
    bail!("{} admission problem(s)", problems.len())
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".into()
    } else {
        items.join(", ")
    }
}

async fn run_plugin(engine: &Arc<PluginEngine>, args: RunArgs) -> anyhow::Result<()> {
    let bytes = read(&args.file)?;
    let component = load(engine, bytes)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    keep_compiled(engine, &component).await;
    let mut limits = Limits::default();
    limits.deadline_ms = args.deadline_ms.unwrap_or(limits.deadline_ms);
    limits.memory_bytes = args.memory_mib.map_or(limits.memory_bytes, |m| m << 20);

    let call = |scope: Arc<PluginScope>| Call {
        engine,
        component: &component,
        scope,
        limits,
    };
    let isolated = Arc::new(PluginScope::isolated(OrgId::from("local"), "run"));
    let metadata = call(isolated)
        .metadata()
        .await
        .result
        .map_err(|e| anyhow::anyhow!("metadata: {e}"))?;
    let scope = Arc::new(PluginScope {
        config: Arc::new(args.config.iter().cloned().collect::<BTreeMap<_, _>>()),
        kv: metadata
            .permissions
            .contains(&Permission::KeyValue)
            .then(Arc::default),
        outbound: local_outbound(&args)?,
        ..PluginScope::isolated(OrgId::from("local"), metadata.name.clone())
    });
    let message = || -> anyhow::Result<types::Message> {
        let path = args
            .eml
            .as_ref()
            .context("this plugin needs a message: pass --eml FILE.eml")?;
        let raw = read(path)?;
        let id = hex::encode(sha2::Sha256::digest(&raw));
        let parsed = mime::parse(&raw);
        for p in &parsed.problems {
            eprintln!("note: {}: {p}", path.display());
        }
        Ok(plugin_message(
            &parsed,
            MessageContext {
                id,
                account: "local@example.invalid".into(),
                ..Default::default()
            },
        ))
    };

    let (result, report) = match component.world.kind {
        PluginKind::Classifier => json(call(scope).classify(&message()?).await),
        PluginKind::Workflow => {
            let trigger = match args.trigger {
                Trigger::Incoming => workflow::Trigger::Incoming,
                Trigger::Outgoing => workflow::Trigger::Outgoing,
                Trigger::ReplyReceived => workflow::Trigger::ReplyReceived,
            };
            let event = workflow::Event {
                trigger,
                message: message()?,
                classifications: vec![],
                links: vec![],
            };
            json(call(scope).on_event(&event).await)
        }
        PluginKind::Provider => {
            if let Some(name) = &args.mailbox {
                let mailbox = types::Mailbox {
                    name: name.clone(),
                    delimiter: Some("/".into()),
                    attributes: args.attributes.clone(),
                };
                json(call(scope).map_folder(&mailbox).await)
            } else if let Some(error) = &args.error {
                let problem = provider::ConnectionProblem {
                    step: provider::ConnectionStep::Login,
                    protocol: "imap".into(),
                    server: "localhost".into(),
                    message: error.clone(),
                };
                json(call(scope).diagnose(&problem).await)
            } else if args.eml.is_some() {
                json(call(scope).normalize(&message()?).await)
            } else {
                json(call(scope).provider_info().await)
            }
        }
        PluginKind::FilterImporter => {
            let path = args
                .filter
                .as_ref()
                .context("a filter importer needs a file: pass --filter FILE")?;
            let data = read(path)?;
            let format = match &args.format {
                Some(f) => f.clone(),
                None => pick_format(engine, &component, path).await?,
            };
            json(call(scope).import_filters(&format, &data).await)
        }
    };
    let output = serde_json::json!({
        "plugin": metadata,
        "result": result.map_err(|e| anyhow::anyhow!("{e}"))?,
        "elapsed_ms": report.elapsed.as_secs_f64() * 1000.0,
        "peak_memory_bytes": report.peak_memory_bytes,
    });
    println!("{}", serde_json::to_string_pretty(&output)?);
    Ok(())
}

fn json<T: serde::Serialize>(
    outcome: Outcome<T>,
) -> (
    Result<serde_json::Value, mailroom_plugin_host::PluginError>,
    CallReport,
) {
    let result = outcome
        .result
        .map(|v| serde_json::to_value(v).unwrap_or(serde_json::Value::Null));
    (result, outcome.report)
}

async fn pick_format(
    engine: &Arc<PluginEngine>,
    component: &Arc<mailroom_plugin_host::LoadedComponent>,
    path: &Path,
) -> anyhow::Result<String> {
    let scope = Arc::new(PluginScope::isolated(OrgId::from("local"), "run"));
    let formats = Call {
        engine,
        component,
        scope,
        limits: Limits::default(),
    }
    .filter_formats()
    .await
    .result
    .map_err(|e| anyhow::anyhow!("formats: {e}"))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    formats
        .iter()
        .find(|f| f.extensions.iter().any(|e| e.eq_ignore_ascii_case(&ext)))
        .or_else(|| (formats.len() == 1).then(|| &formats[0]))
        .map(|f| f.id.clone())
        .with_context(|| {
            let ids: Vec<_> = formats.iter().map(|f| f.id.as_str()).collect();
            format!(
                "cannot tell the format of {}: pass --format, one of {}",
                path.display(),
                ids.join(", ")
            )
        })
}

/// The `--allow-http` grant of a local run: checked as an upload's would
/// be, the hosts it names allowed whatever network they are on (a
/// plugin's author testing against a service on their own machine).
fn local_outbound(args: &RunArgs) -> anyhow::Result<Option<Arc<OutboundAccess>>> {
    if args.allow_http.is_empty() {
        return Ok(None);
    }
    let ca_pem = match &args.http_ca {
        Some(path) => Some(
            String::from_utf8(read(path)?)
                .with_context(|| format!("{} is not a PEM file", path.display()))?,
        ),
        None => None,
    };
    let grant = OutboundGrant {
        ca_pem,
        ..OutboundGrant::hosts(args.allow_http.iter().cloned())
    };
    grant
        .check()
        .map_err(|e| anyhow::anyhow!("--allow-http: {e}"))?;
    if let Some(pem) = &grant.ca_pem {
        check_ca(pem).map_err(|e| anyhow::anyhow!("--http-ca: {e}"))?;
    }
    let storage = InMemoryStorage::default();
    let hosts = grant
        .hosts
        .iter()
        .filter_map(|h| HostRule::parse(h).ok())
        .map(|rule| rule.host().to_owned())
        .collect();
    storage.set_destination_policy(
        &OrgId::from("local"),
        DestinationPolicy {
            allowed_hosts: hosts,
            ..Default::default()
        },
    );
    Ok(Some(Arc::new(OutboundAccess::new(
        grant,
        OutboundClients::new(Arc::new(storage)),
    ))))
}
