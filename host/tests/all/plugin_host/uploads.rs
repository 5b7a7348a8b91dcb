//! Uploads are bounded and leave nothing behind when refused: a component
//! refused for its imports is never compiled, one refused for its metadata
//! leaves no precompiled artifact, a compile past its time limit is
//! refused, and the artifacts of plugins no org runs are removed.

use super::*;
use mailroom::plugin::registry::storage::RegistryStorage;
use std::path::Path;

fn artifacts_in(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("cache dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(artifacts_in(&path));
        } else if path.extension().is_some_and(|e| e == "cwasm") {
            found.push(path.display().to_string());
        }
    }
    found
}

fn cached_registry(
    dir: &Path,
    settings: RegistrySettings,
) -> (Arc<PluginRegistry>, Arc<PluginEngine>, Arc<InMemoryStorage>) {
    let engine = PluginEngine::new(&EngineSettings {
        cache_dir: Some(dir.to_owned()),
        max_instances: 16,
        ..Default::default()
    })
    .expect("engine");
    let storage = Arc::new(InMemoryStorage::default());
    let reg = PluginRegistry::new(engine.clone(), storage.clone(), settings);
    (reg, engine, storage)
}

fn compiled(engine: &PluginEngine) -> u64 {
    engine
        .stats
        .compiled
        .load(std::sync::atomic::Ordering::Relaxed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_uploads_leave_no_artifact_and_unused_ones_are_collected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (reg, engine, storage) = cached_registry(dir.path(), RegistrySettings::default());
    let org = OrgId::generate();

    let refused = reg.install(&org, wasm(artifacts::UNGRANTED_IMPORT)).await;
    assert!(
        matches!(
            refused,
            Err(RegistryError::Rejected(PluginError::UngrantedImports(_)))
        ),
        "{refused:?}"
    );
    assert_eq!(
        compiled(&engine),
        0,
        "refused by its imports before compiling"
    );

    let refused = reg.install(&org, wasm(artifacts::LONG_NAME)).await;
    assert!(
        matches!(
            refused,
            Err(RegistryError::Rejected(PluginError::InvalidMetadata(_)))
        ),
        "{refused:?}"
    );
    assert!(
        artifacts_in(dir.path()).is_empty(),
        "{:?}",
        artifacts_in(dir.path())
    );

    install(&reg, &org, artifacts::PROBE).await;
    install(&reg, &org, artifacts::TRIVIAL).await;
    assert_eq!(artifacts_in(dir.path()).len(), 2);

    reg.remove(&org, "probe").await.expect("remove");
    let left = artifacts_in(dir.path());
    let trivial = storage.running_components().await.expect("running");
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].contains(&trivial[0]), "{left:?} vs {trivial:?}");

    // At startup: artifacts nobody runs (left by a crash, another version…) go.
    let stale = Path::new(&left[0]).with_file_name(format!("{}.cwasm", "0".repeat(64)));
    std::fs::write(&stale, b"stale").expect("stale artifact");
    assert_eq!(reg.collect_unused_artifacts().await.expect("collect"), 1);
    assert_eq!(artifacts_in(dir.path()), left);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compile_past_its_time_limit_is_refused_and_not_cached() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (reg, _, _) = cached_registry(
        dir.path(),
        RegistrySettings {
            compile_timeout: Duration::from_millis(1),
            ..Default::default()
        },
    );
    let org = OrgId::generate();
    match reg
        .install(&org, wasm(artifacts::CLASSIFIER_KEYWORDS))
        .await
    {
        Err(RegistryError::Rejected(PluginError::InvalidComponent(msg))) => {
            assert!(msg.contains("compiling it took longer than"), "{msg}")
        }
        other => panic!("expected the slow compile to be refused, got {other:?}"),
    }
    assert!(reg.list(&org).await.expect("list").is_empty());
    assert!(artifacts_in(dir.path()).is_empty());
}

/// The names read from a component's bytes before compiling are the ones
/// wasmtime sees after compiling: a type a world `use`s (`metadata`) is no
/// import, so every plugin the host ships, in Rust and in JavaScript, of
/// both contract versions, passes the check that runs before compiling.
#[test]
fn the_shape_read_before_compiling_is_the_compiled_one() {
    use mailroom::plugin::contract::{ComponentShape, ungranted_imports};
    let engine = engine();
    for path in [
        artifacts::CLASSIFIER_KEYWORDS,
        artifacts::WORKFLOW_FOLLOW_UP,
        artifacts::PROVIDER_GMAIL,
        artifacts::FILTER_GMAIL,
        artifacts::JS_CLASSIFIER,
        artifacts::SWAP_V1,
        artifacts::UNGRANTED_IMPORT,
    ] {
        let bytes = wasm(path);
        let mut read = ComponentShape::parse(&bytes).expect("readable");
        let compiled = engine.load(&bytes);
        let mut seen = match &compiled {
            Ok(loaded) => loaded.shape.clone(),
            // Refused before compiling: compare with what the refusal names.
            Err(PluginError::UngrantedImports(names)) => {
                assert_eq!(&ungranted_imports(&read), names, "{path}");
                continue;
            }
            Err(e) => panic!("{path}: {e}"),
        };
        read.imports.sort();
        read.exports.sort();
        seen.imports.sort();
        seen.exports.sort();
        assert_eq!(read, seen, "{path}");
    }
}
