//! Who may change CRM records, what the audit log says about it, duplicate
//! emails on import and formula-safe CSV export.

use crate::common::*;
use axum::http::{Method, StatusCode};
use mailroom::store::testing::TestDb;
use serde_json::{Value, json};

async fn audit_actions(app: &App, admin: &str) -> Vec<(String, String)> {
    let log = app
        .get("/v1/audit?limit=1000", admin)
        .await
        .ok(StatusCode::OK);
    log.as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_owned(),
                e["target"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn only_the_owner_or_an_admin_gives_a_record_away_and_every_write_is_audited() {
    let db = TestDb::sqlite().await;
    let app = app_on(&db).await;
    let f = fixture(&app).await;
    let (admin, user) = (f.admin_a_token.as_str(), f.user_a_token.as_str());

    for kind in ["contacts", "leads"] {
        let created = app
            .json(
                Method::POST,
                &format!("/v1/{kind}"),
                admin,
                json!({"name": "Owned", "owner": f.admin_a}),
            )
            .await
            .ok(StatusCode::CREATED);
        let id = created["id"].as_str().expect("id").to_owned();
        let path = format!("/v1/{kind}/{id}");
        // A user may not take the admin's record, so cannot then delete it.
        let message = app
            .json(Method::PATCH, &path, user, json!({"owner": f.user_a}))
            .await
            .error(StatusCode::FORBIDDEN, Some("forbidden"));
        assert!(message.contains("owner"), "{message}");
        app.json(Method::PATCH, &path, user, json!({"owner": null}))
            .await
            .error(StatusCode::FORBIDDEN, Some("forbidden"));
        app.delete(&path, user)
            .await
            .error(StatusCode::FORBIDDEN, Some("forbidden"));
        let still = app.get(&path, user).await.ok(StatusCode::OK);
        assert_eq!(still["owner"], json!(f.admin_a));
        // Other fields stay open to every user; restating the owner is no change.
        app.json(
            Method::PATCH,
            &path,
            user,
            json!({"name": "Renamed", "owner": f.admin_a}),
        )
        .await
        .ok(StatusCode::OK);
        // The admin gives it to the user, who may then give it back and delete it.
        app.json(Method::PATCH, &path, admin, json!({"owner": f.user_a}))
            .await
            .ok(StatusCode::OK);
        app.json(Method::PATCH, &path, user, json!({"owner": f.admin_a}))
            .await
            .ok(StatusCode::OK);
        app.json(Method::PATCH, &path, admin, json!({"owner": null}))
            .await
            .ok(StatusCode::OK);
        app.delete(&path, user).await.ok(StatusCode::NO_CONTENT);

        let singular = kind.trim_end_matches('s');
        let actions = audit_actions(&app, admin).await;
        let on_it: Vec<&str> = actions
            .iter()
            .rev()
            .filter(|(_, target)| target == &id)
            .map(|(action, _)| action.as_str())
            .collect();
        let update = format!("{singular}.update");
        assert_eq!(
            on_it,
            [
                format!("{singular}.create"),
                update.clone(),
                update.clone(),
                update.clone(),
                update,
                format!("{singular}.delete")
            ]
        );
    }
    let log = app.get("/v1/audit", admin).await.ok(StatusCode::OK);
    let give_back = log
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["action"] == "lead.update" && e["detail"]["owner"]["to"] == json!(f.admin_a))
        .unwrap_or_else(|| panic!("no owner change in {log}"));
    assert_eq!(give_back["actor"], json!(f.user_a));
    assert_eq!(give_back["detail"]["owner"]["from"], json!(f.user_a));
    assert_eq!(give_back["detail"]["changed"], json!(["owner"]));
}

#[tokio::test]
async fn import_reports_duplicate_emails_and_is_audited() {
    let db = TestDb::sqlite().await;
    let app = app_on(&db).await;
    let f = fixture(&app).await;
    let (admin, user) = (f.admin_a_token.as_str(), f.user_a_token.as_str());
    // The fixture's contact is maria@acme.example.
    let csv = "name,email,other_emails\n\
               Maria G,MARIA@Acme.example,\n\
               Ann,ann@example.com,\n\
               Ann twice,Ann@Example.com,\n\
               Bob,bob@example.com,ann@example.com\n\
               Cy,cy@example.com,\n";
    let import = |body: &'static str| {
        app.send(
            Method::POST,
            "/v1/contacts/import",
            Some(user),
            Some("text/csv"),
            body.into(),
        )
    };
    let report = import(csv).await.ok(StatusCode::OK);
    assert_eq!(report["imported"], 2, "{report}");
    let errors: Vec<(u64, String)> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap_or(0),
                e["message"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        errors.iter().map(|e| e.0).collect::<Vec<_>>(),
        [2, 4, 5],
        "{report}"
    );
    assert!(errors[0].1.contains(f.contact_a.as_str()), "{errors:?}");
    assert!(errors[1].1.contains("line 3"), "{errors:?}");
    // Run again: everything is a duplicate now, nothing is created twice.
    let again = import(csv).await.ok(StatusCode::OK);
    assert_eq!(again["imported"], 0, "{again}");
    let page = app
        .get("/v1/contacts?text=ann&limit=10", user)
        .await
        .ok(StatusCode::OK);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1), "{page}");
    // A contact's email may still be a lead's.
    let leads = app
        .send(
            Method::POST,
            "/v1/leads/import",
            Some(user),
            Some("text/csv"),
            csv.into(),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(leads["imported"], 3, "{leads}");

    let imports: Vec<Value> = app
        .get("/v1/audit", admin)
        .await
        .ok(StatusCode::OK)
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"].as_str().is_some_and(|a| a.ends_with(".import")))
        .cloned()
        .collect();
    assert_eq!(imports.len(), 3, "{imports:?}");
    assert_eq!(imports[2]["action"], "contact.import");
    assert_eq!(imports[2]["actor"], json!(f.user_a));
    assert_eq!(imports[2]["detail"], json!({"imported": 2, "rejected": 3}));
}

