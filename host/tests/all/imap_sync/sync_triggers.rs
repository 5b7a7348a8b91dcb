//! The workflow triggers on mail synced from Dovecot, with the bundled
//! classifier and follow-up workflow installed as an org would have them: a
//! complaint in the inbox is `incoming` (labelled, someone notified); our
//! own message in Sent is `outgoing` (nothing, though it uses a complaint's
//! words); the customer's answer to it is `reply-received` (a follow-up
//! task); other mail gets nothing. Syncing again adds no action.

use super::support::*;
use mailroom::pipeline::Pipeline;
use mailroom::sync::{NoFolderMapper, sync_account_with};
use mailroom_plugin_artifacts as artifacts;
use mailroom_test_servers::{Dovecot, Layout};

mailroom_store::both_backends! {
    async fn each_trigger_fires_on_synced_mail(db) {
        let s = &db.store;
        let t = tenant(s).await;
        let d = Dovecot::start(Layout::SpecialUse);
        let user = d.user().name.clone();
        let me = format!("{user}@acme.example");
        let complaint = format!(
            "From: Dana Client <dana@client.example>\r\nTo: {me}\r\n\
             Subject: Still broken - very disappointed\r\nMessage-ID: <c1@client.example>\r\n\r\n\
             The export is still broken and nobody answers. I am very disappointed and \
             frustrated. Please fix this immediately.\r\n"
        );
        let ours = format!(
            "From: Alice <{me}>\r\nTo: Dana Client <dana@client.example>\r\n\
             Subject: Proposal for the broken export\r\nMessage-ID: <p1@acme.example>\r\n\r\n\
             We are very disappointed too that the export is still broken. Here is our \
             proposal and a refund.\r\n"
        );
        let reply = format!(
            "From: Dana Client <dana@client.example>\r\nTo: {me}\r\n\
             Subject: Re: Proposal for the broken export\r\nMessage-ID: <r1@client.example>\r\n\
             In-Reply-To: <p1@acme.example>\r\nReferences: <p1@acme.example>\r\n\r\n\
             Sounds good, thank you.\r\n"
        );
        d.seed(&user, "INBOX", complaint.as_bytes());
        d.seed(&user, "Sent", ours.as_bytes());
        d.seed(&user, "INBOX", reply.as_bytes());
        d.seed(&user, "INBOX", &mail(1, "lunch on friday", 400));
        let acc = plain_account(s, &t, &d).await;
        sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(10), |_| {}).await.expect("sync");

        let registry = registry_with_generic_provider(s, &t.org).await;
        for artifact in [artifacts::CLASSIFIER_KEYWORDS, artifacts::WORKFLOW_FOLLOW_UP] {
            let bytes = std::fs::read(artifact).expect("artifact");
            registry.install(&t.org, bytes).await.expect("install");
        }
        let pipeline = Pipeline::new(s.clone(), registry.clone());
        let report = pipeline.run_pending(50).await.expect("pipeline");
        assert_eq!((report.processed, report.plugin_failures), (4, 0), "{report:?}");

        let org = &t.org;
        let actions_of = |subject: &'static str| async move {
            let (id, state) = by_subject(s, org, subject).await;
            let actions: Vec<String> = s
                .message_actions(org, &id)
                .await
                .expect("actions")
                .iter()
                .map(|a| a.action.to_string())
                .collect();
            (state, actions)
        };

        // incoming: the complaint is labelled and someone is told.
        let (state, actions) = actions_of("Still broken - very disappointed").await;
        assert!(state.labels.contains(&"complaint".to_owned()), "{state:?}");
        assert!(actions.iter().any(|a| a.contains("Notify") && a.contains("Complaint from Dana Client")), "{actions:?}");

        // outgoing: our own words are no complaint, and no task.
        let (state, actions) = actions_of("Proposal for the broken export").await;
        assert!(!state.labels.contains(&"complaint".to_owned()), "{state:?}");
        assert!(!actions.iter().any(|a| a.contains("CreateTask") || a.contains("Notify")), "{actions:?}");

        // reply-received: the answer to our message becomes a task.
        let (_, actions) = actions_of("Re: Proposal for the broken export").await;
        let tasks: Vec<_> = actions.iter().filter(|a| a.contains("CreateTask")).collect();
        assert_eq!(tasks.len(), 1, "{actions:?}");
        assert!(tasks[0].contains("Reply from Dana Client: Proposal for the broken export"), "{tasks:?}");

        // Other mail: nothing from the workflow.
        let (_, actions) = actions_of("lunch on friday").await;
        assert!(!actions.iter().any(|a| a.contains("CreateTask") || a.contains("Notify")), "{actions:?}");

        // Once: a second sync and pipeline pass add nothing.
        sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(10), |_| {}).await.expect("resync");
        let again = pipeline.run_pending(50).await.expect("pipeline again");
        assert_eq!(again.processed, 0, "{again:?}");
        let (_, actions) = actions_of("Re: Proposal for the broken export").await;
        assert_eq!(actions.iter().filter(|a| a.contains("CreateTask")).count(), 1, "{actions:?}");
    }
}
