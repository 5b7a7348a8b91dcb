//! The executors that reach outside Mailroom, on both backends, driven by
//! an org rule over a real message: a webhook to a local HTTPS receiver
//! (certificate verified against the org's CA) is signed so the receiver
//! can check it, retried after the receiver fails, and sent once; a linked
//! contact's field is written when the org marked it writable; what the
//! org's automation policy does not allow (another port, an unmarked
//! field, any webhook before the policy lists the host) is refused with
//! the reason, never tried again.

use super::*;
use crate::https_receiver::{HttpsReceiver, hmac_sha256};
use mailroom::automation::{AutomationPolicy, WritableFields};
use mailroom::destinations::DestinationPolicy;
use mailroom::ids::ContactId;
use mailroom::rules::{Action, Rule};
use mailroom::store::rules::RuleScope;
use serde_json::json;

fn on_complaints(actions: serde_json::Value) -> Rule {
    Rule {
        name: "Complaints".into(),
        enabled: true,
        conditions: serde_json::from_value(json!([
            {"test": {"field": "subject", "match_type": "contains", "value": "disappointed"}}
        ]))
        .expect("conditions"),
        actions: serde_json::from_value::<Vec<Action>>(actions).expect("actions"),
        source: None,
    }
}

fn outcomes(action: &mailroom::store::pipeline_results::StoredAction) -> Vec<&str> {
    action.attempts.iter().map(|a| a.outcome.as_str()).collect()
}

