//! The API against its own description, by tools that only read the
//! document: Schemathesis (property-based, with its stateful phase following
//! the links it infers between operations) over a running server, failing on
//! any server error, undocumented status or content type, or response that
//! breaks its schema; and a Python client generated from the document by
//! openapi-python-client, used for a few calls.
//!
//! Both tools come from PyPI, installed (once, pinned) into a virtualenv in
//! the target directory; the test fails, saying why, when that cannot be done.
//! Destructive operations (revoking tokens, deactivating or changing users)
//! run in a pass of their own against a throwaway org, so the main pass
//! cannot lock itself out.

use crate::common::*;
use mailroom::store::testing::TestDb;
use std::path::{Path, PathBuf};
use std::process::Command;

const SCHEMATHESIS: &str = "schemathesis==4.32.5";
const CLIENT_GENERATOR: &str = "openapi-python-client==0.29.1";

/// Operations that can take the caller's own access away.
const DESTRUCTIVE: &str = "^(revoke_token|revoke_user_token|deactivate_user|update_user)$";

/// Operations that reach beyond the machine (mail servers, identity
/// providers) with whatever host the generated input names.
const OUTBOUND: &str = "test_connection|sync_now|authorize";

/// Operations whose answer never ends (live streams): a generated request
/// would only time out; their own test reads them.
const STREAMS: &str = "stream_notifications";

/// Operations whose only body is a raw component (`application/wasm`),
/// which Schemathesis cannot serialize; `api_plugins` tests them.
const RAW_COMPONENT_BODIES: &str = "upload_shadow";

fn run(command: &mut Command, what: &str) -> String {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start {:?}: {e}", command.get_program()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{text}",
        out.status
    );
    text
}

/// The virtualenv with both tools, created on first use.
fn tools() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("openapi-tools");
    let bin = venv.join("bin");
    let installed = venv.join(format!("installed-{SCHEMATHESIS}-{CLIENT_GENERATOR}"));
    if !installed.exists() {
        run(
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
            "creating a Python virtualenv (needs python3 with venv)",
        );
        run(
            Command::new(bin.join("pip")).args(["install", "-q", SCHEMATHESIS, CLIENT_GENERATOR]),
            "installing Schemathesis and openapi-python-client from PyPI",
        );
        std::fs::write(&installed, b"").expect("marker");
    }
    bin
}

async fn serve(app: &App) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(mailroom::cli::connections::serve(
        listener,
        app.router.clone(),
        test_settings().http,
        async move {
            let _ = stopped.await;
        },
    ));
    (base, stop)
}

fn drop_false_items(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            if map.get("items") == Some(&serde_json::Value::Bool(false)) {
                map.remove("items");
            }
            map.values_mut().for_each(drop_false_items);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_false_items),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_the_server_as_documented_and_a_generated_client_works() {
    let bin = tokio::task::spawn_blocking(tools).await.expect("install");
    let db = TestDb::sqlite().await;
    let app = app_on(&db).await;
    let f = fixture(&app).await;
    let (base, _stop) = serve(&app).await;
    let (_, _, throwaway) = app
        .store()
        .create_org_with_admin("Throwaway", "admin@throwaway.example", "Throwaway")
        .await
        .expect("throwaway org");
    let throwaway = throwaway.secret.expose().to_owned();
    let schema = format!("{base}/openapi.json");
    let report = Path::new(env!("CARGO_TARGET_TMPDIR")).join("schemathesis-report");

    let base_url = base.clone();
    // First a client generated from the document, used for a few calls on
    // the fixture's data (Schemathesis then changes the org's data at will).
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("generated-client");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("dir");
    let doc = app
        .send(
            axum::http::Method::GET,
            "/openapi.json",
            None,
            None,
            Vec::new(),
        )
        .await;
    // openapi-python-client cannot read boolean schemas (`items: false`
    // after a tuple's `prefixItems`, valid OpenAPI 3.1): its copy goes
    // without them, the tuples keep their item schemas.
    let mut doc: serde_json::Value = serde_json::from_slice(&doc.body).expect("doc");
    drop_false_items(&mut doc);
    std::fs::write(work.join("openapi.json"), doc.to_string()).expect("write doc");
    let config = work.join("config.yml");
    std::fs::write(
        &config,
        "project_name_override: mailroom-client\npackage_name_override: mailroom_client\n",
    )
    .expect("config");
    let bin2 = bin.clone();
    let work2 = work.clone();
    tokio::task::spawn_blocking(move || {
        run(
            Command::new(bin2.join("openapi-python-client"))
                .args([
                    "generate",
                    "--path",
                    "openapi.json",
                    "--config",
                    "config.yml",
                    "--meta",
                    "none",
                    "--output-path",
                    "mailroom_client",
                ])
                .current_dir(&work2),
            "openapi-python-client generate",
        )
    })
    .await
    .expect("generate");
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/all/api/openapi_client/use_client.py");
    let account = f.account_a.to_string();
    let token = f.admin_a_token.clone();
    let python = bin.join("python");
    let out = tokio::task::spawn_blocking(move || {
        run(
            Command::new(python)
                .arg(script)
                .args([&base_url, &token, &account])
                .env("PYTHONPATH", &work),
            "the generated Python client",
        )
    })
    .await
    .expect("client");
    assert!(out.contains("generated client: ok"), "{out}");

    let schemathesis = |token: String, operations: [&str; 2]| {
        let mut c = Command::new(bin.join("schemathesis"));
        c.args(["run", &schema])
            .args(["--header", &format!("Authorization: Bearer {token}")])
            .args(["--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"])
            .args(["--phases", "examples,coverage,fuzzing,stateful"])
            .args(["--max-examples", "15", "--workers", "1", "--seed", "1", "--request-timeout", "10"])
            .args(operations)
            .arg("--report-dir")
            .arg(&report)
            // Its cache (`.schemathesis/`) goes there too, not into the source tree.
            .current_dir(env!("CARGO_TARGET_TMPDIR"))
            .env("NO_COLOR", "1");
        c
    };
    let skipped = format!(
        "^({OUTBOUND}|{STREAMS}|{RAW_COMPONENT_BODIES}|{})$",
        DESTRUCTIVE.trim_start_matches("^(").trim_end_matches(")$")
    );
    let main = schemathesis(
        f.admin_a_token.clone(),
        ["--exclude-operation-id-regex", skipped.as_str()],
    );
    let destructive = schemathesis(throwaway, ["--include-operation-id-regex", DESTRUCTIVE]);
    for (mut command, what) in [
        (main, "Schemathesis"),
        (
            destructive,
            "Schemathesis (destructive operations, throwaway org)",
        ),
    ] {
        let out = tokio::task::spawn_blocking(move || run(&mut command, what))
            .await
            .expect("run");
        assert!(out.contains("passed"), "{what}:\n{out}");
    }
    // The admin of org A still works: the main pass did not lock itself out.
    app.get("/v1/me", &f.admin_a_token)
        .await
        .ok(axum::http::StatusCode::OK);
}
