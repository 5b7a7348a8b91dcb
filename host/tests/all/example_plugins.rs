//! The bundled example plugins — one per world, plus the JavaScript one —
//! loaded by the host and called through the contract on real input.

use crate::common::blocking;
use crate::common::engine;
use mailroom::ids::OrgId;
use mailroom::mime;
use mailroom::plugin::bindings::latest::provider::{ConnectionProblem, ConnectionStep};
use mailroom::plugin::bindings::latest::types::{Action, FolderRole, Mailbox, Message};
use mailroom::plugin::bindings::latest::workflow::{Event, Trigger};
use mailroom::plugin::convert::{MessageContext, plugin_message};
use mailroom::plugin::invoke::Call;
use mailroom::plugin::state::PluginScope;
use mailroom::plugin::{Limits, LoadedComponent, PluginEngine, PluginKind};
use mailroom_plugin_artifacts as artifacts;
use std::sync::Arc;

fn load(path: &str) -> Arc<LoadedComponent> {
    engine()
        .load(&std::fs::read(path).expect("artifact"))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn call<'a>(engine: &'a PluginEngine, component: &'a LoadedComponent) -> Call<'a> {
    let scope = Arc::new(PluginScope::isolated(OrgId::from("org_test"), "test"));
    Call {
        engine,
        component,
        scope,
        limits: Limits::default(),
    }
}

fn message(raw: &str) -> Message {
    plugin_message(
        &mime::parse(raw.as_bytes()),
        MessageContext {
            id: "m1".into(),
            ..Default::default()
        },
    )
}

const COMPLAINT: &str = "From: Dana Client <dana@client.example>\r\nTo: support@example.com\r\n\
Subject: Still broken - very disappointed\r\n\r\nHello,\r\n\r\nthis is the third time I write: the export is \
still broken and nobody answers. I am very disappointed and frustrated with your service. Please fix this \
immediately or refund the invoice.\r\n\r\nBest regards,\r\nDana Client\r\nPhone: +1 555 0100\r\n";

#[test]
fn the_keyword_classifier_reads_a_complaint() {
    let engine = engine();
    let component = load(artifacts::CLASSIFIER_KEYWORDS);
    assert_eq!(component.world.kind, PluginKind::Classifier);
    let c = blocking(call(&engine, &component).classify(&message(COMPLAINT)))
        .result
        .expect("classify");
    assert_eq!(
        c.intent.as_ref().map(|l| l.label.as_str()),
        Some("complaint"),
        "{c:?}"
    );
    assert_eq!(
        c.sentiment.as_ref().map(|l| l.label.as_str()),
        Some("negative"),
        "{c:?}"
    );
    assert!(c.summary.as_deref().is_some_and(|s| !s.is_empty()));
}

#[test]
fn the_javascript_classifier_runs_in_the_same_host() {
    let engine = engine();
    let component = load(artifacts::JS_CLASSIFIER);
    assert_eq!(component.world.kind, PluginKind::Classifier);
    let meta = blocking(call(&engine, &component).metadata())
        .result
        .expect("metadata");
    assert_eq!(meta.kind, PluginKind::Classifier);
    let c = blocking(call(&engine, &component).classify(&message(COMPLAINT)))
        .result
        .expect("classify");
    assert!(
        c.sentiment.is_some() || c.intent.is_some() || !c.tags.is_empty(),
        "{c:?}"
    );
}

/// The Python example is a line-by-line port of the JavaScript one: on every
/// sample mail, with and without its config key, both give the same
/// classification (the Python one's tags say `py:` where the other's say `js:`).
#[test]
fn the_python_classifier_answers_as_the_javascript_one_does() {
    let engine = engine();
    let python = load(artifacts::PY_CLASSIFIER);
    let javascript = load(artifacts::JS_CLASSIFIER);
    assert_eq!(python.world.kind, PluginKind::Classifier);
    let meta = blocking(call(&engine, &python).metadata())
        .result
        .expect("metadata");
    assert_eq!(meta.kind, PluginKind::Classifier);

    let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/sample-mail");
    let mut mails: Vec<_> = std::fs::read_dir(&samples)
        .expect("sample mail")
        .map(|e| e.expect("entry").path())
        .collect();
    mails.sort();
    assert!(mails.len() >= 15, "{}", samples.display());
    let configs = [
        std::collections::BTreeMap::new(),
        [("negative-words".to_string(), "pricing,seats".to_string())].into(),
    ];
    let mut labelled = 0;
    for config in &configs {
        let scope = Arc::new(PluginScope {
            config: Arc::new(config.clone()),
            ..PluginScope::isolated(OrgId::from("org_test"), "test")
        });
        for mail in &mails {
            let raw = std::fs::read_to_string(mail).expect("eml");
            let classify = |component: &LoadedComponent| {
                let call = Call {
                    engine: &engine,
                    component,
                    scope: scope.clone(),
                    limits: Limits::default(),
                };
                let c = blocking(call.classify(&message(&raw)))
                    .result
                    .unwrap_or_else(|e| panic!("{}: {e}", mail.display()));
                serde_json::to_string(&c).expect("json")
            };
            let py = classify(&python);
            assert_eq!(
                py,
                classify(&javascript).replace("\"js:", "\"py:"),
                "{} with {config:?}",
                mail.display()
            );
            labelled += usize::from(py.contains("\"py:"));
        }
    }
    // Not two empty answers: most mails get an intent tag.
    assert!(labelled >= mails.len(), "only {labelled} tagged");
}

#[test]
fn the_follow_up_workflow_creates_a_task_for_a_reply() {
    let engine = engine();
    let component = load(artifacts::WORKFLOW_FOLLOW_UP);
    let reply =
        message("From: Ann <ann@example.com>\r\nSubject: Re: Proposal\r\n\r\nSounds good.\r\n");
    let event = Event {
        trigger: Trigger::ReplyReceived,
        message: reply,
        classifications: vec![],
        links: vec![],
    };
    let actions = blocking(call(&engine, &component).on_event(&event))
        .result
        .expect("on-event");
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, Action::CreateTask(t) if t.title.contains("Proposal"))),
        "{actions:?}"
    );
    let outgoing = Event {
        trigger: Trigger::Outgoing,
        ..event
    };
    assert!(
        blocking(call(&engine, &component).on_event(&outgoing))
            .result
            .expect("on-event")
            .is_empty()
    );
}

