//! The message pipeline over a real store (SQLite and PostgreSQL) and real
//! plugins: classifications and workflow actions are stored once per
//! message, user-state actions applied, a failing plugin recorded without
//! stopping the others, nothing is processed twice, and an org past its
//! plugin time budget waits without delaying another org.

use crate::common::engine;
use mailroom::ids::{AccountId, MessageId, OrgId};
use mailroom::pipeline::Pipeline;
use mailroom::plugin::registry::{PluginRegistry, RegistrySettings};
use mailroom::store::{
    AuthKind, Credentials, Location, NewAccount, NewCrmRecord, Protocol, Security, ServerSettings,
    Sharing, Store, StoreSent,
};
use mailroom_plugin_artifacts as artifacts;
use mailroom_store::both_backends;
use std::sync::Arc;

const US: &str = "sales@northwind.example";

struct Fixture {
    store: Store,
    org: OrgId,
    account: AccountId,
    registry: Arc<PluginRegistry>,
}

async fn fixture(store: &Store, plugins: &[&str]) -> Fixture {
    fixture_for(store, "Northwind", US, plugins).await
}

/// An org called `name` whose admin's mail account is `email`, with `plugins`.
async fn fixture_for(store: &Store, name: &str, email: &str, plugins: &[&str]) -> Fixture {
    let (org, admin, _) = store
        .create_org_with_admin(name, email, "Sales")
        .await
        .expect("org");
    let account = store
        .create_account(
            &org.id,
            &NewAccount {
                owner: admin.id.clone(),
                protocol: Protocol::Imap,
                provider_id: Some("generic".into()),
                display_name: "Sales".into(),
                email: email.into(),
                incoming: ServerSettings {
                    host: "imap.example".into(),
                    port: 993,
                    security: Security::Tls,
                },
                outgoing: None,
                same_credentials_for_outgoing: true,
                auth_kind: AuthKind::Password,
                username: None,
                outgoing_username: None,
                credentials: Credentials::default(),
                tls_verify: true,
                from_addresses: Vec::new(),
                default_from: None,
                sharing: Sharing::Private,
                shared_with: Vec::new(),
                pop3_keep_on_server: true,
                store_sent: StoreSent::Auto,
            },
        )
        .await
        .expect("account");
    // Some fixtures install a plugin that fails on every message, which
    // the upload check would refuse: these tests are about run time.
    let registry = PluginRegistry::new(
        engine(),
        Arc::new(store.clone()),
        RegistrySettings {
            upload_check: false,
            ..RegistrySettings::default()
        },
    );
    for path in plugins {
        registry
            .install(&org.id, std::fs::read(path).expect("artifact"))
            .await
            .expect("install");
    }
    store
        .create_contact(
            &org.id,
            &NewCrmRecord {
                name: "Dana Client".into(),
                primary_email: Some("dana@client.example".into()),
                secondary_emails: vec![],
                owner: None,
                fields: serde_json::json!({}),
            },
        )
        .await
        .expect("contact");
    Fixture {
        store: store.clone(),
        org: org.id,
        account: account.id,
        registry,
    }
}

impl Fixture {
    async fn ingest(&self, key: &str, role: &str, raw: &str) -> MessageId {
        let location = Location::Local {
            key: key.into(),
            role: role.into(),
        };
        self.store
            .ingest_message(&self.org, &self.account, &location, raw.as_bytes())
            .await
            .expect("ingest")
            .message_id
    }

    fn pipeline(&self) -> Pipeline {
        Pipeline::new(self.store.clone(), self.registry.clone())
    }
}

const COMPLAINT: &str = "From: Dana Client <dana@client.example>\r\nTo: sales@northwind.example\r\n\
Subject: Still broken - very disappointed\r\nMessage-ID: <c1@client.example>\r\n\r\nThe export is still \
broken and nobody answers. I am very disappointed and frustrated. Please fix this immediately.\r\n";

const OUR_PROPOSAL: &str = "From: Sales <sales@northwind.example>\r\nTo: dana@client.example\r\n\
Subject: Proposal\r\nMessage-ID: <p1@northwind.example>\r\n\r\nHere is our proposal.\r\n";

const REPLY: &str = "From: Dana Client <dana@client.example>\r\nTo: sales@northwind.example\r\n\
Subject: Re: Proposal\r\nMessage-ID: <r1@client.example>\r\nIn-Reply-To: <p1@northwind.example>\r\n\r\n\
Sounds good, thanks.\r\n";

