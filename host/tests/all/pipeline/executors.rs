//! The executors after the pipeline, on both backends, with the bundled
//! follow-up workflow: a complaint notifies the account's owner and a reply
//! makes them a task, each once, for that person alone, shown by the API
//! and live on the notification stream; an action for someone who is not a
//! user is refused with the reason; a store failure is retried and then
//! succeeds once.

use super::*;
use crate::common::App;
use axum::http::{Method, StatusCode};
use mailroom::store::{NewUser, Role};
use serde_json::json;
use std::collections::BTreeMap;

async fn token(store: &Store, org: &OrgId, user: &mailroom::ids::UserId) -> String {
    store
        .create_token(org, user, "test")
        .await
        .expect("token")
        .secret
        .expose()
        .to_owned()
}

async fn colleague(store: &Store, org: &OrgId) -> mailroom::ids::UserId {
    store
        .create_user(
            org,
            &NewUser {
                email: "colleague@northwind.example".into(),
                display_name: "Colleague".into(),
                role: Role::Admin,
                licensed: true,
            },
        )
        .await
        .expect("user")
        .id
}

const FOLLOW_UP: [&str; 3] = [
    artifacts::PROVIDER_GENERIC,
    artifacts::CLASSIFIER_KEYWORDS,
    artifacts::WORKFLOW_FOLLOW_UP,
];

