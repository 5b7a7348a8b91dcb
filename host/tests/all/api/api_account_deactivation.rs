//! Deactivating an account's integration against a real Dovecot. The mode
//! is required. `retain` stops syncing and keeps messages, folders, rules
//! and labels; activated again, the account re-attaches to them and
//! downloads only what arrived meanwhile. `delete` removes folders, rules,
//! labels and the messages no other account holds, keeps those another
//! account holds, and says what it removed.

use super::crm_support::{World, mail, mailbox, sync, user};
use axum::http::{Method, StatusCode};
use mailroom::ids::AccountId;
use mailroom::store::rules::RuleScope;
use mailroom::store::{Protocol, Sharing};
use serde_json::{Value, json};

async fn id_of(w: &World, token: &str, account: &AccountId, subject: &str) -> String {
    let (status, page) = w
        .api(
            Method::GET,
            &format!(
                "/v1/messages?account={account}&text={}",
                subject.replace(' ', "%20")
            ),
            token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{subject} not listed: {page}"))
        .to_owned()
}

async fn label(w: &World, token: &str, id: &str, labels: Value) {
    let (status, body) = w
        .api(
            Method::PATCH,
            &format!("/v1/messages/{id}/state"),
            token,
            Some(json!({"labels": labels})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn add_rule(w: &World, account: &AccountId) {
    let rule = serde_json::from_value(json!({"name": "VIP", "actions": [{"add-label": "vip"}]}))
        .expect("rule");
    w.store()
        .create_rules(&w.org, &RuleScope::Account(account.clone()), &[rule], None)
        .await
        .expect("rule stored");
}

async fn rules_of(w: &World, account: &AccountId) -> i64 {
    w.count(&format!(
        "SELECT COUNT(*) FROM rules WHERE account_id = '{account}'"
    ))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retain_keeps_everything_and_reconnecting_downloads_nothing_twice() {
    let w = World::start().await;
    let (dan, dan_token) = user(&w, "dan@acme.example").await;
    let date = "Mon, 03 Nov 2025 09:00:00 +0000";
    for (subject, id) in [("First", "first@x.example"), ("Second", "second@x.example")] {
        w.dovecot.seed(
            "alice",
            "INBOX",
            &mail("a@x.example", subject, id, date, None),
        );
    }
    let account = mailbox(&w, &dan, "alice", Protocol::Imap, Sharing::Private).await;
    assert_eq!(sync(&w, &account).await.fetched(), 2);
    let first = id_of(&w, &dan_token, &account, "First").await;
    label(&w, &dan_token, &first, json!(["vip"])).await;
    add_rule(&w, &account).await;
    let folders = w
        .count(&format!(
            "SELECT COUNT(*) FROM folders WHERE account_id = '{account}'"
        ))
        .await;

    let path = format!("/v1/accounts/{account}/deactivate");
    let (status, body) = w
        .api(Method::POST, &path, &dan_token, Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("\\\"retain\\\""), "{body}");
    let (status, report) = w
        .api(
            Method::POST,
            &path,
            &dan_token,
            Some(json!({"mode": "retain"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (
            &report["messages_removed"],
            &report["folders_removed"],
            &report["rules_removed"]
        ),
        (&json!(0), &json!(0), &json!(0)),
        "{report}"
    );
    let (status, body) = w
        .api(
            Method::POST,
            &path,
            &dan_token,
            Some(json!({"mode": "retain"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // Not synced while deactivated.
    let (status, body) = w
        .api(
            Method::POST,
            &format!("/v1/accounts/{account}/sync"),
            &dan_token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body.to_string().contains("integration is deactivated"),
        "{body}"
    );
    w.dovecot.seed(
        "alice",
        "INBOX",
        &mail("a@x.example", "Third", "third@x.example", date, None),
    );
    assert!(w.state.sync.sync_one(&w.org, &account).await.is_err());
    assert_eq!(rules_of(&w, &account).await, 1);

    // Activated: only the new message is downloaded; state is where it was.
    let (status, shown) = w
        .api(
            Method::POST,
            &format!("/v1/accounts/{account}/activate"),
            &dan_token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert!(shown["deactivated_at"].is_null(), "{shown}");
    let report = sync(&w, &account).await;
    assert_eq!((report.fetched(), report.new_messages()), (1, 1));
    let (_, detail) = w
        .api(
            Method::GET,
            &format!("/v1/messages/{first}"),
            &dan_token,
            None,
        )
        .await;
    assert_eq!(detail["state"]["labels"], json!(["vip"]), "{detail}");
    assert_eq!(
        w.count(&format!(
            "SELECT COUNT(*) FROM folders WHERE account_id = '{account}'"
        ))
        .await,
        folders
    );
    assert_eq!(rules_of(&w, &account).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_removes_folders_rules_labels_and_mail_no_other_account_holds() {
    let w = World::start().await;
    let (dan, dan_token) = user(&w, "dan@acme.example").await;
    let date = "Mon, 03 Nov 2025 09:00:00 +0000";
    let shared = mail("a@x.example", "Shared", "shared@x.example", date, None);
    w.dovecot.seed("alice", "INBOX", &shared);
    w.dovecot.seed("bob", "INBOX", &shared);
    w.dovecot.seed(
        "bob",
        "INBOX",
        &mail("a@x.example", "Only here", "only@x.example", date, None),
    );
    let keeper = mailbox(&w, &dan, "alice", Protocol::Imap, Sharing::Private).await;
    let leaving = mailbox(&w, &dan, "bob", Protocol::Imap, Sharing::Private).await;
    sync(&w, &keeper).await;
    sync(&w, &leaving).await;
    let only = id_of(&w, &dan_token, &leaving, "Only here").await;
    let both = id_of(&w, &dan_token, &leaving, "Shared").await;
    label(&w, &dan_token, &only, json!(["temp", "q4"])).await;
    add_rule(&w, &leaving).await;

    let (status, report) = w
        .api(
            Method::POST,
            &format!("/v1/accounts/{leaving}/deactivate"),
            &dan_token,
            Some(json!({"mode": "delete"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["messages_removed"], 1, "{report}");
    assert_eq!(report["messages_kept"], 1, "{report}");
    assert_eq!(report["rules_removed"], 1, "{report}");
    assert_eq!(report["labels_removed"], json!(["q4", "temp"]), "{report}");
    assert!(report["folders_removed"].as_i64() >= Some(1), "{report}");
    assert_eq!(
        w.count(&format!(
            "SELECT COUNT(*) FROM folders WHERE account_id = '{leaving}'"
        ))
        .await,
        0
    );
    let (status, _) = w
        .api(
            Method::GET,
            &format!("/v1/messages/{only}"),
            &dan_token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, detail) = w
        .api(
            Method::GET,
            &format!("/v1/messages/{both}"),
            &dan_token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["mailbox"], json!(keeper), "{detail}");
    assert_eq!(
        w.count(&format!(
            "SELECT COUNT(*) FROM rules WHERE account_id = '{leaving}'"
        ))
        .await,
        0
    );
}