both_backends! {
    async fn each_message_is_classified_and_acted_on_once(db) {
        let f = fixture(&db.store, &[
            artifacts::PROVIDER_GENERIC,
            artifacts::CLASSIFIER_KEYWORDS,
            artifacts::WORKFLOW_FOLLOW_UP,
        ]).await;
        let complaint = f.ingest("c1", "inbox", COMPLAINT).await;
        f.ingest("p1", "sent", OUR_PROPOSAL).await;
        let reply = f.ingest("r1", "inbox", REPLY).await;

        let report = f.pipeline().run_pending(10).await.expect("pipeline");
        assert_eq!((report.processed, report.plugin_failures), (3, 0), "{report:?}");

        let classified = f.store.message_classifications(&f.org, &complaint).await.expect("read");
        assert_eq!(classified.len(), 1);
        assert_eq!(classified[0].plugin, "classifier-keywords");
        assert_eq!(classified[0].result["intent"]["label"], "complaint", "{:?}", classified[0].result);

        // The follow-up workflow labels complaints (applied) and notifies (pending).
        let actions = f.store.message_actions(&f.org, &complaint).await.expect("actions");
        assert!(actions.iter().any(|a| a.status == "applied" && a.action.to_string().contains("complaint")), "{actions:?}");
        assert!(actions.iter().any(|a| a.status == "pending"), "{actions:?}");
        let state = f.store.get_message(&f.org, &complaint).await.expect("get").summary.state;
        assert!(state.labels.contains(&"complaint".to_owned()), "{state:?}");

        // A reply to our own mail is a reply-received event: a follow-up task.
        let actions = f.store.message_actions(&f.org, &reply).await.expect("actions");
        assert!(actions.iter().any(|a| a.action.to_string().contains("Proposal")), "{actions:?}");

        // Nothing runs twice: not on a second pass, not after re-ingesting.
        f.ingest("c1-again", "inbox", COMPLAINT).await;
        let again = f.pipeline().run_pending(10).await.expect("pipeline");
        assert_eq!(again.processed, 0);
        assert_eq!(f.store.message_classifications(&f.org, &complaint).await.expect("read").len(), 1);
    }

    async fn a_failing_plugin_is_recorded_and_the_others_still_run(db) {
        let f = fixture(&db.store, &[artifacts::TRAP, artifacts::CLASSIFIER_KEYWORDS]).await;
        let id = f.ingest("c1", "inbox", COMPLAINT).await;
        let report = f.pipeline().run_pending(10).await.expect("pipeline");
        assert_eq!((report.processed, report.plugin_failures), (1, 1), "{report:?}");
        let classified = f.store.message_classifications(&f.org, &id).await.expect("read");
        assert_eq!(classified.iter().map(|c| c.plugin.as_str()).collect::<Vec<_>>(), ["classifier-keywords"]);
        // The message itself is untouched and readable.
        assert_eq!(f.store.get_raw_message(&f.org, &id).await.expect("raw"), COMPLAINT.as_bytes());
    }

    async fn a_poisoned_workflow_fails_alone_and_other_orgs_and_results_commit(db) {
        let a = fixture(&db.store, &[
            artifacts::CLASSIFIER_KEYWORDS,
            artifacts::WORKFLOW_FOLLOW_UP,
            artifacts::POISON_WORKFLOW,
        ]).await;
        let b = fixture_for(&db.store, "Contoso", "sales@contoso.example", &[
            artifacts::CLASSIFIER_KEYWORDS,
            artifacts::WORKFLOW_FOLLOW_UP,
        ]).await;
        let poisoned = a.ingest("c1", "inbox", COMPLAINT).await;
        let fine = b.ingest("c1", "inbox", COMPLAINT).await;

        // One pass, one batch holding both orgs' messages.
        let report = a.pipeline().run_pending(200).await.expect("pipeline");
        assert_eq!((report.processed, report.plugin_failures), (2, 1), "{report:?}");

        // Org A: the poisoned workflow's label is refused; the classifier's
        // answer and the other workflow's label commit.
        assert_eq!(a.store.message_classifications(&a.org, &poisoned).await.expect("read").len(), 1);
        let state = a.store.get_message(&a.org, &poisoned).await.expect("get").summary.state;
        assert_eq!(state.labels, ["complaint"], "{state:?}");
        let actions = a.store.message_actions(&a.org, &poisoned).await.expect("actions");
        assert!(actions.iter().all(|x| x.source != "poison-workflow"), "{actions:?}");
        let view = a.registry.get(&a.org, "poison-workflow").await.expect("view");
        assert_eq!(view.metrics.failures.get("invalid_output"), Some(&1));
        let events = a.registry.events(&a.org, Some("poison-workflow"), 10).await.expect("events");
        assert!(events.iter().any(|e| e.message.contains("`actions[0].add-label`")), "{events:?}");

        // Org B: untouched by org A's plugin.
        let state = b.store.get_message(&b.org, &fine).await.expect("get").summary.state;
        assert_eq!(state.labels, ["complaint"], "{state:?}");
        assert_eq!(b.store.message_classifications(&b.org, &fine).await.expect("read").len(), 1);
    }

    async fn a_run_the_store_refuses_holds_back_no_other_and_is_given_up_after_bounded_tries(db) {
        let f = fixture(&db.store, &[artifacts::CLASSIFIER_KEYWORDS, artifacts::WORKFLOW_FOLLOW_UP]).await;
        let doomed = f.ingest("c1", "inbox", COMPLAINT).await;
        let others = [
            f.ingest("p1", "sent", OUR_PROPOSAL).await,
            f.ingest("r1", "inbox", REPLY).await,
        ];
        refuse_classifications_of(&db, &doomed).await;
        let pipeline = f.pipeline();

        // The batch fails; its runs commit one by one, the refused one stays
        // pending for a later pass.
        let first = pipeline.run_pending(10).await.expect("first pass");
        assert_eq!((first.processed, first.failed), (2, 0), "{first:?}");
        for id in &others {
            assert_eq!(run_status(&f.store, id).await.0, "done");
        }
        assert_eq!(run_status(&f.store, &doomed).await.0, "pending");

        // Retried a bounded number of times, then finished as failed with why.
        let mut failed = 0;
        for _ in 1..mailroom::pipeline::MAX_ATTEMPTS {
            let pass = pipeline.run_pending(10).await.expect("retry pass");
            assert_eq!(pass.processed, 0, "{pass:?}");
            failed += pass.failed;
        }
        assert_eq!(failed, 1);
        let (status, detail) = run_status(&f.store, &doomed).await;
        assert_eq!(status, "failed");
        let detail = detail.expect("why the run failed");
        assert!(detail.contains("given up after 3 attempt(s)") && detail.contains("refused by the test"), "{detail}");
        assert_eq!(pipeline.run_pending(10).await.expect("nothing left"), Default::default());
    }
}

