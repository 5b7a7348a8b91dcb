//! Sync benchmark: seeds a local Dovecot with N realistic messages spread
//! over 50 folders, then measures an initial IMAP sync into a SQLite store
//! with the bundled plugins installed and the pipeline worker running
//! beside it (messages/s, MB/s, peak memory), and a resync with nothing
//! new (what every scheduler pass costs for an idle account).
//!
//! Run: `cargo bench -p mailroom --bench sync` (defaults: 10,000 messages,
//! 50 folders); `-- --messages 2000 --folders 20` for a quicker look;
//! `-- --rules 200` stores the rules benchmark's 200 mixed rules for the
//! account first, so the pipeline evaluates them on every message.
//! Numbers are in the README.

// Test code: a failed set-up fails the test with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "sync/corpus.rs"]
mod corpus;
#[allow(dead_code)]
#[path = "../tests/all/imap_sync/support.rs"]
mod support;

#[allow(dead_code)]
#[path = "../tests/all/test_engine.rs"]
mod test_engine;

#[path = "../crates/rules/benches/rules/mixed.rs"]
mod mixed_rules;

use async_imap::Client;
use mailroom::pipeline::Pipeline;
use mailroom::plugin::registry::PluginRegistry;
use mailroom::store::rules::RuleScope;
use mailroom::store::testing::TestDb;
use mailroom::sync::{PluginProvider, SyncOptions, SyncProgress, sync_account_with};
use mailroom_test_servers::{Dovecot, Layout};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

struct Args {
    messages: usize,
    folders: usize,
    /// Run the pipeline after the sync instead of beside it, to see each
    /// stage's own rate.
    pipeline_after: bool,
    /// Rules stored for the account before the sync.
    rules: usize,
}

fn args() -> Args {
    let mut parsed = Args {
        messages: 10_000,
        folders: 50,
        pipeline_after: false,
        rules: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut number = |name: &str| -> usize {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} needs a number"))
        };
        match arg.as_str() {
            "--messages" => parsed.messages = number("--messages"),
            "--folders" => parsed.folders = number("--folders").max(1),
            // cargo bench passes `--bench`; anything else is a mistake.
            "--pipeline-after" => parsed.pipeline_after = true,
            "--rules" => parsed.rules = number("--rules"),
            "--bench" => {}
            other => panic!(
                "unknown argument {other:?}; use --messages N --folders N --rules N --pipeline-after"
            ),
        }
    }
    parsed
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = args();
    let dovecot = Dovecot::start(Layout::SpecialUse);
    let folders = folder_names(args.folders);
    let started = Instant::now();
    let seeded_bytes = seed(&dovecot, &folders, args.messages).await;
    println!(
        "seeded {} messages ({:.1} MB) into {} folders in {:.1} s",
        args.messages,
        mb(seeded_bytes),
        folders.len(),
        started.elapsed().as_secs_f64()
    );

    let db = TestDb::sqlite().await;
    let tenant = support::tenant(&db.store).await;
    let account = support::plain_account(&db.store, &tenant, &dovecot).await;
    if args.rules > 0 {
        let rules: Vec<_> = (0..args.rules).map(mixed_rules::mixed_rule).collect();
        db.store
            .create_rules(
                &tenant.org,
                &RuleScope::Account(account.clone()),
                &rules,
                None,
            )
            .await
            .expect("store the rules");
        println!("{} mixed rules stored for the account", args.rules);
    }
    let registry = bundled_registry(&db, &tenant.org).await;
    let mapper = PluginProvider::new(registry.clone(), tenant.org.clone(), Some("generic"));
    let options = SyncOptions::default();

    // The pipeline worker runs beside the sync, as in `mailroom serve`.
    let syncing = Arc::new(AtomicBool::new(!args.pipeline_after));
    let new_worker = || {
        pipeline_worker(
            Pipeline::new(db.store.clone(), registry.clone()),
            syncing.clone(),
        )
    };
    let pipeline = (!args.pipeline_after).then(|| tokio::spawn(new_worker()));
    let mut bytes = 0u64;
    let cpu_before = CpuTime::now();
    let machine_before = machine_ticks();
    let started = Instant::now();
    let report = sync_account_with(&db.store, &tenant.org, &account, &mapper, &options, |p| {
        if let SyncProgress::BatchCommitted { bytes: b, .. } = p {
            bytes += b;
        }
    })
    .await
    .expect("initial sync");
    let sync_time = started.elapsed();
    let sync_cpu = CpuTime::now().since(cpu_before);
    syncing.store(false, Ordering::SeqCst);
    let processed = match pipeline {
        Some(running) => running.await.expect("pipeline worker"),
        None => new_worker().await,
    };
    let pipeline_time = started.elapsed();
    let total_cpu = CpuTime::now().since(cpu_before);
    let machine_after = machine_ticks();
    let machine_busy =
        (machine_after.0 - machine_before.0) / (machine_after.1 - machine_before.1).max(1.0);
    let stored = report.folders.iter().map(|f| f.new_messages).sum::<u64>();
    assert_eq!(
        stored, args.messages as u64,
        "every seeded message is stored"
    );
    assert_eq!(
        processed, args.messages,
        "every message went through the pipeline"
    );

    let started = Instant::now();
    let resync = sync_account_with(&db.store, &tenant.org, &account, &mapper, &options, |_| {})
        .await
        .expect("resync");
    let resync_time = started.elapsed();
    let new_on_resync = resync.folders.iter().map(|f| f.new_messages).sum::<u64>();
    assert_eq!(new_on_resync, 0, "a resync with nothing new stores nothing");

    let secs = sync_time.as_secs_f64();
    println!("initial sync: {stored} messages, {:.1} MB", mb(bytes));
    println!(
        "  sync:                 {secs:.2} s  {:>8.0} messages/s  {:>6.1} MB/s",
        stored as f64 / secs,
        mb(bytes) / secs
    );
    println!(
        "  sync + pipeline done: {:.2} s  {:>8.0} messages/s",
        pipeline_time.as_secs_f64(),
        stored as f64 / pipeline_time.as_secs_f64()
    );
    println!(
        "  CPU time of this process: sync {:.2} s, sync + pipeline {:.2} s \
         ({:.0} µs per message: {:.0} user, {:.0} system)",
        sync_cpu.total(),
        total_cpu.total(),
        total_cpu.total() * 1e6 / stored as f64,
        total_cpu.user * 1e6 / stored as f64,
        total_cpu.system * 1e6 / stored as f64,
    );
    println!(
        "  machine CPU busy (Mailroom, Dovecot and anything else): {:.0}% of {} cores",
        machine_busy * 100.0,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("  peak memory (RSS):    {:.0} MB", peak_rss_mb());
    println!(
        "no-change resync of {} folders: {:.0} ms",
        resync.folders.len(),
        resync_time.as_secs_f64() * 1000.0
    );
}

