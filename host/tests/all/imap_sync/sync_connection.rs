//! Connecting and the connection test: TLS modes, certificate checks,
//! OAuth2 bearer tokens, and the clear error an admin gets for a wrong
//! password, a wrong port, an untrusted certificate or a server that never
//! answers.

use super::support::*;
use mailroom::net::NetError;
use mailroom::store::Security;
use mailroom::sync::diagnose::{Step, StepStatus, test_account};
use mailroom::sync::{
    NoDiagnoser, NoFolderMapper, PluginProvider, SyncError, SyncErrorKind, SyncOptions, Timeouts,
    sync_account_with,
};
use mailroom_test_servers::{Dovecot, Layout, SilentServer, closed_port};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_report_of_a_healthy_server_names_every_step() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start(Layout::SpecialUse);
    let acc = plain_account(s, &t, &d).await;
    let report = test_account(s, &t.org, &acc, &NoDiagnoser, short_timeouts())
        .await
        .expect("report");
    assert!(report.ok, "{report:#?}");
    let steps: Vec<_> = report.steps.iter().map(|s| (s.step, s.status)).collect();
    assert_eq!(
        steps,
        [
            (Step::Dns, StepStatus::Ok),
            (Step::Tcp, StepStatus::Ok),
            (Step::Tls, StepStatus::Skipped),
            (Step::Greeting, StepStatus::Ok),
            (Step::Login, StepStatus::Ok),
            (Step::ListFolders, StepStatus::Ok),
        ]
    );
    let detail = |step| {
        report
            .step(step)
            .map(|s| s.detail.clone())
            .unwrap_or_default()
    };
    assert!(
        detail(Step::Tls).contains("no TLS"),
        "{}",
        detail(Step::Tls)
    );
    assert!(
        detail(Step::Greeting).contains("ready"),
        "the server's own greeting: {}",
        detail(Step::Greeting)
    );
    assert!(detail(Step::Login).contains(&d.user().name));
    assert!(
        detail(Step::ListFolders).contains("Sent (\\Sent)"),
        "{}",
        detail(Step::ListFolders)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_a_clear_login_error_with_the_providers_advice() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start(Layout::SpecialUse);
    let acc = account(
        s,
        &t,
        &d.user().name,
        d.ports().imap,
        Security::None,
        true,
        Login::Password("wrong".into()),
    )
    .await;

    let registry = registry_with_generic_provider(s, &t.org).await;
    let provider = PluginProvider::new(registry, t.org.clone(), Some("generic"));
    let report = test_account(s, &t.org, &acc, &provider, short_timeouts())
        .await
        .expect("report");
    assert!(!report.ok);
    let login = report.failure().expect("a failed step");
    assert_eq!(
        (login.step, login.error_kind),
        (Step::Login, Some(SyncErrorKind::Auth))
    );
    assert!(
        login
            .detail
            .contains("[AUTHENTICATIONFAILED] Authentication failed."),
        "the server's words: {}",
        login.detail
    );
    let diagnosis = login
        .diagnosis
        .as_ref()
        .expect("the generic provider explains a login failure");
    assert!(
        !diagnosis.summary.is_empty() && !diagnosis.advice.is_empty(),
        "{diagnosis:?}"
    );
    assert_eq!(
        report.step(Step::ListFolders).map(|s| s.status),
        Some(StepStatus::Skipped)
    );
    assert!(
        !format!("{report:?}").contains(&d.user().password),
        "no secret in the report"
    );

    // Dovecot delays a second failed login from the same address by ~4.5 s
    // (its auth penalty), as real servers do: allow for it.
    let patient = SyncOptions {
        timeouts: Timeouts {
            connect: Duration::from_secs(2),
            tls: Duration::from_secs(2),
            greeting: Duration::from_secs(15),
            command: Duration::from_secs(15),
        },
        ..options(10)
    };
    let err = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &patient, |_| {})
        .await
        .expect_err("login fails");
    assert!(
        matches!(&err, SyncError::Net(NetError::Auth { server_says }) if server_says.contains("Authentication failed")),
        "{err:?}"
    );
    assert_account_failed(s, &t, &acc, "login rejected").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imaps_with_a_self_signed_certificate_fails_unless_the_account_opts_out() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start(Layout::SpecialUse);
    let user = d.user().clone();
    d.seed(&user.name, "INBOX", &mail(1, "over tls", 2000));
    let verified = account(
        s,
        &t,
        &user.name,
        d.ports().imaps,
        Security::Tls,
        true,
        Login::Password(user.password.clone()),
    )
    .await;

    let err = sync_account_with(s, &t.org, &verified, &NoFolderMapper, &options(10), |_| {})
        .await
        .expect_err("untrusted certificate");
    assert!(err.is_certificate_error(), "{err:?}");
    assert!(err.to_string().contains("not trusted"), "{err}");
    let report = test_account(s, &t.org, &verified, &NoDiagnoser, short_timeouts())
        .await
        .expect("report");
    let tls = report.failure().expect("failed step");
    assert_eq!(
        (tls.step, tls.error_kind),
        (Step::Tls, Some(SyncErrorKind::Tls))
    );
    assert!(tls.detail.contains("certificate"), "{}", tls.detail);
    assert_eq!(
        report.step(Step::Login).map(|s| s.status),
        Some(StepStatus::Skipped)
    );
    assert_eq!(
        totals(s).await.0,
        0,
        "nothing was sent over the unverified link"
    );

    let opted_out = account(
        s,
        &t,
        &user.name,
        d.ports().imaps,
        Security::Tls,
        false,
        Login::Password(user.password.clone()),
    )
    .await;
    let r = sync_account_with(s, &t.org, &opted_out, &NoFolderMapper, &options(10), |_| {})
        .await
        .expect("sync over TLS");
    assert_eq!(r.new_messages(), 1);
    let report = test_account(s, &t.org, &opted_out, &NoDiagnoser, short_timeouts())
        .await
        .expect("report");
    assert!(report.ok, "{report:#?}");
    let tls = report.step(Step::Tls).expect("tls step");
    assert!(
        tls.detail.contains("TLSv1.3") && tls.detail.contains("NOT verified"),
        "{}",
        tls.detail
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_with_an_oauth2_bearer_token() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start(Layout::SpecialUse);
    let user = d.user().clone();
    d.seed(&user.name, "INBOX", &mail(1, "via xoauth2", 1000));
    let acc = account(
        s,
        &t,
        &user.name,
        d.ports().imap,
        Security::Starttls,
        false,
        Login::OAuth2(user.oauth_token.clone()),
    )
    .await;
    let r = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(10), |_| {})
        .await
        .expect("sync");
    assert_eq!(r.new_messages(), 1);
    let report = test_account(s, &t.org, &acc, &NoDiagnoser, short_timeouts())
        .await
        .expect("report");
    assert!(report.ok, "{report:#?}");
    let order: Vec<_> = report.steps.iter().map(|s| s.step).collect();
    assert_eq!(
        order,
        [
            Step::Dns,
            Step::Tcp,
            Step::Greeting,
            Step::Tls,
            Step::Login,
            Step::ListFolders
        ]
    );

    let stale = account(
        s,
        &t,
        &user.name,
        d.ports().imap,
        Security::Starttls,
        false,
        Login::OAuth2("expired-token".into()),
    )
    .await;
    let err = sync_account_with(s, &t.org, &stale, &NoFolderMapper, &options(10), |_| {})
        .await
        .expect_err("bad token");
    assert_eq!(err.kind(), SyncErrorKind::Auth, "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_port_plain_port_for_tls_and_a_silent_server_are_clear_errors() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start(Layout::SpecialUse);
    let pw = || Login::Password(d.user().password.clone());
    let name = d.user().name.clone();

    // Nothing listens there.
    let refusing = closed_port();
    let acc = account(s, &t, &name, refusing.port(), Security::None, true, pw()).await;
    let report = test_account(s, &t.org, &acc, &NoDiagnoser, short_timeouts())
        .await
        .expect("report");
    let f = report.failure().expect("failed");
    assert_eq!(
        (f.step, f.error_kind),
        (Step::Tcp, Some(SyncErrorKind::Connect))
    );
    assert!(
        f.detail.contains("refused") && f.detail.contains("wrong port"),
        "{}",
        f.detail
    );

    // Implicit TLS against the plain-text port.
    let acc = account(s, &t, &name, d.ports().imap, Security::Tls, true, pw()).await;
    let report = test_account(s, &t.org, &acc, &NoDiagnoser, short_timeouts())
        .await
        .expect("report");
    let f = report.failure().expect("failed");
    assert_eq!(f.step, Step::Tls);
    assert!(f.detail.contains("speak TLS"), "{}", f.detail);

    // A server that accepts and never says a word: a timeout, not a hang.
    let silent = SilentServer::start();
    for (security, step) in [(Security::None, Step::Greeting), (Security::Tls, Step::Tls)] {
        let acc = account(s, &t, &name, silent.port(), security, true, pw()).await;
        let started = Instant::now();
        let report = test_account(s, &t.org, &acc, &NoDiagnoser, short_timeouts())
            .await
            .expect("report");
        let f = report.failure().expect("failed");
        assert_eq!(
            (f.step, f.error_kind),
            (step, Some(SyncErrorKind::Timeout)),
            "{report:#?}"
        );
        assert!(f.detail.contains("did not answer"), "{}", f.detail);
        let err = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(10), |_| {})
            .await
            .expect_err("timeout");
        assert_eq!(err.kind(), SyncErrorKind::Timeout);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "bounded by the timeouts: {:?}",
            started.elapsed()
        );
    }
    assert!(silent.accepted() >= 4);

    // A host that does not resolve fails at the first step.
    let acc = {
        let id = account(s, &t, &name, 993, Security::Tls, true, pw()).await;
        let update = mailroom::store::AccountUpdate {
            incoming: Some(mailroom::store::ServerSettings {
                host: "no-such-host.invalid".into(),
                port: 993,
                security: Security::Tls,
            }),
            ..Default::default()
        };
        s.update_account(&t.org, &id, &update)
            .await
            .expect("update");
        id
    };
    let report = test_account(s, &t.org, &acc, &NoDiagnoser, short_timeouts())
        .await
        .expect("report");
    let f = report.failure().expect("failed");
    assert_eq!(f.step, Step::Dns, "{report:#?}");
}