/// Makes the database refuse any classification of `id`: a store failure
/// of one message that no validation foresaw.
async fn refuse_classifications_of(db: &mailroom_store::testing::TestDb, id: &MessageId) {
    refuse_inserts(db, "message_classifications", id).await;
}

/// Makes the database refuse every row of `table` about message `id`
/// (trigger `refuse_<table>`; [`allow_inserts`] drops it).
async fn refuse_inserts(db: &mailroom_store::testing::TestDb, table: &str, id: &MessageId) {
    let statements = match db.backend() {
        mailroom_store::Backend::Sqlite => vec![format!(
            "CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} \
             WHEN NEW.message_id = '{}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
            id.as_str()
        )],
        mailroom_store::Backend::Postgres => vec![
            format!(
                "CREATE FUNCTION refuse_{table}() RETURNS trigger AS $$ BEGIN \
                 IF NEW.message_id = '{}' THEN RAISE EXCEPTION 'refused by the test'; END IF; \
                 RETURN NEW; END $$ LANGUAGE plpgsql",
                id.as_str()
            ),
            format!(
                "CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION refuse_{table}()"
            ),
        ],
    };
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(db.store.pool())
            .await
            .expect("trigger");
    }
}

/// Undoes [`refuse_inserts`].
async fn allow_inserts(db: &mailroom_store::testing::TestDb, table: &str) {
    let sql = match db.backend() {
        mailroom_store::Backend::Sqlite => format!("DROP TRIGGER refuse_{table}"),
        mailroom_store::Backend::Postgres => format!("DROP TRIGGER refuse_{table} ON {table}"),
    };
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(db.store.pool())
        .await
        .expect("drop trigger");
}

/// The status of a message's pipeline run, and its detail.
async fn run_status(store: &Store, id: &MessageId) -> (String, Option<String>) {
    use sqlx::Row;
    let row = sqlx::query("SELECT status, detail FROM pipeline_runs WHERE message_id = $1")
        .bind(id.as_str())
        .fetch_one(store.pool())
        .await
        .expect("run");
    (row.get("status"), row.get("detail"))
}

mod budget;
mod executors;
mod outside_actions;
mod shadow;
