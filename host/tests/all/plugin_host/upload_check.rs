//! The upload check: every plugin runs the golden set before it is stored.
//! The bundled plugins pass it (and say what they answered); plugins that
//! trap, never return or answer what the host cannot read are refused with
//! the case named, and nothing of them is kept.

use super::*;
use mailroom::plugin::golden::GoldenOutcome;

fn checking_registry() -> Arc<PluginRegistry> {
    let settings = RegistrySettings {
        default_limits: mailroom::plugin::Limits {
            deadline_ms: 300,
            memory_bytes: 64 << 20,
            ..Default::default()
        },
        ..Default::default()
    };
    assert!(settings.upload_check, "on by default");
    PluginRegistry::new(engine(), Arc::new(InMemoryStorage::default()), settings)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bundled_plugins_pass_and_say_what_they_answered() {
    // The limits a real upload gets (a 2 s deadline): under a loaded test
    // run, the follow-up workflow on the 256 KiB case went past 300 ms.
    let reg = PluginRegistry::new(
        engine(),
        Arc::new(InMemoryStorage::default()),
        RegistrySettings::default(),
    );
    let org = OrgId::generate();
    for bundled in artifacts::BUNDLED {
        let installed = reg
            .install_checked(&org, bundled.bytes.to_vec())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", bundled.package));
        let cases = &installed.upload_check;
        assert!(cases.len() >= 4, "{}: {cases:?}", bundled.package);
        let ok = cases
            .iter()
            .filter(|c| c.outcome == GoldenOutcome::Ok)
            .count();
        match installed.plugin.record.kind {
            // An importer declines the files of the other formats.
            PluginKind::FilterImporter => {
                assert!(
                    ok >= 1 && ok < cases.len(),
                    "{}: {cases:?}",
                    bundled.package
                )
            }
            _ => assert_eq!(ok, cases.len(), "{}: {cases:?}", bundled.package),
        }
    }
    let classifier = reg
        .install_checked(&org, wasm(artifacts::CLASSIFIER_KEYWORDS))
        .await
        .expect("classifier");
    let calls: Vec<_> = classifier.upload_check.iter().map(|c| c.call).collect();
    assert!(calls.iter().all(|c| *c == "classify"), "{calls:?}");
    assert!(
        classifier
            .upload_check
            .iter()
            .any(|c| c.case.contains("256 KiB") && c.answer.contains("Classification")),
        "{:?}",
        classifier.upload_check
    );
}

/// Refused with the case and the failure named; the org has no plugin.
async fn refused(path: &str, expect: &str) {
    let reg = checking_registry();
    let org = OrgId::generate();
    match reg.install(&org, wasm(path)).await {
        Err(RegistryError::UploadCheck(failure)) => {
            let message = failure.to_string();
            assert!(message.contains("golden case"), "{message}");
            assert!(message.contains(&failure.case), "{message}");
            assert!(message.contains(expect), "{path}: {message}");
        }
        other => panic!("{path}: expected an upload check failure, got {other:?}"),
    }
    assert!(reg.list(&org).await.expect("list").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_that_traps_is_refused_with_the_case_named() {
    refused(artifacts::TRAP, "deliberate panic").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_that_never_returns_is_refused_at_its_deadline() {
    refused(artifacts::INFINITE_LOOP, "deadline of 300 ms").await;
    refused(artifacts::POLLS_FOREVER, "deadline of 300 ms").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_or_oversized_answers_are_refused() {
    refused(artifacts::OVERSIZED_OUTPUT, "larger than the limit").await;
    refused(artifacts::ALLOC_1GIB, "memory limit").await;
}