both_backends! {
    async fn webhooks_are_signed_retried_and_sent_once_and_crm_fields_change_only_where_allowed(db) {
        let f = fixture(&db.store, &[artifacts::PROVIDER_GENERIC]).await;
        let s = &f.store;
        let receiver = HttpsReceiver::start(&[503]).await;
        s.set_destination_policy(&f.org, &DestinationPolicy {
            allowed_hosts: vec!["127.0.0.1".into()],
            ..Default::default()
        }).await.expect("destinations");
        s.set_automation_policy(&f.org, &AutomationPolicy {
            webhook_hosts: vec![format!("127.0.0.1:{}", receiver.port)],
            webhook_ca_pem: Some(receiver.cert_pem.clone()),
            writable_fields: WritableFields { contact: vec!["stage".into()], lead: vec![] },
            ..Default::default()
        }).await.expect("automation policy");
        let secret = s.rotate_webhook_secret(&f.org).await.expect("secret");
        assert!(secret.expose().starts_with("whsec_"));
        s.create_rules(&f.org, &RuleScope::Org, &[on_complaints(json!([
            {"webhook": {"url": receiver.url("/hooks/mailroom"), "event": "complaint.received",
                         "headers": [["X-Customer", "northwind"]]}},
            {"update-crm-field": {"record_kind": "contact", "field": "stage", "value": "at-risk"}},
            {"update-crm-field": {"record_kind": "contact", "field": "discount", "value": "50%"}},
            {"webhook": {"url": format!("https://127.0.0.1:{}/other-port", receiver.port + 1)}},
            {"webhook": {"url": receiver.url("/x"), "headers": [["Mailroom-Signature", "forged"]]}}
        ]))], None).await.expect("rules");

        let complaint = f.ingest("c1", "inbox", COMPLAINT).await;
        f.pipeline().run_pending(10).await.expect("pipeline");
        let report = mailroom::actions::execute_due(s).await.expect("executors");
        assert_eq!((report.done, report.retried, report.refused, report.failed), (1, 1, 3, 0), "{report:?}");

        let actions: Vec<_> = s.message_actions(&f.org, &complaint).await.expect("actions")
            .into_iter().filter(|a| a.status != "applied").collect();
        assert_eq!(actions.len(), 5, "{actions:?}");
        let [hook, stage, discount, other_port, forged] = &actions[..] else { unreachable!() };
        assert_eq!((hook.status.as_str(), outcomes(hook)), ("pending", vec!["retry"]), "{hook:?}");
        assert!(hook.attempts[0].detail.contains("HTTP 503"), "{hook:?}");
        assert_eq!(stage.status, "done", "{stage:?}");
        assert_eq!(discount.status, "refused");
        assert!(discount.outcome.as_deref().is_some_and(|o| o.contains("writable_fields.contact")), "{discount:?}");
        assert_eq!(other_port.status, "refused");
        assert!(other_port.outcome.as_deref().is_some_and(|o| o.contains("webhook_hosts")), "{other_port:?}");
        assert_eq!(forged.status, "refused");
        assert!(forged.outcome.as_deref().is_some_and(|o| o.contains("Mailroom-Signature")), "{forged:?}");

        // The contact's field, and nothing the org did not mark.
        let dana = s.crm_matches(&f.org, &["dana@client.example".to_owned()]).await.expect("match");
        let contact = s.get_contact(&f.org, &ContactId(dana[0].id.clone())).await.expect("contact");
        assert_eq!(contact.fields, json!({"stage": "at-risk"}));

        // The receiver failed once; the retry waits for its backoff, then
        // delivers with the same delivery id.
        assert_eq!(mailroom::actions::execute_due(s).await.expect("early"), Default::default());
        tokio::time::sleep(mailroom::actions::RETRY.base).await;
        let report = mailroom::actions::execute_due(s).await.expect("retry");
        assert_eq!((report.done, report.retried), (1, 0), "{report:?}");
        let hook = s.message_actions(&f.org, &complaint).await.expect("actions")
            .into_iter().find(|a| a.id == hook.id).expect("hook");
        assert_eq!((hook.status.as_str(), outcomes(&hook)), ("done", vec!["retry", "done"]), "{hook:?}");
        let got = receiver.requests();
        assert_eq!(got.len(), 2, "one failed attempt, one delivery");
        assert_eq!(got[0].header("mailroom-delivery"), got[1].header("mailroom-delivery"));

        // What the receiver checks: the signature over timestamp and body,
        // with the secret the admin was shown.
        let delivery = &got[1];
        assert_eq!(delivery.path, "/hooks/mailroom");
        assert_eq!(delivery.header("mailroom-event"), Some("complaint.received"));
        assert_eq!(delivery.header("x-customer"), Some("northwind"));
        assert_eq!(delivery.header("content-type"), Some("application/json"));
        let signature = delivery.header("mailroom-signature").expect("signature");
        let (t, v1) = signature.split_once(',').expect("t=…,v1=…");
        let t = t.strip_prefix("t=").expect("t");
        let v1 = v1.strip_prefix("v1=").expect("v1");
        let age = mailroom::store::now_ms() / 1000 - t.parse::<i64>().expect("timestamp");
        assert!((0..60).contains(&age), "signed just now: {age} s");
        let mut signed = format!("{t}.").into_bytes();
        signed.extend_from_slice(&delivery.body);
        assert_eq!(v1, hex::encode(hmac_sha256(secret.expose().as_bytes(), &signed)));
        let wrong = hmac_sha256(b"whsec_another", &signed);
        assert_ne!(v1, hex::encode(wrong));
        let body: serde_json::Value = serde_json::from_slice(&delivery.body).expect("JSON body");
        assert_eq!(body["message"]["subject"], "Still broken - very disappointed");
        assert_eq!(body["links"][0]["kind"], "contact");

        // Done is done: no pass sends it again.
        tokio::time::sleep(mailroom::actions::RETRY.base).await;
        assert_eq!(mailroom::actions::execute_due(s).await.expect("again"), Default::default());
        assert_eq!(receiver.requests().len(), 2);
    }

    async fn nothing_reaches_out_before_an_admin_allows_it(db) {
        let f = fixture(&db.store, &[artifacts::PROVIDER_GENERIC]).await;
        let s = &f.store;
        let receiver = HttpsReceiver::start(&[]).await;
        s.create_rules(&f.org, &RuleScope::Org, &[on_complaints(json!([
            {"webhook": {"url": receiver.url("/hook")}},
            {"update-crm-field": {"record_kind": "contact", "field": "stage", "value": "at-risk"}},
            {"forward": "boss@partner.example"}
        ]))], None).await.expect("rules");
        let complaint = f.ingest("c1", "inbox", COMPLAINT).await;
        f.pipeline().run_pending(10).await.expect("pipeline");
        let report = mailroom::actions::execute_due(s).await.expect("executors");
        assert_eq!((report.done, report.refused), (0, 3), "{report:?}");
        for a in s.message_actions(&f.org, &complaint).await.expect("actions").iter().filter(|a| a.status != "applied") {
            assert_eq!(a.status, "refused", "{a:?}");
            let why = a.outcome.as_deref().unwrap_or_default();
            assert!(why.contains("automation policy"), "the reason names what to change: {why}");
        }
        assert!(receiver.requests().is_empty());

        // Listed, but the org has no signing secret yet: refused, and says how.
        let receiver2 = HttpsReceiver::start(&[]).await;
        s.set_destination_policy(&f.org, &DestinationPolicy { allowed_hosts: vec!["127.0.0.1".into()], ..Default::default() })
            .await.expect("destinations");
        s.set_automation_policy(&f.org, &AutomationPolicy {
            webhook_hosts: vec!["127.0.0.1".into()],
            webhook_ca_pem: Some(receiver2.cert_pem.clone()),
            ..Default::default()
        }).await.expect("automation policy");
        s.create_rules(&f.org, &RuleScope::Org, &[on_complaints(json!([{"webhook": {"url": receiver2.url("/hook")}}]))], None)
            .await.expect("rule");
        let second = f.ingest("c2", "inbox", &COMPLAINT.replace("<c1@", "<c2@")).await;
        f.pipeline().run_pending(10).await.expect("pipeline");
        mailroom::actions::execute_due(s).await.expect("executors");
        let hook = s.message_actions(&f.org, &second).await.expect("actions")
            .into_iter().find(|a| a.action.to_string().contains(&receiver2.url("/hook"))).expect("hook");
        assert_eq!(hook.status, "refused", "{hook:?}");
        assert!(hook.outcome.as_deref().is_some_and(|o| o.contains("POST /v1/org/webhook-secret")), "{hook:?}");
        assert!(receiver2.requests().is_empty());
    }

    async fn subscriptions_get_each_event_of_a_message_once(db) {
        let f = fixture(&db.store, &[artifacts::PROVIDER_GENERIC]).await;
        let s = &f.store;
        let receiver = HttpsReceiver::start(&[]).await;
        let app = crate::common::App::new(s.clone());
        let admin = s.list_users(&f.org).await.expect("users").remove(0);
        let token = s.create_token(&f.org, &admin.id, "test").await.expect("token").secret.expose().to_owned();

        // Not before the policy lists the host.
        let wanted = json!({"url": receiver.url("/events"), "events": ["message.received", "workflow.fired", "message.sent"]});
        let refused = app.json(axum::http::Method::POST, "/v1/org/webhooks", &token, wanted.clone()).await
            .error(axum::http::StatusCode::UNPROCESSABLE_ENTITY, None);
        assert!(refused.to_string().contains("webhook_hosts"), "{refused}");
        app.json(axum::http::Method::POST, "/v1/org/webhooks", &token, json!({"url": receiver.url("/e"), "events": ["mail.arrived"]})).await
            .error(axum::http::StatusCode::UNPROCESSABLE_ENTITY, None);

        s.set_destination_policy(&f.org, &DestinationPolicy { allowed_hosts: vec!["127.0.0.1".into()], ..Default::default() })
            .await.expect("destinations");
        let policy = json!({"webhook_hosts": [format!("127.0.0.1:{}", receiver.port)], "webhook_ca_pem": receiver.cert_pem});
        let shown = app.json(axum::http::Method::PUT, "/v1/org/automation-policy", &token, policy).await.ok(axum::http::StatusCode::OK);
        assert_eq!(shown["webhook_secret_set"], false);
        let secret = app.post("/v1/org/webhook-secret", &token).await.ok(axum::http::StatusCode::OK)["secret"]
            .as_str().expect("secret").to_owned();
        let shown = app.get("/v1/org/automation-policy", &token).await.ok(axum::http::StatusCode::OK);
        assert_eq!(shown["webhook_secret_set"], true);
        assert!(!shown.to_string().contains(&secret), "the secret is shown once only");
        let created = app.json(axum::http::Method::POST, "/v1/org/webhooks", &token, wanted).await.ok(axum::http::StatusCode::CREATED);
        assert_eq!(app.get("/v1/org/webhooks", &token).await.ok(axum::http::StatusCode::OK)[0]["id"], created["id"]);

        // A rule fires on the complaint: it was received and a rule fired;
        // nothing was sent.
        s.create_rules(&f.org, &RuleScope::Org, &[on_complaints(json!([{"add-label": "complaint"}]))], None)
            .await.expect("rule");
        let complaint = f.ingest("c1", "inbox", COMPLAINT).await;
        f.pipeline().run_pending(10).await.expect("pipeline");
        let report = mailroom::actions::execute_due(s).await.expect("executors");
        assert_eq!((report.done, report.refused, report.retried), (2, 0, 0), "{report:?}");
        let mut events: Vec<String> = receiver.requests().iter()
            .map(|r| r.header("mailroom-event").unwrap_or_default().to_owned()).collect();
        events.sort();
        assert_eq!(events, ["message.received", "workflow.fired"]);
        for r in receiver.requests() {
            let body: serde_json::Value = serde_json::from_slice(&r.body).expect("JSON");
            assert_eq!(body["message"]["id"], complaint.to_string());
            assert_eq!(body["source"], format!("subscription:{}", created["id"].as_str().expect("id")));
        }

        // The delivery log shows both, with their attempts.
        let log = app.get("/v1/org/webhook-deliveries?status=done", &token).await.ok(axum::http::StatusCode::OK);
        assert_eq!(log.as_array().map(Vec::len), Some(2), "{log}");
        assert_eq!(log[0]["message"], complaint.to_string());
        assert_eq!(log[0]["attempts"][0]["outcome"], "done", "{log}");
        assert!(log[0]["attempts"][0]["detail"].as_str().is_some_and(|d| d.contains("HTTP 200")), "{log}");
        app.get("/v1/org/webhook-deliveries?status=sent", &token).await
            .error(axum::http::StatusCode::UNPROCESSABLE_ENTITY, None);

        // Deleted: the next message's events go nowhere.
        let path = format!("/v1/org/webhooks/{}", created["id"].as_str().expect("id"));
        app.delete(&path, &token).await.ok(axum::http::StatusCode::NO_CONTENT);
        tokio::time::sleep(mailroom::pipeline::SUBSCRIPTIONS_REFRESH).await;
        f.ingest("c2", "inbox", &COMPLAINT.replace("<c1@", "<c2@")).await;
        f.pipeline().run_pending(10).await.expect("pipeline");
        assert_eq!(mailroom::actions::execute_due(s).await.expect("executors"), Default::default());
        assert_eq!(receiver.requests().len(), 2);
    }
}
