//! Config keys an admin holds as secrets: the plugin reads them like any
//! config value; the registry's view (what the API returns) names them but
//! never shows their values, and a key is either plain or secret.

use super::*;
use mailroom_core::secret::Secret;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_config_value_reaches_the_plugin_and_nobody_else() {
    let reg = registry();
    let org = OrgId::generate();
    install(&reg, &org, artifacts::PROBE).await;
    reg.set_config(
        &org,
        "probe",
        BTreeMap::from([("probe".to_owned(), "plain".to_owned())]),
    )
    .await
    .expect("plain config");

    // Made secret, the value replaces the plain one.
    let view = reg
        .set_secret(&org, "probe", "probe", Some(Secret::new("tok-4711")))
        .await
        .expect("secret");
    let shown = serde_json::to_string(&view).expect("json");
    assert!(!shown.contains("tok-4711"), "{shown}");
    assert!(shown.contains(r#""secret_keys":["probe"]"#), "{shown}");
    assert!(view.record.config.is_empty(), "{:?}", view.record.config);
    let seen = classify(&reg, &org, "probe", message("s", ""))
        .await
        .expect("classify");
    assert!(
        labels(&seen).contains(&"config:tok-4711".to_owned()),
        "{seen:?}"
    );

    // A key is plain or secret, not both; undeclared keys stay refused.
    let err = reg
        .set_config(
            &org,
            "probe",
            BTreeMap::from([("probe".to_owned(), "x".to_owned())]),
        )
        .await
        .expect_err("plain over a secret");
    assert!(err.to_string().contains("held as a secret"), "{err}");
    let err = reg
        .set_secret(&org, "probe", "nope", Some(Secret::new("x")))
        .await
        .expect_err("undeclared");
    assert!(err.to_string().contains("`nope`"), "{err}");

    // The event log says which key changed, never the value.
    let events = reg.events(&org, Some("probe"), 20).await.expect("events");
    assert!(
        events.iter().any(|e| e.message.contains("`probe` set")),
        "{events:?}"
    );
    assert!(!format!("{events:?}").contains("tok-4711"));

    reg.set_secret(&org, "probe", "probe", None)
        .await
        .expect("remove");
    let seen = classify(&reg, &org, "probe", message("s", ""))
        .await
        .expect("classify");
    assert!(
        labels(&seen).contains(&"config:none".to_owned()),
        "{seen:?}"
    );
}
