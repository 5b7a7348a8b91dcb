//! One plugin call: a fresh `Store` and instance from the component's
//! `InstancePre`, the deadline, memory cap and size caps switched on, the
//! typed export called, and whatever went wrong turned into a `PluginError`.
//! Calls are async: running wasm yields to the executor at every epoch tick
//! and traps once the wall-clock deadline has passed, and a call still
//! waiting at its deadline (in a WASI sleep or poll) is dropped, so every
//! call ends by its deadline whatever the plugin does. What a call returns
//! is checked against its range (`validate`) before anyone sees it.

use super::bindings::dispatch::WrongWorld;
use super::bindings::latest as api;
use super::engine::{LoadedComponent, PluginEngine};
use super::error::{PluginError, shorten, shorten_to_tail};
use super::kv::KvViolation;
use super::limits::Limits;
use super::metadata::PluginMetadata;
use super::state::{InvocationState, PluginScope};
use super::validate::PluginOutput;
use mailroom_core::text::loggable;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::Store;

/// What one call cost, and the key-value writes it wants applied.
#[derive(Debug, Default, Clone)]
pub struct CallReport {
    pub elapsed: Duration,
    pub peak_memory_bytes: u64,
    pub kv_changes: BTreeMap<String, Option<Vec<u8>>>,
}

/// The result of a call with its report; the report exists for failures too.
#[derive(Debug)]
pub struct Outcome<T> {
    pub result: Result<T, PluginError>,
    pub report: CallReport,
}

/// Everything a call needs besides its input.
pub struct Call<'a> {
    pub engine: &'a PluginEngine,
    pub component: &'a LoadedComponent,
    pub scope: Arc<PluginScope>,
    pub limits: Limits,
}

/// One bounded call: a fresh store under the call's limits, `$call` (an
/// expression over the world `$pre` and the store `$store`) awaited until it
/// finishes or the wall-clock deadline passes, then the outcome. A macro
/// rather than a function taking a closure: the call's future borrows the
/// store and the caller's input at once.
macro_rules! bounded_call {
    ($self:ident, $input:expr, |$pre:ident, $store:ident| $call:expr) => {{
        let mut running = match $self.start($input) {
            Ok(running) => running,
            Err(refused) => {
                return Outcome {
                    result: Err(refused),
                    report: CallReport::default(),
                };
            }
        };
        let $pre = &$self.component.pre;
        let $store = &mut running.store;
        let raw = tokio::time::timeout(running.deadline, $call).await;
        running.finish(raw)
    }};
}

