//! The mbox export of an account and of a user, read back by another
//! client: Python's `mailbox.mbox` finds the same messages (Message-IDs)
//! with the same bodies once mboxrd's `>From ` quoting is undone, also for
//! a body line that starts with `From ` and one already quoted, across
//! more messages than one page of the export's listing. Only the owner or
//! an admin may export, and an export holds only what the caller sees.

use super::crm_support::{World, get_bytes, mailbox, sync, user};
use axum::http::StatusCode;
use mailroom::store::{Protocol, Sharing};
use std::collections::BTreeMap;

/// Message-ID → body, as Python's `mailbox.mbox` reads the file, with
/// mboxrd's quoting undone.
fn read_back(mbox: &[u8]) -> BTreeMap<String, String> {
    let dir = mailroom::store::testing::TempDir::new("mbox-export").expect("dir");
    let path = dir.path().join("export.mbox");
    std::fs::write(&path, mbox).expect("write");
    let script = r#"
import json, mailbox, re, sys
out = {}
for message in mailbox.mbox(sys.argv[1]):
    body = message.get_payload()
    out[message["Message-ID"]] = re.sub(r"(?m)^>(>*From )", r"\1", body)
print(json.dumps(out))
"#;
    let run = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .expect("python3 runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    serde_json::from_slice(&run.stdout).expect("JSON from python")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mbox_export_reads_back_in_python_to_the_same_messages() {
    let w = World::start().await;
    let (dan, dan_token) = user(&w, "dan@acme.example").await;
    let (_, other) = user(&w, "olga@acme.example").await;
    let tricky = [
        (
            "<from-line@example.org>",
            "Hello,\r\nFrom the desk of Tom: the figures.\r\n>From an old quote\r\n\r\nFrom\r\nBye\r\n",
        ),
        (
            "<no-final-newline@example.org>",
            "just one line without a break",
        ),
    ];
    let mut expected = BTreeMap::new();
    for (n, (id, body)) in tricky.iter().enumerate() {
        let raw = format!(
            "From: Tom <tom@example.org>\r\nSubject: tricky {n}\r\nMessage-ID: {id}\r\n\
             Date: Mon, 03 Nov 2025 0{n}:00:00 +0000\r\n\r\n{body}"
        );
        w.dovecot.seed("alice", "INBOX", raw.as_bytes());
        expected.insert((*id).to_owned(), (*body).to_owned());
    }
    // More than one page of the export's listing (200).
    let many: Vec<Vec<u8>> = (0..230)
        .map(|n| {
            let id = format!("<bulk-{n}@example.org>");
            let body = format!("Message {n}\r\n");
            expected.insert(id.clone(), body.clone());
            format!(
                "From: Client <client@example.org>\r\nSubject: bulk {n}\r\nMessage-ID: {id}\r\n\r\n{body}"
            )
            .into_bytes()
        })
        .collect();
    w.dovecot
        .seed_inbox_many("alice", many.iter().map(Vec::as_slice));
    let account = mailbox(&w, &dan, "alice", Protocol::Imap, Sharing::Private).await;
    assert_eq!(sync(&w, &account).await.new_messages(), 232);

    let path = format!("/v1/accounts/{account}/export.mbox");
    let (status, content_type, mbox) = get_bytes(&w, &path, &dan_token).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&mbox));
    assert_eq!(content_type, "application/mbox");
    assert!(mbox.starts_with(b"From tom@example.org Mon Nov  3 00:00:00 2025\n"));
    let text = String::from_utf8_lossy(&mbox);
    assert!(
        text.contains("\r\n>From the desk of Tom") && text.contains("\r\n>>From an old quote"),
        "body From lines are quoted"
    );
    // Each message read back unquotes to its stored bytes (a message
    // without a final line break gains one).
    let mut got = read_back(&mbox);
    let unbroken = got
        .get_mut("<no-final-newline@example.org>")
        .expect("listed");
    *unbroken = unbroken.trim_end_matches('\n').to_owned();
    assert_eq!(got, expected);

    // The user's export holds the same; an admin's holds what the admin
    // sees of a Private account (nothing); another user may not export.
    let (status, _, of_user) =
        get_bytes(&w, &format!("/v1/users/{dan}/export.mbox"), &dan_token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read_back(&of_user).len(), expected.len());
    let (status, _, by_admin) = get_bytes(&w, &path, &w.token).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        by_admin.is_empty(),
        "a Private account's mail is its owner's alone"
    );
    w.store()
        .set_account_sharing(&w.org, &account, Sharing::Public, &[])
        .await
        .expect("share");
    let (_, _, by_admin) = get_bytes(&w, &path, &w.token).await;
    assert_eq!(read_back(&by_admin).len(), expected.len());
    for path in [path.clone(), format!("/v1/users/{dan}/export.mbox")] {
        let (status, _, body) = get_bytes(&w, &path, &other).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{}",
            String::from_utf8_lossy(&body)
        );
    }
}
