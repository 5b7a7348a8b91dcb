//! A contact's related list as a CRM page shows it: mail reached by the
//! contact's primary and secondary address through the IMAP and POP3
//! accounts of several users (real Dovecot), and mail sent through the
//! CRM (real submission), cut into the five tabs (`all`, `crm_sent`,
//! `imap`, `pop`, `user`), each counted, newest or oldest first, one
//! conversation at a time. A tab never shows what the full list hides: a
//! Private account's mail stays its owner's in every tab and count.

use super::crm_support::{World, mail, mailbox, sync, user};
use axum::http::{Method, StatusCode};
use mailroom::store::{Location, Protocol, Sharing, now_ms};
use serde_json::{Value, json};

/// The subjects of a page, in order.
fn subjects(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {page}"))
        .iter()
        .map(|m| m["subject"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// `(all, crm_sent, imap, pop)`.
type Tabs = (i64, i64, i64, i64);

/// The tab counts and the per-user counts, sorted.
fn counts(page: &Value) -> (Tabs, Vec<(String, i64)>) {
    let c = &page["counts"];
    let n = |k: &str| c[k].as_i64().unwrap_or_else(|| panic!("no {k} in {c}"));
    let mut by_user: Vec<(String, i64)> = c["by_user"]
        .as_array()
        .expect("by_user")
        .iter()
        .map(|u| (u["user"].as_str().expect("user").to_owned(), n_of(u)))
        .collect();
    by_user.sort();
    ((n("all"), n("crm_sent"), n("imap"), n("pop")), by_user)
}

fn n_of(u: &Value) -> i64 {
    u["count"].as_i64().expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_five_tabs_of_a_contact_reached_by_both_addresses_through_imap_and_pop3() {
    let w = World::start().await;
    let admin = w.admin.clone();
    let (bea, _) = user(&w, "bea@acme.example").await;
    let (carl, carl_token) = user(&w, "carl@acme.example").await;
    let (_, viewer) = user(&w, "viewer@acme.example").await;

    let contact = w
        .api(
            Method::POST,
            "/v1/contacts",
            &w.token,
            Some(
                json!({"name": "Tom Becker", "primary_email": "tom@brightwave.example",
                "secondary_emails": ["ap@brightwave.example"]}),
            ),
        )
        .await;
    assert_eq!(contact.0, StatusCode::CREATED, "{}", contact.1);
    let related = format!(
        "/v1/contacts/{}/messages",
        contact.1["id"].as_str().expect("id")
    );

    let (alice, bob) = ("alice", "bob");
    let tom = "Tom Becker <tom@brightwave.example>";
    let ap = "Accounts Payable <ap@brightwave.example>";
    let d = |h: u8| format!("Mon, 03 Nov 2025 {h:02}:00:00 +0000");
    w.dovecot.seed(
        alice,
        "INBOX",
        &mail(
            tom,
            "Pricing question",
            "q1@brightwave.example",
            &d(9),
            None,
        ),
    );
    w.dovecot.seed(
        alice,
        "INBOX",
        &mail(
            ap,
            "Re: Pricing question",
            "q2@brightwave.example",
            &d(10),
            Some("q1@brightwave.example"),
        ),
    );
    w.dovecot.seed(
        bob,
        "INBOX",
        &mail(ap, "Invoice", "inv@brightwave.example", &d(11), None),
    );
    // One message in both mailboxes: stored once, seen through both.
    let both = mail(
        tom,
        "To both of you",
        "both@brightwave.example",
        &d(12),
        None,
    );
    w.dovecot.seed(alice, "INBOX", &both);
    w.dovecot.seed(bob, "INBOX", &both);
    // Unrelated mail stays out of every tab.
    w.dovecot.seed(
        alice,
        "INBOX",
        &mail(
            "someone@else.example",
            "Unrelated",
            "x@else.example",
            &d(13),
            None,
        ),
    );

    // The admin's IMAP account (which also sends), bea's POP3 account: both
    // Public. Carl's account is Private.
    let imap = w.account(None, &w.user().password.clone()).await;
    w.store()
        .set_account_sharing(&w.org, &imap, Sharing::Public, &[])
        .await
        .expect("share");
    let pop = mailbox(&w, &bea, bob, Protocol::Pop3, Sharing::Public).await;
    let private = mailbox(&w, &carl, alice, Protocol::Imap, Sharing::Private).await;
    w.store()
        .ingest_message(
            &w.org,
            &private,
            &Location::Local {
                key: "note".into(),
                role: "inbox".into(),
            },
            &mail(tom, "Private note", "note@brightwave.example", &d(8), None),
        )
        .await
        .expect("ingest");
    assert_eq!(
        sync(&w, &imap).await.new_messages(),
        4,
        "four related, one not"
    );
    // "To both of you" is stored already (through alice): matched, not new.
    assert_eq!(sync(&w, &pop).await.new_messages(), 1);

    // Sent through the CRM to the contact: the stored copy is `crm_sent`.
    let sent = w
        .api(
            Method::POST,
            &format!("/v1/accounts/{imap}/send"),
            &w.token,
            Some(json!({"to": [tom], "subject": "Our offer", "text": "Here it is.\nTom\n"})),
        )
        .await;
    assert_eq!(sent.0, StatusCode::ACCEPTED, "{}", sent.1);
    let report = w.sender().run_due(now_ms()).await.expect("outbox pass");
    assert_eq!(report.processed, 1);
    sync(&w, &imap).await;

    let page = |token: String, query: String| {
        let (w, related) = (&w, &related);
        async move {
            let (status, body) = w
                .api(Method::GET, &format!("{related}{query}"), &token, None)
                .await;
            assert_eq!(status, StatusCode::OK, "{query}: {body}");
            body
        }
    };
    let as_viewer = |query: &str| page(viewer.clone(), query.to_owned());

    let imap_mail = [
        "Our offer",
        "To both of you",
        "Re: Pricing question",
        "Pricing question",
    ];
    let all = as_viewer("").await;
    assert_eq!(
        subjects(&all),
        [
            "Our offer",
            "To both of you",
            "Invoice",
            "Re: Pricing question",
            "Pricing question"
        ]
    );
    let mut expected_users = vec![(admin.to_string(), 4), (bea.to_string(), 2)];
    expected_users.sort();
    assert_eq!(counts(&all), ((5, 1, 4, 2), expected_users.clone()));
    for (query, expected) in [
        ("?filter=all", imap_mail.len() + 1),
        ("?filter=crm_sent", 1),
        ("?filter=imap", 4),
        ("?filter=pop", 2),
    ] {
        let tab = as_viewer(query).await;
        assert_eq!(subjects(&tab).len(), expected, "{query}: {tab}");
        assert_eq!(
            counts(&tab),
            ((5, 1, 4, 2), expected_users.clone()),
            "{query}: counts are of the whole record"
        );
    }
    assert_eq!(
        subjects(&as_viewer("?filter=crm_sent").await),
        ["Our offer"]
    );
    assert_eq!(subjects(&as_viewer("?filter=imap").await), imap_mail);
    assert_eq!(
        subjects(&as_viewer("?filter=pop").await),
        ["To both of you", "Invoice"]
    );
    assert_eq!(
        subjects(&as_viewer(&format!("?filter=user&user={admin}")).await),
        imap_mail
    );
    assert_eq!(
        subjects(&as_viewer(&format!("?user={bea}")).await),
        ["To both of you", "Invoice"]
    );
    // Carl's Private mail: in no tab of anyone else, not even his own.
    let carls = as_viewer(&format!("?filter=user&user={carl}")).await;
    assert_eq!(subjects(&carls), Vec::<String>::new());
    let admins_view = page(w.token.clone(), format!("?filter=user&user={carl}")).await;
    assert_eq!(subjects(&admins_view), Vec::<String>::new());
    assert_eq!(counts(&admins_view).0, (5, 1, 4, 2));
    // Carl sees it, in the full list and in his tab.
    let his = page(carl_token.clone(), format!("?filter=user&user={carl}")).await;
    assert_eq!(subjects(&his), ["Private note"]);
    let his_counts = counts(&his);
    assert_eq!(his_counts.0, (6, 1, 5, 2));
    assert!(his_counts.1.contains(&(carl.to_string(), 1)), "{his}");

    // Oldest first, page by page.
    let first = as_viewer("?sort=oldest&limit=2").await;
    assert_eq!(
        subjects(&first),
        ["Pricing question", "Re: Pricing question"]
    );
    let cursor = first["next_cursor"].as_str().expect("cursor").to_owned();
    let second = as_viewer(&format!("?sort=oldest&limit=2&cursor={cursor}")).await;
    assert_eq!(subjects(&second), ["Invoice", "To both of you"]);
    let cursor2 = second["next_cursor"].as_str().expect("cursor").to_owned();
    let last = as_viewer(&format!("?sort=oldest&limit=2&cursor={cursor2}")).await;
    assert_eq!(subjects(&last), ["Our offer"]);
    assert!(last["next_cursor"].is_null(), "{last}");

    // Threads: the reply shares the question's thread.
    let items = all["items"].as_array().expect("items");
    let thread_of = |subject: &str| {
        items
            .iter()
            .find(|m| m["subject"] == subject)
            .map(|m| m["thread"].clone())
            .expect("listed")
    };
    assert_eq!(thread_of("Pricing question"), "q1@brightwave.example");
    assert_eq!(thread_of("Re: Pricing question"), "q1@brightwave.example");
    assert_eq!(thread_of("Invoice"), "inv@brightwave.example");
    assert_eq!(
        subjects(&as_viewer("?thread=q1@brightwave.example&sort=oldest").await),
        ["Pricing question", "Re: Pricing question"]
    );

    // What cannot be answered is refused, saying what to send.
    for (query, says) in [
        ("?filter=user", "user=<user id>"),
        ("?filter=imap&user=x", "goes with filter=user"),
        ("?filter=user&user=nobody", "no user of this org"),
        (
            &format!("?sort=newest&cursor={cursor}") as &str,
            "other order",
        ),
        ("?filter=everything", "crm_sent"),
    ] {
        let (status, body) = w
            .api(Method::GET, &format!("{related}{query}"), &viewer, None)
            .await;
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST,
            "{query}: {status} {body}"
        );
        assert!(body.to_string().contains(says), "{query}: {body}");
    }
}