/// The Python port of the follow-up workflow (`examples/py-workflow`) gives
/// the Rust one's actions for every trigger, config or none: a reply's
/// task (display name, else the linked record's name, else the address;
/// reply prefixes dropped; the summary as notes; `due-days`), a complaint's
/// notification (to `notify-user` or the account owner) and label, and
/// nothing for the rest.
#[test]
fn the_python_workflow_acts_as_the_rust_one() {
    use mailroom::plugin::bindings::latest::types::{Classification, CrmRecordKind, ScoredLabel};
    use mailroom::plugin::bindings::latest::workflow::CrmLink;
    let engine = engine();
    let rust = load(artifacts::WORKFLOW_FOLLOW_UP);
    let python = load(artifacts::PY_WORKFLOW);
    assert_eq!(python.world.kind, PluginKind::Workflow);
    let said = |intent: Option<&str>, summary: Option<&str>| Classification {
        sentiment: None,
        intent: intent.map(|label| ScoredLabel {
            label: label.into(),
            score: 0.9,
        }),
        summary: summary.map(Into::into),
        signature: None,
        activities: vec![],
        tags: vec![],
        reasons: vec![],
    };
    let event = |trigger, raw: &str, classifications: Vec<Classification>| Event {
        trigger,
        message: message(raw),
        classifications,
        links: vec![CrmLink {
            kind: CrmRecordKind::Contact,
            id: "c1".into(),
            email: "bob@example.com".into(),
            name: Some("Bob Stone".into()),
        }],
    };
    let ann = "From: Ann <ann@example.com>\r\nSubject: Re: AW: Proposal\r\n\r\nSounds good.\r\n";
    let bob = "From: bob@example.com\r\nSubject: RE[2]: Offer 42\r\n\r\nOk.\r\n";
    let nobody = "Subject: \r\n\r\nWho am I?\r\n";
    let complaint = [said(Some("Complaint"), Some("Dana is upset."))];
    let cases = [
        (
            event(
                Trigger::ReplyReceived,
                ann,
                vec![said(None, Some("Ann agrees."))],
            ),
            vec![],
        ),
        (
            event(Trigger::ReplyReceived, bob, vec![]),
            vec![("due-days", "3")],
        ),
        (event(Trigger::ReplyReceived, nobody, vec![]), vec![]),
        (
            event(Trigger::Incoming, COMPLAINT, complaint.to_vec()),
            vec![],
        ),
        (
            event(Trigger::Incoming, COMPLAINT, complaint.to_vec()),
            vec![("notify-user", "boss@example.com")],
        ),
        (
            event(Trigger::Incoming, ann, vec![said(Some("request"), None)]),
            vec![],
        ),
        (event(Trigger::Outgoing, ann, complaint.to_vec()), vec![]),
    ];
    let mut answers = Vec::new();
    for (event, config) in &cases {
        let run = |component: &LoadedComponent| {
            let scope = Arc::new(PluginScope {
                config: Arc::new(
                    config
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                ..PluginScope::isolated(OrgId::from("org_test"), "follow-up")
            });
            let call = Call {
                engine: &engine,
                component,
                scope,
                limits: Limits::default(),
            };
            blocking(call.on_event(event))
                .result
                .unwrap_or_else(|e| panic!("{:?}: {e}", event.trigger))
        };
        // The bindings' types have no `PartialEq`: compared as printed.
        let expected = format!("{:?}", run(&rust));
        assert_eq!(
            format!("{:?}", run(&python)),
            expected,
            "{:?} with {config:?}",
            event.trigger
        );
        answers.push(expected);
    }
    // What both said, so both cannot be wrong the same way.
    assert!(
        answers[0].contains("Reply from Ann: Proposal") && answers[0].contains("Ann agrees."),
        "{}",
        answers[0]
    );
    assert!(
        answers[1].contains("Reply from Bob Stone: Offer 42") && answers[1].contains("Some(3)"),
        "{}",
        answers[1]
    );
    assert!(
        answers[2].contains("Reply from unknown sender: (no subject)"),
        "{}",
        answers[2]
    );
    assert!(
        answers[3].contains("AccountOwner") && answers[3].contains("complaint"),
        "{}",
        answers[3]
    );
    assert!(answers[4].contains("boss@example.com"), "{}", answers[4]);
    assert_eq!(answers[5..], ["[]", "[]"]);
}

#[test]
fn the_generic_provider_maps_folders_of_servers_without_special_use() {
    let engine = engine();
    let component = load(artifacts::PROVIDER_GENERIC);
    let map = |name: &str, delimiter: &str, attributes: &[&str]| {
        let mailbox = Mailbox {
            name: name.into(),
            delimiter: Some(delimiter.into()),
            attributes: attributes.iter().map(|a| a.to_string()).collect(),
        };
        blocking(call(&engine, &component).map_folder(&mailbox))
            .result
            .expect("map-folder")
    };
    assert_eq!(map("INBOX", ".", &[]), Some(FolderRole::Inbox));
    assert_eq!(map("INBOX.Sent Items", ".", &[]), Some(FolderRole::Sent));
    assert_eq!(map("Gesendete Elemente", "/", &[]), Some(FolderRole::Sent));
    assert_eq!(map("INBOX/Papierkorb", "/", &[]), Some(FolderRole::Trash));
    assert_eq!(map("Whatever", "/", &["\\Junk"]), Some(FolderRole::Spam));
    assert_ne!(map("Projects", "/", &[]), Some(FolderRole::Sent));

    let problem = ConnectionProblem {
        step: ConnectionStep::Login,
        protocol: "imap".into(),
        server: "imap.example.com".into(),
        message: "NO [AUTHENTICATIONFAILED] Authentication failed.".into(),
    };
    let diagnosis = blocking(call(&engine, &component).diagnose(&problem))
        .result
        .expect("diagnose");
    assert!(diagnosis.is_some_and(|d| !d.advice.is_empty()));
}

#[test]
fn the_gmail_importer_reads_every_sample_export_and_reports_broken_xml() {
    let engine = engine();
    let component = load(artifacts::FILTER_GMAIL);
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/gmail-filters");
    let mut total_rules = 0;
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{dir}: {e}")) {
        let path = entry.expect("entry").path();
        let data = std::fs::read(&path).expect("read");
        let imported = blocking(call(&engine, &component).import_filters("gmail-xml", &data))
            .result
            .expect("call")
            .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.message));
        total_rules += imported.rules.len();
    }
    assert!(total_rules > 0);

    let broken =
        b"<?xml version='1.0'?>\n<feed>\n<entry><apps:property name='from' value='a'/>\n</feedx>";
    let err = blocking(call(&engine, &component).import_filters("gmail-xml", broken))
        .result
        .expect("call")
        .unwrap_err();
    assert!(err.line.is_some(), "{err:?}");
}