/// INBOX plus `n - 1` project folders.
fn folder_names(n: usize) -> Vec<String> {
    std::iter::once("INBOX".to_owned())
        .chain((1..n).map(|i| format!("Projects/Client {i:02}")))
        .collect()
}

/// Appends the corpus over two IMAP connections: half into INBOX, the
/// rest spread over the other folders. Returns the bytes seeded.
async fn seed(dovecot: &Dovecot, folders: &[String], messages: usize) -> u64 {
    let user = dovecot.user().clone();
    let port = dovecot.ports().imap;
    let mut first = login(port, &user.name, &user.password).await;
    for folder in &folders[1..] {
        first.create(folder).await.expect("create folder");
    }
    let _ = first.logout().await;
    let workers = 2;
    let mut tasks = Vec::new();
    for worker in 0..workers {
        let folders = folders.to_vec();
        let (name, password) = (user.name.clone(), user.password.clone());
        tasks.push(tokio::spawn(async move {
            let mut session = login(port, &name, &password).await;
            let mut corpus = corpus::Corpus::new(worker as u64);
            let mut bytes = 0u64;
            for n in (worker..messages).step_by(workers) {
                let raw = corpus.message(n);
                bytes += raw.len() as u64;
                let folder = if n % 2 == 0 || folders.len() == 1 {
                    &folders[0]
                } else {
                    &folders[1 + n / 2 % (folders.len() - 1)]
                };
                session
                    .append(folder, None, None, &raw)
                    .await
                    .unwrap_or_else(|e| panic!("append to {folder}: {e}"));
            }
            let _ = session.logout().await;
            bytes
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.expect("seeding task");
    }
    total
}

async fn login(port: u16, user: &str, password: &str) -> async_imap::Session<TcpStream> {
    let tcp = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect to Dovecot");
    let mut client = Client::new(tcp);
    client
        .read_response()
        .await
        .expect("read greeting")
        .expect("a greeting");
    client
        .login(user, password)
        .await
        .map_err(|(e, _)| e)
        .expect("log in to Dovecot")
}

/// The store's plugin registry with every bundled plugin installed (the
/// providers, the keyword classifier, the follow-up workflow, …).
async fn bundled_registry(db: &TestDb, org: &mailroom::ids::OrgId) -> Arc<PluginRegistry> {
    let registry = support::registry_with_generic_provider(&db.store, org).await;
    for done in mailroom::bundled::install_all(&registry, org).await {
        if let Err(e) = done.result {
            panic!("install bundled plugin {}: {e}", done.package);
        }
    }
    registry
}

/// Works through pipeline runs until the sync is over and none are left;
/// returns how many it processed.
async fn pipeline_worker(pipeline: Pipeline, syncing: Arc<AtomicBool>) -> usize {
    let mut processed = 0;
    loop {
        let still_syncing = syncing.load(Ordering::SeqCst);
        let report = pipeline.run_pending(200).await.expect("pipeline pass");
        processed += report.processed;
        if report.processed == 0 {
            if !still_syncing {
                return processed;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_000_000.0
}

/// CPU time this process has used so far, in seconds.
#[derive(Clone, Copy)]
struct CpuTime {
    user: f64,
    system: f64,
}

impl CpuTime {
    fn now() -> Self {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        // Fields after the command name (which may hold spaces) in parentheses.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or("", |(_, rest)| rest)
            .split_whitespace()
            .collect();
        let seconds = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
                / 100.0
        };
        // utime and stime are fields 14 and 15 of stat(5), 12 and 13 here.
        CpuTime {
            user: seconds(11),
            system: seconds(12),
        }
    }

    fn since(self, before: CpuTime) -> CpuTime {
        CpuTime {
            user: self.user - before.user,
            system: self.system - before.system,
        }
    }

    fn total(self) -> f64 {
        self.user + self.system
    }
}

/// Busy and total time of all the machine's cores so far (`/proc/stat`), to
/// show how much of the machine the sync and Dovecot together used.
fn machine_ticks() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let values: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let total: f64 = values.iter().sum();
    // idle and iowait are the 4th and 5th values.
    let idle = values.get(3).copied().unwrap_or(0.0) + values.get(4).copied().unwrap_or(0.0);
    (total - idle, total)
}

/// This process's peak resident memory (`VmHWM`).
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}
