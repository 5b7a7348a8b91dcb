//! Outbound HTTPS for plugins, against a local HTTPS server: nothing is
//! sent before an admin grants hosts; then the granted host and port are
//! reached and every other host, port and scheme is refused with the host
//! named; the org's destination policy and the certificate check still
//! apply; a call makes at most its grant's number of requests; a server
//! that never answers is cut off by the call's deadline; a huge response
//! ends at the grant's size cap.

use super::*;
use crate::https_receiver::{HttpsReceiver, Reply};
use mailroom::destinations::DestinationPolicy;
use mailroom::plugin::outbound::OutboundGrant;

/// A registry whose org may reach loopback (the org's destination policy
/// allows 127.0.0.1), with `http-fetch` installed and pointed at `url`.
async fn fetching(url: &str, deadline_ms: u64) -> (Arc<PluginRegistry>, OrgId) {
    let storage = Arc::new(InMemoryStorage::default());
    let org = OrgId::generate();
    storage.set_destination_policy(
        &org,
        DestinationPolicy {
            allowed_hosts: vec!["127.0.0.1".into()],
            ..Default::default()
        },
    );
    let settings = RegistrySettings {
        default_limits: mailroom::plugin::Limits {
            deadline_ms,
            ..Default::default()
        },
        ..Default::default()
    };
    let reg = PluginRegistry::new(engine(), storage, settings);
    install(&reg, &org, artifacts::PROBE).await;
    install(&reg, &org, artifacts::HTTP_FETCH).await;
    configure(&reg, &org, url, 1).await;
    (reg, org)
}

async fn configure(reg: &PluginRegistry, org: &OrgId, url: &str, times: u32) {
    let config = BTreeMap::from([
        ("url".to_owned(), url.to_owned()),
        ("times".to_owned(), times.to_string()),
    ]);
    reg.set_config(org, "http-fetch", config)
        .await
        .expect("config");
}

async fn grant(reg: &PluginRegistry, org: &OrgId, grant: OutboundGrant) {
    reg.set_outbound_http(org, "http-fetch", Some(grant))
        .await
        .expect("grant");
}

fn granting(receiver: &HttpsReceiver) -> OutboundGrant {
    OutboundGrant {
        ca_pem: Some(receiver.cert_pem.clone()),
        ..OutboundGrant::hosts([format!("127.0.0.1:{}", receiver.port)])
    }
}