impl Call<'_> {
    pub async fn metadata(self) -> Outcome<PluginMetadata> {
        bounded_call!(self, 0, |pre, store| async {
            Ok(Ok(pre.metadata(store).await?))
        })
    }

    pub async fn classify(
        self,
        message: &api::types::Message,
    ) -> Outcome<api::types::Classification> {
        bounded_call!(self, message_size(message), |pre, store| pre
            .classify(store, message))
    }

    pub async fn on_event(self, event: &api::workflow::Event) -> Outcome<Vec<api::types::Action>> {
        bounded_call!(self, message_size(&event.message), |pre, store| pre
            .on_event(store, event))
    }

    pub async fn provider_info(self) -> Outcome<api::provider::ProviderInfo> {
        bounded_call!(self, 0, |pre, store| async {
            Ok(Ok(pre.provider_info(store).await?))
        })
    }

    pub async fn map_folder(
        self,
        mailbox: &api::types::Mailbox,
    ) -> Outcome<Option<api::types::FolderRole>> {
        bounded_call!(self, mailbox.name.len() as u64, |pre, store| async {
            Ok(Ok(pre.map_folder(store, mailbox).await?))
        })
    }

    pub async fn normalize(self, message: &api::types::Message) -> Outcome<api::types::Message> {
        bounded_call!(self, message_size(message), |pre, store| pre
            .normalize(store, message))
    }

    pub async fn diagnose(
        self,
        problem: &api::provider::ConnectionProblem,
    ) -> Outcome<Option<api::provider::Diagnosis>> {
        bounded_call!(self, problem.message.len() as u64, |pre, store| async {
            Ok(Ok(pre.diagnose(store, problem).await?))
        })
    }

    pub async fn filter_formats(self) -> Outcome<Vec<api::filter_importer::FilterFormat>> {
        bounded_call!(self, 0, |pre, store| async {
            Ok(Ok(pre.filter_formats(store).await?))
        })
    }

    /// A structured import error (the user's file is broken) is a successful
    /// call: it is the inner `Err`, and it does not count against the plugin.
    /// Every rule gets its `source` (format and file hash) from the host,
    /// whichever contract version the importer was built against.
    pub async fn import_filters(
        self,
        format: &str,
        data: &[u8],
    ) -> Outcome<Result<api::filter_importer::ImportedRules, api::filter_importer::ImportError>>
    {
        let mut outcome: Outcome<_> = bounded_call!(self, data.len() as u64, |pre, store| async {
            Ok(Ok(pre.import_filters(store, format, data).await?))
        });
        if let Ok(Ok(imported)) = &mut outcome.result {
            record_rule_sources(imported, format, data);
        }
        outcome
    }

    /// A fresh store under the limits, or the refusal if the input is too large.
    fn start(&self, input_bytes: u64) -> Result<Running, PluginError> {
        let limits = self.limits;
        if input_bytes > limits.input_bytes {
            return Err(PluginError::InputTooLarge {
                size: input_bytes,
                limit: limits.input_bytes,
            });
        }
        let started = Instant::now();
        let deadline = Duration::from_millis(limits.deadline_ms);
        let mut store = Store::new(
            self.engine.wasmtime(),
            InvocationState::new(self.scope.clone(), limits.memory_bytes),
        );
        store.limiter(|state| &mut state.limiter);
        // Running wasm comes back to the executor at every epoch tick; there
        // the wall-clock deadline is checked, so a busy machine (ticks late
        // or far apart) neither stretches nor shortens it.
        let ends_at = started + deadline;
        store.data_mut().outbound.set_deadline(ends_at);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if Instant::now() >= ends_at {
                Err(wasmtime::Trap::Interrupt.into())
            } else {
                Ok(wasmtime::UpdateDeadline::Yield(1))
            }
        });
        Ok(Running {
            store,
            started,
            deadline,
            limits,
        })
    }
}

/// A call under way: its store and when it started.
struct Running {
    store: Store<InvocationState>,
    started: Instant,
    deadline: Duration,
    limits: Limits,
}

/// What the plugin's export returned: the call's own `Result` inside, a
/// trap or host error outside.
type RawResult<R> = wasmtime::Result<Result<R, String>>;

impl Running {
    /// Turns what the call did into its outcome. `Elapsed` is a call still
    /// waiting at its deadline (inside a WASI host call: wasm code itself
    /// traps at the deadline): its future, host futures included, is gone.
    fn finish<R: Serialize + PluginOutput>(
        self,
        raw: Result<RawResult<R>, tokio::time::error::Elapsed>,
    ) -> Outcome<R> {
        let elapsed = self.started.elapsed();
        let limits = self.limits;
        let state = self.store.into_data();
        let result = match raw {
            Err(_) => Err(PluginError::DeadlineExceeded(limits.deadline_ms)),
            Ok(Ok(Ok(value))) => check_output_size(&value, limits.output_bytes)
                .and_then(|()| value.check().map_err(R::refusal))
                .map(|()| value),
            Ok(Ok(Err(reported))) => {
                Err(PluginError::Reported(shorten(&loggable(&reported), 2048)))
            }
            Ok(Err(e)) => Err(failure(e, &state, &limits)),
        };
        let peak_memory_bytes = state.limiter.peak_bytes;
        let kv_changes = if result.is_ok() {
            state.kv.into_changes()
        } else {
            BTreeMap::new()
        };
        Outcome {
            result,
            report: CallReport {
                elapsed,
                peak_memory_bytes,
                kv_changes,
            },
        }
    }
}

