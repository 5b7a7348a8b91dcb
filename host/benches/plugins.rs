//! Plugin host benchmarks: compile, load from the precompile cache, a
//! fresh-instance call of a trivial plugin, a realistic classifier against the
//! same logic in native Rust, a call that makes one outbound HTTPS request to
//! a local server, and throughput on every core — all with the limits
//! (deadline, memory cap, size caps) switched on.
//!
//! Run: `cargo bench -p mailroom --bench plugins` (numbers in the README).

// Test code: a failed set-up fails the test with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mailroom::ids::OrgId;
use mailroom::mime;
use mailroom::plugin::bindings::latest::types::Message;
use mailroom::plugin::convert::{MessageContext, plugin_message};
use mailroom::plugin::invoke::Call;
use mailroom::plugin::state::PluginScope;
use mailroom::plugin::{EngineSettings, Limits, LoadedComponent, PluginEngine};
use mailroom_plugin_artifacts as artifacts;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::Component;

// The tests' local HTTPS server, shared rather than copied.
#[path = "../tests/all/https_receiver.rs"]
#[allow(dead_code)]
mod https_receiver;

/// A realistic ~2 KB business email: a request with a signature.
fn two_kb_message() -> (String, String) {
    let subject = "Re: Quote for 25 seats and onboarding in March".to_owned();
    let mut body = String::from(
        "Hi Sarah,\n\nThanks for the call yesterday, it was really helpful. Could you please send us an \
         updated quote for 25 seats including the onboarding package? We would like to start in March \
         and need the invoice by the end of next week so our finance team can approve it.\n\n\
         Also, can we schedule a meeting on Tuesday at 10am to go through the integration with our CRM? \
         I'm a bit worried about the migration timeline, the last vendor was disappointing and slow.\n\n",
    );
    while body.len() < 1800 {
        body.push_str(
            "We appreciate the quick support so far and look forward to working together. ",
        );
    }
    body.push_str(
        "\n\nBest regards,\nJohn Miller\nHead of Operations\nAcme Logistics GmbH\n\
         Phone: +49 30 1234567\njohn.miller@acme-logistics.example\nwww.acme-logistics.example\n",
    );
    (subject, body)
}

fn as_plugin_message(subject: &str, body: &str) -> Message {
    let raw = format!(
        "From: John Miller <john.miller@acme-logistics.example>\r\nTo: sarah@example.com\r\nSubject: {subject}\r\n\r\n{body}"
    );
    plugin_message(
        &mime::parse(raw.as_bytes()),
        MessageContext {
            id: "bench".into(),
            ..Default::default()
        },
    )
}

fn load(engine: &PluginEngine, path: &str) -> Arc<LoadedComponent> {
    engine
        .load(&std::fs::read(path).expect("artifact"))
        .expect("load")
}

fn call<'a>(
    engine: &'a PluginEngine,
    component: &'a LoadedComponent,
    scope: &Arc<PluginScope>,
) -> Call<'a> {
    Call {
        engine,
        component,
        scope: scope.clone(),
        limits: Limits::default(),
    }
}