/// What `http-fetch` reported, one line per request.
async fn fetch(reg: &Arc<PluginRegistry>, org: &OrgId) -> Vec<String> {
    let c = classify(reg, org, "http-fetch", message("fetch", ""))
        .await
        .expect("http-fetch answers");
    let summary = c.summary.expect("a summary");
    summary.lines().map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_granted_hosts_are_reached_over_verified_https() {
    let receiver = HttpsReceiver::start(&[]).await;
    let port = receiver.port;
    let (reg, org) = fetching(&receiver.url("/model?q=1"), 5_000).await;

    // No grant: refused before anything leaves, saying how to grant.
    let refused = fetch(&reg, &org).await;
    assert!(
        refused[0].starts_with("error ")
            && refused[0].contains(&format!("127.0.0.1:{port}"))
            && refused[0].contains("no outbound-http grant")
            && refused[0].contains("/v1/plugins/http-fetch/outbound-http"),
        "{refused:?}"
    );
    assert!(receiver.requests().is_empty());

    // Granted: the request arrives as the plugin made it.
    grant(&reg, &org, granting(&receiver)).await;
    assert_eq!(fetch(&reg, &org).await, ["200 7 bytes"]);
    let got = receiver.requests();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/model?q=1");
    assert_eq!(
        got[0].header("host"),
        Some(format!("127.0.0.1:{port}").as_str())
    );

    // Another port, another name for the same address, plain HTTP: each
    // refused with what was asked for and what is granted.
    for (url, says) in [
        (
            format!("https://127.0.0.1:{}/", port + 1),
            format!("127.0.0.1:{} refused", port + 1),
        ),
        (
            format!("https://localhost:{port}/"),
            format!("localhost:{port} refused"),
        ),
        (
            format!("http://127.0.0.1:{port}/"),
            "only https:// requests".to_owned(),
        ),
    ] {
        configure(&reg, &org, &url, 1).await;
        let lines = fetch(&reg, &org).await;
        assert!(lines[0].contains(&says), "{url}: {lines:?}");
        if !url.starts_with("http:") {
            assert!(
                lines[0].contains(&format!("granted only 127.0.0.1:{port}")),
                "{lines:?}"
            );
        }
    }
    assert_eq!(receiver.requests().len(), 1, "nothing refused was sent");

    // At most the grant's requests per call, counted per call.
    configure(&reg, &org, &receiver.url("/again"), 6).await;
    let lines = fetch(&reg, &org).await;
    assert_eq!(lines[..4], ["200 7 bytes"; 4], "{lines:?}");
    assert!(
        lines[4..]
            .iter()
            .all(|l| l.contains("already made 4 request(s)")),
        "{lines:?}"
    );
    assert_eq!(receiver.requests().len(), 5);
    let next = fetch(&reg, &org).await;
    assert_eq!(
        next[..4],
        ["200 7 bytes"; 4],
        "the next call counts afresh: {next:?}"
    );
    assert_eq!(receiver.requests().len(), 9);

    // The certificate is verified: without the grant's CA, refused.
    grant(
        &reg,
        &org,
        OutboundGrant {
            ca_pem: None,
            ..granting(&receiver)
        },
    )
    .await;
    configure(&reg, &org, &receiver.url("/"), 1).await;
    let lines = fetch(&reg, &org).await;
    assert!(lines[0].contains("certificate"), "{lines:?}");

    // Taken back: refused again.
    reg.set_outbound_http(&org, "http-fetch", None)
        .await
        .expect("revoke");
    assert!(fetch(&reg, &org).await[0].contains("no outbound-http grant"));
    assert_eq!(
        receiver.requests().len(),
        9,
        "an unverified server gets no request"
    );
    still_serving(&reg, &org).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_org_destination_policy_still_decides_the_network() {
    let receiver = HttpsReceiver::start(&[]).await;
    // An org that does not allow loopback: the grant names the host, the
    // policy still refuses its address.
    let reg = PluginRegistry::new(
        engine(),
        Arc::new(InMemoryStorage::default()),
        RegistrySettings::default(),
    );
    let org = OrgId::generate();
    install(&reg, &org, artifacts::HTTP_FETCH).await;
    configure(&reg, &org, &receiver.url("/"), 1).await;
    grant(&reg, &org, granting(&receiver)).await;
    let lines = fetch(&reg, &org).await;
    assert!(lines[0].contains("destination policy"), "{lines:?}");
    assert!(receiver.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_are_checked_when_an_admin_sets_them() {
    let (reg, org) = fetching("https://models.example.com/", 2_000).await;
    for (bad, says) in [
        (
            OutboundGrant::hosts(["https://models.example.com/v1"]),
            "is a URL",
        ),
        (
            OutboundGrant::hosts(Vec::<String>::new()),
            "`hosts` is empty",
        ),
        (OutboundGrant::hosts(["models.example.com:99999"]), "port"),
        (
            OutboundGrant {
                max_requests_per_call: 0,
                ..OutboundGrant::hosts(["a.example"])
            },
            "max_requests_per_call",
        ),
        (
            OutboundGrant {
                ca_pem: Some("not a certificate".into()),
                ..OutboundGrant::hosts(["a.example"])
            },
            "ca_pem",
        ),
    ] {
        match reg
            .set_outbound_http(&org, "http-fetch", Some(bad.clone()))
            .await
        {
            Err(RegistryError::Invalid(msg)) => assert!(msg.contains(says), "{bad:?}: {msg}"),
            other => panic!("{bad:?} was not refused: {other:?}"),
        }
    }
    // A plugin that does not ask for outbound HTTP cannot be given it.
    match reg
        .set_outbound_http(&org, "probe", Some(OutboundGrant::hosts(["a.example"])))
        .await
    {
        Err(RegistryError::Invalid(msg)) => {
            assert!(
                msg.contains("does not ask for the outbound-http permission"),
                "{msg}"
            )
        }
        other => panic!("probe was granted hosts: {other:?}"),
    }
    let view = reg.get(&org, "http-fetch").await.expect("view");
    assert_eq!(view.record.outbound_http, None, "nothing refused was kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_is_cut_off_by_the_deadline() {
    let receiver = HttpsReceiver::replying(Reply::Silent).await;
    let (reg, org) = fetching(&receiver.url("/slow"), 500).await;
    grant(&reg, &org, granting(&receiver)).await;
    let started = std::time::Instant::now();
    let result = classify(&reg, &org, "http-fetch", message("fetch", "")).await;
    assert!(
        matches!(result, Err(PluginError::DeadlineExceeded(500))),
        "{result:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    // It did reach the server: the deadline, not a refusal, ended it.
    assert_eq!(receiver.requests().len(), 1);
    still_serving(&reg, &org).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_response_ends_at_the_grant_cap() {
    const HUGE: usize = 5 << 20;
    const CAP: u64 = 1 << 20;
    // Announced: refused before the body is read.
    let announced = HttpsReceiver::replying(Reply::Body {
        len: HUGE,
        announce_length: true,
    })
    .await;
    let (reg, org) = fetching(&announced.url("/big"), 5_000).await;
    grant(&reg, &org, granting(&announced)).await;
    let lines = fetch(&reg, &org).await;
    assert_eq!(
        lines,
        [format!(
            "error ErrorCode::HttpResponseBodySize(Some({CAP}))"
        )]
    );

    // Not announced: the body stops with the error at the cap.
    let streamed = HttpsReceiver::replying(Reply::Body {
        len: HUGE,
        announce_length: false,
    })
    .await;
    configure(&reg, &org, &streamed.url("/big"), 1).await;
    grant(&reg, &org, granting(&streamed)).await;
    let lines = fetch(&reg, &org).await;
    let (read, error) = lines[0]
        .strip_prefix("200 error after ")
        .and_then(|rest| rest.split_once(" bytes: "))
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert!(read.parse::<u64>().expect("bytes") <= CAP, "{lines:?}");
    // wasmtime-wasi-http hands a body's error to the plugin as text.
    assert!(
        error.contains(&format!("body size exceeds limit: {CAP} bytes")),
        "{error}"
    );

    // A grant with a larger cap reads it whole.
    grant(
        &reg,
        &org,
        OutboundGrant {
            max_response_bytes: 8 << 20,
            ..granting(&streamed)
        },
    )
    .await;
    assert_eq!(fetch(&reg, &org).await, [format!("200 {HUGE} bytes")]);
    still_serving(&reg, &org).await;
}
