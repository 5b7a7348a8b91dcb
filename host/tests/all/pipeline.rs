//! The message pipeline over a real store (SQLite and PostgreSQL) and real
//! plugins: classifications and workflow actions are stored once per
//! message, user-state actions applied, a failing plugin recorded without
//! stopping the others, and nothing is processed twice.

use mailroom::ids::{AccountId, MessageId, OrgId};
use mailroom::pipeline::Pipeline;
use mailroom::plugin::registry::{PluginRegistry, RegistrySettings};
use mailroom::plugin::{EngineSettings, PluginEngine};
use mailroom::store::{
    AuthKind, Credentials, Location, NewAccount, NewCrmRecord, Protocol, Security, ServerSettings,
    Sharing, Store, StoreSent,
};
use mailroom_plugin_artifacts as artifacts;
use mailroom_store::both_backends;
use std::sync::{Arc, OnceLock};

const US: &str = "sales@northwind.example";

fn engine() -> Arc<PluginEngine> {
    static ENGINE: OnceLock<Arc<PluginEngine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| PluginEngine::new(&EngineSettings::default()).expect("engine"))
        .clone()
}

struct Fixture {
    store: Store,
    org: OrgId,
    account: AccountId,
    registry: Arc<PluginRegistry>,
}

async fn fixture(store: &Store, plugins: &[&str]) -> Fixture {
    let (org, admin, _) = store
        .create_org_with_admin("Northwind", US, "Sales")
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
                email: US.into(),
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
    let registry = PluginRegistry::new(
        engine(),
        Arc::new(store.clone()),
        RegistrySettings::default(),
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
}
