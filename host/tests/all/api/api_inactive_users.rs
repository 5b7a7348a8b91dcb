//! A user leaving the org, against a real Dovecot: an admin locks the
//! user's account (so it cannot go Private), then deactivates the user.
//! Their account stops syncing and its push watcher stops at once; their
//! mail leaves every related list, for everyone, until an admin backs it
//! up into the org archive; the inactive users' list shows what they
//! leave behind; reactivating brings the account back, downloading only
//! what arrived meanwhile.

use super::crm_support::{World, mail, mailbox, sync, user};
use axum::http::{Method, StatusCode};
use mailroom::store::{Protocol, Sharing};
use serde_json::{Value, json};
use std::time::Duration;

fn subjects(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {page}"))
        .iter()
        .map(|m| m["subject"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn stored_with_subject(w: &World, subject: &str) -> i64 {
    w.count(&format!(
        "SELECT COUNT(*) FROM messages WHERE subject = '{subject}'"
    ))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_users_mail_stops_syncing_and_is_hidden_until_backed_up() {
    let w = World::start().await;
    let (dan, dan_token) = user(&w, "dan@acme.example").await;
    let (_, viewer) = user(&w, "vic@acme.example").await;
    let (admin, get) = (w.token.clone(), Method::GET);
    let (status, contact) = w
        .api(
            Method::POST,
            "/v1/contacts",
            &admin,
            Some(json!({"name": "Tom Becker", "primary_email": "tom@brightwave.example"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{contact}");
    let related = format!(
        "/v1/contacts/{}/messages",
        contact["id"].as_str().expect("id")
    );
    let tom = "Tom Becker <tom@brightwave.example>";
    let date = "Mon, 03 Nov 2025 09:00:00 +0000";
    w.dovecot.seed(
        "alice",
        "INBOX",
        &mail(
            tom,
            "Before leaving",
            "before@brightwave.example",
            date,
            None,
        ),
    );
    let account = mailbox(&w, &dan, "alice", Protocol::Imap, Sharing::Public).await;
    let kept_private = mailbox(&w, &dan, "bob", Protocol::Pop3, Sharing::Private).await;
    assert_eq!(sync(&w, &account).await.new_messages(), 1);
    let (_, seen) = w.api(get.clone(), &related, &viewer, None).await;
    assert_eq!(subjects(&seen), ["Before leaving"]);

    // Lock, then deactivate: the user can no longer hide the mail first.
    let lock = w
        .api(
            Method::POST,
            &format!("/v1/accounts/{account}/lock"),
            &admin,
            None,
        )
        .await;
    assert_eq!(lock.0, StatusCode::OK, "{}", lock.1);
    let (status, body) = w
        .api(
            Method::PUT,
            &format!("/v1/accounts/{account}/sharing"),
            &dan_token,
            Some(json!({"sharing": "private"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // The push watcher runs until the deactivation.
    w.state.sync.watch(&w.org, &account).await.expect("watch");
    let (status, body) = w
        .api(
            Method::POST,
            &format!("/v1/users/{dan}/deactivate"),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Hidden from everyone, admins included, without a backup.
    for token in [&viewer, &admin] {
        let (_, page) = w.api(get.clone(), &related, token, None).await;
        assert_eq!(subjects(&page), Vec::<String>::new(), "{page}");
        assert_eq!(page["counts"]["all"], 0, "{page}");
        let (_, list) = w.api(get.clone(), "/v1/messages", token, None).await;
        assert_eq!(subjects(&list), Vec::<String>::new(), "{list}");
    }

    // Sync and push stopped: a sync is refused with the reason, the
    // scheduler does not pick the account, mail arriving now stays out.
    let (status, body) = w
        .api(
            Method::POST,
            &format!("/v1/accounts/{account}/sync"),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.to_string().contains("owner is deactivated"), "{body}");
    let refused = w.state.sync.sync_one(&w.org, &account).await;
    assert!(refused.is_err_and(|e| e.to_string().contains("owner is deactivated")));
    let due = w.store().accounts_to_sync().await.expect("due");
    assert!(!due.iter().any(|(_, a)| a == &account), "{due:?}");
    w.dovecot.seed(
        "alice",
        "INBOX",
        &mail(tom, "While away", "away@brightwave.example", date, None),
    );
    // IDLE would have brought it within a second had the watcher lived.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(stored_with_subject(&w, "While away").await, 0);

    // The inactive users' list: dan, his accounts, their mail and bytes.
    let (status, inactive) = w
        .api(get.clone(), "/v1/users?status=inactive", &admin, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{inactive}");
    let listed = inactive.as_array().expect("users");
    assert_eq!(listed.len(), 1, "{inactive}");
    assert_eq!(listed[0]["id"], json!(dan));
    assert_eq!(listed[0]["active"], false);
    let accounts = listed[0]["accounts"].as_array().expect("accounts");
    let shown = accounts
        .iter()
        .find(|a| a["id"] == json!(account))
        .expect("the IMAP account");
    assert_eq!(
        (
            &shown["sharing"],
            &shown["messages"],
            &shown["locked_by_admin"]
        ),
        (&json!("public"), &json!(1), &json!(true)),
        "{shown}"
    );
    let bytes = mail(
        tom,
        "Before leaving",
        "before@brightwave.example",
        date,
        None,
    )
    .len();
    assert_eq!(shown["storage_bytes"], json!(bytes), "{shown}");
    assert_eq!(accounts.len(), 2, "{inactive}");

    // The backup: the Public account goes to the org archive, the Private
    // one is refused with the reason; the action is audited.
    let (status, backup) = w
        .api(
            Method::POST,
            &format!("/v1/users/{dan}/email-backup"),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{backup}");
    assert_eq!(backup["backed_up"], json!([account]), "{backup}");
    assert_eq!(backup["messages"], 1, "{backup}");
    assert_eq!(
        backup["refused"][0]["account"],
        json!(kept_private),
        "{backup}"
    );
    assert!(
        backup["refused"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("Public")),
        "{backup}"
    );
    let (_, audit) = w.api(get.clone(), "/v1/audit", &admin, None).await;
    assert!(
        audit
            .as_array()
            .expect("entries")
            .iter()
            .any(|e| e["action"] == "user.email_backup" && e["target"] == json!(dan)),
        "{audit}"
    );
    let (status, body) = w
        .api(
            Method::POST,
            &format!("/v1/users/{dan}/email-backup"),
            &viewer,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    for token in [&viewer, &admin] {
        let (_, page) = w.api(get.clone(), &related, token, None).await;
        assert_eq!(subjects(&page), ["Before leaving"], "{page}");
    }
    // Backed up is not syncing.
    assert!(w.state.sync.sync_one(&w.org, &account).await.is_err());

    // Reactivated: the account syncs again and downloads only the new mail.
    let (status, body) = w
        .api(
            Method::POST,
            &format!("/v1/users/{dan}/activate"),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let report = sync(&w, &account).await;
    assert_eq!((report.new_messages(), report.fetched()), (1, 1));
    let (_, page) = w.api(get, &related, &viewer, None).await;
    assert_eq!(subjects(&page), ["While away", "Before leaving"], "{page}");
}