both_backends! {
    async fn tasks_and_notifications_are_made_once_for_their_person(db) {
        let f = fixture(&db.store, &FOLLOW_UP).await;
        let s = &f.store;
        let owner = s.get_account(&f.org, &f.account).await.expect("account").owner;
        f.ingest("p1", "sent", OUR_PROPOSAL).await;
        let complaint = f.ingest("c1", "inbox", COMPLAINT).await;
        let reply = f.ingest("r1", "inbox", REPLY).await;
        f.pipeline().run_pending(10).await.expect("pipeline");

        let report = mailroom::actions::execute_due(s).await.expect("executors");
        assert_eq!((report.done, report.retried, report.refused, report.failed), (2, 0, 0, 0), "{report:?}");

        // The complaint's notification, for the account's owner.
        let actions = s.message_actions(&f.org, &complaint).await.expect("actions");
        let notify = actions.iter().find(|a| a.status != "applied").expect("notify action");
        assert_eq!(notify.status, "done", "{notify:?}");
        assert_eq!(notify.attempts.len(), 1, "{notify:?}");
        assert_eq!(notify.attempts[0].outcome, "done");
        let (user, n) = s.notification_of_action(&f.org, notify.id).await.expect("read").expect("made");
        assert_eq!(user, owner);
        assert!(n.title.starts_with("Complaint from Dana Client"), "{n:?}");
        assert_eq!(n.message.as_ref(), Some(&complaint));

        // The reply's task: the owner's, about the contact, due a day after the message.
        let actions = s.message_actions(&f.org, &reply).await.expect("actions");
        let create = actions.iter().find(|a| a.status != "applied").expect("task action");
        assert_eq!(create.status, "done", "{create:?}");
        let task = s.task_of_action(&f.org, create.id).await.expect("read").expect("made");
        assert_eq!(task.assignee, owner);
        // The workflow drops the reply prefix from the subject.
        assert_eq!(task.title, "Reply from Dana Client: Proposal");
        assert_eq!(task.regarding.as_ref().map(|r| r.kind.as_str()), Some("contact"));
        let received = s.get_message(&f.org, &reply).await.expect("message").summary.received_at;
        assert_eq!(task.due_at, Some(received + 24 * 60 * 60 * 1000));

        // Nothing twice: a second pass finds nothing to do.
        assert_eq!(mailroom::actions::execute_due(s).await.expect("again"), Default::default());

        // Through the API: the owner's alone, admins included.
        let app = App::new(s.clone());
        let mine = token(s, &f.org, &owner).await;
        let other = colleague(s, &f.org).await;
        let theirs = token(s, &f.org, &other).await;
        let tasks = app.get("/v1/tasks", &mine).await.ok(StatusCode::OK);
        assert_eq!(tasks.as_array().map(Vec::len), Some(1), "{tasks}");
        assert_eq!(tasks[0]["id"], task.id.to_string());
        assert_eq!(app.get("/v1/tasks", &theirs).await.ok(StatusCode::OK), json!([]));
        let path = format!("/v1/tasks/{}", task.id);
        app.get(&path, &theirs).await.error(StatusCode::NOT_FOUND, Some("not_found"));
        app.json(Method::PATCH, &path, &theirs, json!({"status": "done"})).await.error(StatusCode::NOT_FOUND, Some("not_found"));
        let done = app.json(Method::PATCH, &path, &mine, json!({"status": "done"})).await.ok(StatusCode::OK);
        assert_eq!(done["status"], "done");
        app.json(Method::PATCH, &path, &mine, json!({"state": "done"})).await.error(StatusCode::UNPROCESSABLE_ENTITY, None);

        let list = app.get("/v1/notifications?unread=true", &mine).await.ok(StatusCode::OK);
        assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
        assert_eq!(app.get("/v1/notifications", &theirs).await.ok(StatusCode::OK), json!([]));
        let read = format!("/v1/notifications/{}/read", n.id);
        app.post(&read, &theirs).await.error(StatusCode::NOT_FOUND, Some("not_found"));
        assert!(app.post(&read, &mine).await.ok(StatusCode::OK)["read_at"].is_i64());
        assert_eq!(app.get("/v1/notifications?unread=true", &mine).await.ok(StatusCode::OK), json!([]));

        // The message shows what became of each action, with its attempts.
        let detail = app.get(&format!("/v1/messages/{complaint}"), &mine).await.ok(StatusCode::OK);
        let shown = detail["actions"].as_array().expect("actions").iter()
            .find(|a| a["status"] == "done").cloned().expect("done action");
        assert_eq!(shown["attempts"][0]["outcome"], "done", "{shown}");
    }

    async fn the_stream_sends_a_new_notification_and_resumes_after_the_last_seen(db) {
        let f = fixture(&db.store, &FOLLOW_UP).await;
        let s = &f.store;
        let owner = s.get_account(&f.org, &f.account).await.expect("account").owner;
        let app = App::new(s.clone());
        let mine = token(s, &f.org, &owner).await;

        // Opened before the complaint arrives: it sends it when it comes.
        let request = axum::http::Request::builder()
            .uri("/v1/notifications/stream")
            .header("authorization", format!("Bearer {mine}"))
            .body(axum::body::Body::empty())
            .expect("request");
        let response = tower::ServiceExt::oneshot(app.router.clone(), request).await.expect("response");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        f.ingest("c1", "inbox", COMPLAINT).await;
        f.pipeline().run_pending(10).await.expect("pipeline");
        mailroom::actions::execute_due(s).await.expect("executors");
        let event = first_event(response.into_body()).await;
        assert!(event.contains("event: notification"), "{event}");
        assert!(event.contains("Complaint from Dana Client"), "{event}");
        let seq: i64 = event.lines().find_map(|l| l.strip_prefix("id: ")).expect("id").trim().parse().expect("seq");

        // Reconnecting from before it gets it again; from it, nothing yet.
        let reconnect = |after: i64| {
            axum::http::Request::builder()
                .uri("/v1/notifications/stream")
                .header("authorization", format!("Bearer {mine}"))
                .header("last-event-id", after.to_string())
                .body(axum::body::Body::empty())
                .expect("request")
        };
        let again = tower::ServiceExt::oneshot(app.router.clone(), reconnect(seq - 1)).await.expect("response");
        assert!(first_event(again.into_body()).await.contains(&format!("id: {seq}")));
        let caught_up = tower::ServiceExt::oneshot(app.router.clone(), reconnect(seq)).await.expect("response");
        let nothing = tokio::time::timeout(std::time::Duration::from_millis(2500), first_event(caught_up.into_body())).await;
        assert!(nothing.is_err(), "nothing new after the last seen: {nothing:?}");

        // Another user's stream does not carry it.
        let other = colleague(s, &f.org).await;
        let theirs = token(s, &f.org, &other).await;
        let request = axum::http::Request::builder()
            .uri("/v1/notifications/stream")
            .header("authorization", format!("Bearer {theirs}"))
            .header("last-event-id", "0")
            .body(axum::body::Body::empty())
            .expect("request");
        let response = tower::ServiceExt::oneshot(app.router.clone(), request).await.expect("response");
        let nothing = tokio::time::timeout(std::time::Duration::from_millis(2500), first_event(response.into_body())).await;
        assert!(nothing.is_err(), "another user's stream: {nothing:?}");
    }

    async fn an_action_for_nobody_is_refused_and_a_failing_store_is_retried(db) {
        let f = fixture(&db.store, &FOLLOW_UP).await;
        let s = &f.store;
        f.registry
            .set_config(&f.org, "workflow-follow-up", BTreeMap::from([("notify-user".to_owned(), "nobody@elsewhere.example".to_owned())]))
            .await
            .expect("config");
        let complaint = f.ingest("c1", "inbox", COMPLAINT).await;
        f.ingest("p1", "sent", OUR_PROPOSAL).await;
        let reply = f.ingest("r1", "inbox", REPLY).await;
        f.pipeline().run_pending(10).await.expect("pipeline");

        // The task's insert fails once: retried, not lost, not doubled.
        refuse_inserts(&db, "tasks", &reply).await;
        let report = mailroom::actions::execute_due(s).await.expect("executors");
        assert_eq!((report.done, report.retried, report.refused), (0, 1, 1), "{report:?}");
        let notify = s.message_actions(&f.org, &complaint).await.expect("actions")
            .into_iter().find(|a| a.status != "applied").expect("notify");
        assert_eq!(notify.status, "refused");
        assert!(notify.outcome.as_deref().is_some_and(|o| o.contains("nobody@elsewhere.example is not a user of the org")), "{notify:?}");
        assert!(s.notification_of_action(&f.org, notify.id).await.expect("read").is_none());

        let pending = s.message_actions(&f.org, &reply).await.expect("actions")
            .into_iter().find(|a| a.status != "applied").expect("task");
        assert_eq!(pending.status, "pending");
        assert_eq!(pending.attempts.len(), 1);
        assert_eq!(pending.attempts[0].outcome, "retry");
        assert!(s.task_of_action(&f.org, pending.id).await.expect("read").is_none());

        // Not due yet: the backoff holds it.
        allow_inserts(&db, "tasks").await;
        assert_eq!(mailroom::actions::execute_due(s).await.expect("early"), Default::default());
        tokio::time::sleep(mailroom::actions::RETRY.base).await;
        let report = mailroom::actions::execute_due(s).await.expect("retry");
        assert_eq!(report.done, 1, "{report:?}");
        let done = s.message_actions(&f.org, &reply).await.expect("actions")
            .into_iter().find(|a| a.status != "applied").expect("task");
        assert_eq!(done.status, "done");
        let outcomes: Vec<&str> = done.attempts.iter().map(|a| a.outcome.as_str()).collect();
        assert_eq!(outcomes, ["retry", "done"]);
        assert!(s.task_of_action(&f.org, done.id).await.expect("read").is_some());
    }
}

/// The first whole event of a server-sent-events body (up to its blank line).
async fn first_event(body: axum::body::Body) -> String {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut text = String::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.expect("frame").into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
            // Keep-alive comments (`:`) are not events.
            if let Some(end) = text.find("\n\n") {
                let event = text[..end].to_owned();
                if event.lines().all(|l| l.starts_with(':')) {
                    text.drain(..end + 2);
                    continue;
                }
                return event;
            }
        }
    }
    text
}