fn benches(c: &mut Criterion) {
    // Calls are async; one current-thread runtime drives them, as a
    // pipeline task would.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let engine = PluginEngine::new(&EngineSettings::default()).expect("engine");
    let scope = Arc::new(PluginScope::isolated(OrgId::from("bench"), "bench"));
    let trivial = load(&engine, artifacts::TRIVIAL);
    let classifier = load(&engine, artifacts::CLASSIFIER_KEYWORDS);
    let (subject, body) = two_kb_message();
    let message = as_plugin_message(&subject, &body);
    let empty = as_plugin_message("hi", "");

    let mut g = c.benchmark_group("compile");
    g.sample_size(10);
    let bytes = std::fs::read(artifacts::CLASSIFIER_KEYWORDS).expect("artifact");
    g.bench_function("rust_classifier_cold", |b| {
        b.iter(|| Component::new(engine.wasmtime(), black_box(&bytes)).expect("compile"))
    });
    // Seconds each: the fewest samples criterion takes.
    for (name, path) in [
        ("js_classifier_cold", artifacts::JS_CLASSIFIER),
        ("py_classifier_cold", artifacts::PY_CLASSIFIER),
    ] {
        let bytes = std::fs::read(path).expect("artifact");
        g.bench_function(name, |b| {
            b.iter(|| Component::new(engine.wasmtime(), black_box(&bytes)).expect("compile"))
        });
    }
    g.finish();

    let dir = tempfile::tempdir().expect("tempdir");
    let mut g = c.benchmark_group("load_precompiled");
    for (name, path) in [
        ("rust_classifier", artifacts::CLASSIFIER_KEYWORDS),
        ("js_classifier", artifacts::JS_CLASSIFIER),
        ("py_classifier", artifacts::PY_CLASSIFIER),
    ] {
        let artifact = dir.path().join(format!("{name}.cwasm"));
        let compiled = Component::new(engine.wasmtime(), std::fs::read(path).expect("artifact"))
            .expect("compile");
        std::fs::write(&artifact, compiled.serialize().expect("serialize")).expect("write");
        g.bench_function(name, |b| {
            // SAFETY: the artifact was serialized just above by this engine.
            b.iter(|| {
                unsafe { Component::deserialize_file(engine.wasmtime(), &artifact) }.expect("load")
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("invoke_fresh_instance");
    g.bench_function("store_setup_only", |b| {
        b.iter(|| {
            let state = mailroom::plugin::state::InvocationState::new(scope.clone(), 128 << 20);
            wasmtime::Store::new(engine.wasmtime(), state)
        })
    });
    g.bench_function("trivial", |b| {
        b.iter(|| {
            rt.block_on(call(&engine, &trivial, &scope).classify(black_box(&empty)))
                .result
                .expect("call")
        })
    });
    g.bench_function("classifier_2kb", |b| {
        b.iter(|| {
            rt.block_on(call(&engine, &classifier, &scope).classify(black_box(&message)))
                .result
                .expect("call")
        })
    });
    let js = load(&engine, artifacts::JS_CLASSIFIER);
    g.bench_function("js_classifier_2kb", |b| {
        b.iter(|| {
            rt.block_on(call(&engine, &js, &scope).classify(black_box(&message)))
                .result
                .expect("call")
        })
    });
    let py = load(&engine, artifacts::PY_CLASSIFIER);
    g.bench_function("py_classifier_2kb", |b| {
        b.iter(|| {
            rt.block_on(call(&engine, &py, &scope).classify(black_box(&message)))
                .result
                .expect("call")
        })
    });
    outbound_http(&mut g, &rt, &engine, &empty);
    g.bench_function("classifier_2kb_native", |b| {
        let email = classifier_keywords_core::Email {
            subject: &subject,
            text_body: &body,
        };
        b.iter(|| classifier_keywords_core::classify(black_box(&email)))
    });
    g.finish();

    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut g = c.benchmark_group("throughput_all_cores");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(5));
    g.bench_function(format!("classifier_2kb_{threads}_threads"), |b| {
        b.iter_custom(|iters| {
            let per_thread = iters.div_ceil(threads as u64);
            let started = Instant::now();
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(|| {
                        let rt = tokio::runtime::Builder::new_current_thread()
                            .enable_time()
                            .build()
                            .expect("runtime");
                        for _ in 0..per_thread {
                            rt.block_on(call(&engine, &classifier, &scope).classify(&message))
                                .result
                                .expect("call");
                        }
                    });
                }
            });
            started.elapsed()
        })
    });
    g.finish();
}

/// `http-fetch` making one request: refused (no grant: the plugin's own
/// cost and the check), and granted to a local HTTPS server answering 7
/// bytes on a fresh TLS connection each time (the server closes it).
fn outbound_http(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    rt: &tokio::runtime::Runtime,
    engine: &PluginEngine,
    message: &Message,
) {
    use mailroom::destinations::DestinationPolicy;
    use mailroom::plugin::outbound::{OutboundAccess, OutboundClients, OutboundGrant};
    use mailroom::plugin::registry::memory::InMemoryStorage;
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("server runtime");
    let server = server_rt.block_on(https_receiver::HttpsReceiver::start(&[]));
    let fetch = load(engine, artifacts::HTTP_FETCH);
    let org = OrgId::from("bench");
    let storage = InMemoryStorage::default();
    storage.set_destination_policy(
        &org,
        DestinationPolicy {
            allowed_hosts: vec!["127.0.0.1".into()],
            ..Default::default()
        },
    );
    let config = Arc::new(std::collections::BTreeMap::from([(
        "url".to_owned(),
        server.url("/model"),
    )]));
    let refused = Arc::new(PluginScope {
        config: config.clone(),
        ..PluginScope::isolated(org.clone(), "http-fetch")
    });
    let granted = Arc::new(PluginScope {
        config,
        outbound: Some(Arc::new(OutboundAccess::new(
            OutboundGrant {
                ca_pem: Some(server.cert_pem.clone()),
                ..OutboundGrant::hosts([format!("127.0.0.1:{}", server.port)])
            },
            OutboundClients::new(Arc::new(storage)),
        ))),
        ..PluginScope::isolated(org, "http-fetch")
    });
    for (name, scope, expect) in [
        ("http_fetch_refused", &refused, "error "),
        ("http_fetch_one_https_request", &granted, "200 7 bytes"),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let c = rt
                    .block_on(call(engine, &fetch, scope).classify(black_box(message)))
                    .result
                    .expect("call");
                assert!(
                    c.summary.as_deref().is_some_and(|s| s.starts_with(expect)),
                    "{c:?}"
                );
            })
        });
    }
    drop(server);
}

criterion_group!(plugin_benches, benches);
criterion_main!(plugin_benches);