#[tokio::test]
async fn export_neutralises_formulas_and_imports_back() {
    let db = TestDb::sqlite().await;
    let app = app_on(&db).await;
    let f = fixture(&app).await;
    let user = f.user_a_token.as_str();
    app.json(
        Method::POST,
        "/v1/contacts",
        user,
        json!({"name": "=HYPERLINK(\"http://evil.example\",\"x\")", "primary_email": "evil@example.com",
               "owner": f.user_a, "fields": {"note": "@SUM(1)", "phone": "-1 555", "plain": "ok"}}),
    )
    .await
    .ok(StatusCode::CREATED);
    let r = app.get("/v1/contacts/export", user).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.headers["content-type"], "text/csv; charset=utf-8");
    let mut reader = csv::Reader::from_reader(r.body.as_ref());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 2, "{}", r.text());
    let cell = |row: &csv::StringRecord, name: &str| {
        let i = header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name} in {header:?}"));
        row[i].to_owned()
    };
    let evil = rows
        .iter()
        .find(|r| cell(r, "email") == "evil@example.com")
        .expect("evil row");
    assert_eq!(
        cell(evil, "name"),
        "'=HYPERLINK(\"http://evil.example\",\"x\")"
    );
    assert_eq!(cell(evil, "note"), "'@SUM(1)");
    assert_eq!(cell(evil, "phone"), "'-1 555");
    assert_eq!(cell(evil, "plain"), "ok");
    assert_eq!(cell(evil, "owner"), "user@a.example");
    for row in &rows {
        for value in row {
            assert!(
                !value.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{value:?}"
            );
        }
    }
    // The export is a valid import file (here: for leads, where none of it exists yet).
    let report = app
        .send(
            Method::POST,
            "/v1/leads/import",
            Some(user),
            Some("text/csv"),
            r.body.to_vec(),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(report["imported"], 2, "{report}");
}