/// Fills in what only the host knows of each imported rule's source: the
/// format it was imported as and the file's SHA-256. The importer's own
/// filter id and position are kept.
fn record_rule_sources(
    imported: &mut api::filter_importer::ImportedRules,
    format: &str,
    data: &[u8],
) {
    use sha2::{Digest, Sha256};
    let sha256 = hex::encode(Sha256::digest(data));
    for rule in &mut imported.rules {
        let source = rule.source.get_or_insert_with(|| api::types::RuleSource {
            format: String::new(),
            file_sha256: String::new(),
            filter_id: None,
            line: None,
            column: None,
        });
        if source.format.is_empty() {
            source.format = format.to_owned();
        }
        source.file_sha256.clone_from(&sha256);
    }
}

/// Turns a failed call into the error that says what happened.
fn failure(e: wasmtime::Error, state: &InvocationState, limits: &Limits) -> PluginError {
    if state.limiter.hit_cap {
        return PluginError::MemoryLimit(limits.memory_bytes);
    }
    if let Some(violation) = e.downcast_ref::<KvViolation>() {
        return PluginError::Trap(violation.to_string());
    }
    if let Some(wrong) = e.downcast_ref::<WrongWorld>() {
        return PluginError::Host(wrong.to_string());
    }
    if e.downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
        .is_some()
    {
        return PluginError::Busy;
    }
    let stderr = state.stderr_text();
    let detail = |what: String| {
        if stderr.is_empty() {
            what
        } else {
            format!(
                "{what}; the plugin wrote: {}",
                shorten_to_tail(&loggable(&stderr), 1024)
            )
        }
    };
    if let Some(exit) = e.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return PluginError::Trap(detail(format!(
            "the plugin called exit with status {} (e.g. std::process::exit) instead of returning",
            exit.0
        )));
    }
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::Interrupt) => PluginError::DeadlineExceeded(limits.deadline_ms),
        Some(wasmtime::Trap::StackOverflow) => {
            PluginError::Trap(detail("stack overflow (unbounded recursion?)".into()))
        }
        Some(wasmtime::Trap::MemoryOutOfBounds) if looks_like_recursion(&e) => {
            PluginError::Trap(detail(
                "stack overflow: the plugin's own stack in its linear memory ran out \
                 (unbounded recursion, or large local buffers?); wasm reports this as an \
                 out-of-bounds memory access"
                    .into(),
            ))
        }
        Some(trap) => PluginError::Trap(detail(trap.to_string())),
        // An error that went through running wasm code was raised by a
        // host or WASI function the plugin called (a misused resource, a
        // refused argument); otherwise it came from lifting the plugin's
        // results (bad UTF-8, out-of-bounds pointers…): garbage output.
        None if e.downcast_ref::<wasmtime::WasmBacktrace>().is_some() => PluginError::Trap(detail(
            format!("a WASI or host call made by the plugin failed: {e:#}"),
        )),
        None => PluginError::InvalidOutput(detail(format!("{e:#}"))),
    }
}

/// Whether a trap's backtrace is one function calling itself: wasmtime
/// keeps the innermost frames only, so a full backtrace that is nearly all
/// one function is the best sign of runaway recursion there is.
fn looks_like_recursion(e: &wasmtime::Error) -> bool {
    let Some(trace) = e.downcast_ref::<wasmtime::WasmBacktrace>() else {
        return false;
    };
    let frames = trace.frames();
    if frames.len() < 16 {
        return false;
    }
    let mut counts = std::collections::HashMap::new();
    for frame in frames {
        *counts.entry(frame.func_index()).or_insert(0usize) += 1;
    }
    counts
        .values()
        .max()
        .is_some_and(|&most| most * 4 >= frames.len() * 3)
}

fn check_output_size<R: Serialize>(value: &R, limit: u64) -> Result<(), PluginError> {
    let mut counter = ByteCounter(0);
    serde_json::to_writer(&mut counter, value)
        .map_err(|e| PluginError::InvalidOutput(format!("cannot encode the result: {e}")))?;
    if counter.0 > limit {
        return Err(PluginError::OutputTooLarge {
            size: counter.0,
            limit,
        });
    }
    Ok(())
}

struct ByteCounter(u64);

impl std::io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Bytes of a message's variable-length parts: what crosses into the plugin.
pub fn message_size(m: &api::types::Message) -> u64 {
    let headers: usize = m.headers.iter().map(|h| h.name.len() + h.value.len()).sum();
    (m.subject.len() + m.text_body.len() + m.html_body.as_ref().map_or(0, String::len) + headers)
        as u64
}
