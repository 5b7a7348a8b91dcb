//! Connecting over POP3: the connection test's steps, STLS and POP3S with
//! and without certificate verification, XOAUTH2, and the clear errors for
//! a wrong password, a closed port and a server that never answers.

use super::pop3_support::*;
use super::support::*;
use mailroom::net::NetError;
use mailroom::store::Security;
use mailroom::sync::diagnose::{Step, StepStatus, test_account};
use mailroom::sync::{
    NoDiagnoser, NoFolderMapper, PluginProvider, SyncError, SyncErrorKind, SyncOptions, Timeouts,
    sync_account_with,
};
use mailroom_test_servers::{Dovecot, Layout, SilentServer, closed_port};
use std::time::Duration;

fn steps(report: &mailroom::sync::diagnose::ConnectionReport) -> Vec<(Step, StepStatus)> {
    report.steps.iter().map(|s| (s.step, s.status)).collect()
}

fn detail(report: &mailroom::sync::diagnose::ConnectionReport, step: Step) -> String {
    report
        .step(step)
        .map(|s| s.detail.clone())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_report_of_a_pop3_account_names_every_step() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start(Layout::SpecialUse);
    d.seed(&d.user().name, "INBOX", &mail(1, "hello", 500));
    d.seed(&d.user().name, "INBOX", &mail(2, "again", 500));
    let acc = pop3_account(s, &t, &d, Pop3::plain(&d)).await;
    let report = test_account(s, &t.org, &acc, &NoDiagnoser, short_timeouts())
        .await
        .expect("report");
    assert!(report.ok, "{report:#?}");
    assert_eq!(
        steps(&report),
        [
            (Step::Dns, StepStatus::Ok),
            (Step::Tcp, StepStatus::Ok),
            (Step::Tls, StepStatus::Skipped),
            (Step::Greeting, StepStatus::Ok),
            (Step::Login, StepStatus::Ok),
            (Step::ListFolders, StepStatus::Ok),
        ]
    );
    let greeting = detail(&report, Step::Greeting);
    assert!(
        greeting.contains("+OK") && greeting.contains("ready"),
        "{greeting}"
    );
    assert!(detail(&report, Step::Login).contains(&d.user().name));
    let listing = detail(&report, Step::ListFolders);
    assert!(listing.contains("INBOX: 2 messages"), "{listing}");
    assert_eq!(d.mailbox_status(&d.user().name, "INBOX", "messages"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_a_login_error_with_the_servers_words_and_advice() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start(Layout::SpecialUse);
    let acc = pop3_account_with(s, &t, &d, Pop3::plain(&d), Login::Password("wrong".into())).await;
    // Dovecot delays repeated failed logins from one address (its auth
    // penalty), as real servers do: allow for it.
    let patient = Timeouts {
        connect: Duration::from_secs(2),
        tls: Duration::from_secs(2),
        greeting: Duration::from_secs(20),
        command: Duration::from_secs(20),
    };
    let registry = registry_with_generic_provider(s, &t.org).await;
    let provider = PluginProvider::new(registry, t.org.clone(), Some("generic"));
    let report = test_account(s, &t.org, &acc, &provider, patient)
        .await
        .expect("report");
    let login = report.failure().expect("a failed step");
    assert_eq!(
        (login.step, login.error_kind),
        (Step::Login, Some(SyncErrorKind::Auth))
    );
    assert!(
        login.detail.contains("Authentication failed"),
        "the server's words: {}",
        login.detail
    );
    let diagnosis = login
        .diagnosis
        .as_ref()
        .expect("the generic provider explains a POP3 login failure");
    assert!(!diagnosis.advice.is_empty(), "{diagnosis:?}");
    assert!(!format!("{report:?}").contains(&d.user().password));

    let options = SyncOptions {
        timeouts: patient,
        ..options(10)
    };
    let err = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options, |_| {})
        .await
        .expect_err("wrong password");
    let SyncError::Net(NetError::Auth { server_says }) = &err else {
        panic!("expected an auth error, got {err:?}");
    };
    assert!(
        server_says.contains("Authentication failed"),
        "{server_says}"
    );
    assert_account_failed(s, &t, &acc, "login rejected").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pop3s_checks_the_certificate_unless_the_account_opted_out() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start(Layout::SpecialUse);
    d.seed(&d.user().name, "INBOX", &mail(1, "over tls", 500));
    let pop3s = |tls_verify| Pop3 {
        port: d.ports().pop3s,
        security: Security::Tls,
        tls_verify,
        keep_on_server: true,
    };

    let verifying = pop3_account(s, &t, &d, pop3s(true)).await;
    let err = sync_account_with(s, &t.org, &verifying, &NoFolderMapper, &options(10), |_| {})
        .await
        .expect_err("self-signed certificate");
    assert!(err.is_certificate_error(), "{err:?}");
    assert!(err.to_string().contains("not trusted"), "{err}");
    let report = test_account(s, &t.org, &verifying, &NoDiagnoser, short_timeouts())
        .await
        .expect("report");
    let f = report.failure().expect("failed");
    assert_eq!(
        (f.step, f.error_kind),
        (Step::Tls, Some(SyncErrorKind::Tls))
    );

    let trusting = pop3_account(s, &t, &d, pop3s(false)).await;
    let r = sync_account_with(s, &t.org, &trusting, &NoFolderMapper, &options(10), |_| {})
        .await
        .expect("sync over POP3S");
    assert_eq!(r.new_messages(), 1);
    let report = test_account(s, &t.org, &trusting, &NoDiagnoser, short_timeouts())
        .await
        .expect("report");
    assert!(report.ok, "{report:#?}");
    assert!(detail(&report, Step::Tls).contains("NOT verified"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stls_upgrades_the_plain_port() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start(Layout::SpecialUse);
    d.seed(&d.user().name, "INBOX", &mail(1, "after stls", 500));
    let stls = |tls_verify| Pop3 {
        security: Security::Starttls,
        tls_verify,
        ..Pop3::plain(&d)
    };
    let verifying = pop3_account(s, &t, &d, stls(true)).await;
    let err = sync_account_with(s, &t.org, &verifying, &NoFolderMapper, &options(10), |_| {})
        .await
        .expect_err("self-signed certificate");
    assert!(err.is_certificate_error(), "{err:?}");

    let trusting = pop3_account(s, &t, &d, stls(false)).await;
    let r = sync_account_with(s, &t.org, &trusting, &NoFolderMapper, &options(10), |_| {})
        .await
        .expect("sync after STLS");
    assert_eq!(r.new_messages(), 1);
    let report = test_account(s, &t.org, &trusting, &NoDiagnoser, short_timeouts())
        .await
        .expect("report");
    assert!(report.ok, "{report:#?}");
    assert_eq!(
        steps(&report)[2..4],
        [
            (Step::Greeting, StepStatus::Ok),
            (Step::Tls, StepStatus::Ok)
        ],
        "STLS comes after the greeting"
    );
    assert!(detail(&report, Step::Tls).starts_with("STLS"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth2_bearer_tokens_log_in() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start(Layout::SpecialUse);
    d.seed(&d.user().name, "INBOX", &mail(1, "by token", 500));
    let token = d.user().oauth_token.clone();
    let acc = pop3_account_with(s, &t, &d, Pop3::plain(&d), Login::OAuth2(token)).await;
    let r = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(10), |_| {})
        .await
        .expect("OAuth login (OAUTHBEARER, offered by Dovecot)");
    assert_eq!(r.new_messages(), 1);

    let bad = pop3_account_with(s, &t, &d, Pop3::plain(&d), Login::OAuth2("expired".into())).await;
    let options = SyncOptions {
        timeouts: Timeouts {
            connect: Duration::from_secs(2),
            tls: Duration::from_secs(2),
            greeting: Duration::from_secs(20),
            command: Duration::from_secs(20),
        },
        ..options(10)
    };
    let err = sync_account_with(s, &t.org, &bad, &NoFolderMapper, &options, |_| {})
        .await
        .expect_err("bad token");
    assert_eq!(err.kind(), SyncErrorKind::Auth, "{err:?}");
    assert!(
        err.to_string().contains("Authentication failed"),
        "the server's words: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_port_and_silent_server_are_clear_errors() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start(Layout::SpecialUse);
    let refusing = closed_port();
    let closed = Pop3 {
        port: refusing.port(),
        ..Pop3::plain(&d)
    };
    let acc = pop3_account(s, &t, &d, closed).await;
    let err = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(10), |_| {})
        .await
        .expect_err("nothing listens");
    assert_eq!(err.kind(), SyncErrorKind::Connect, "{err:?}");
    assert!(err.to_string().contains("refused"), "{err}");

    let silent = SilentServer::start();
    let quiet = Pop3 {
        port: silent.port(),
        ..Pop3::plain(&d)
    };
    let acc = pop3_account(s, &t, &d, quiet).await;
    let err = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(10), |_| {})
        .await
        .expect_err("no greeting");
    assert_eq!(err.kind(), SyncErrorKind::Timeout, "{err:?}");
    assert!(err.to_string().contains("greeting"), "{err}");
    let report = test_account(s, &t.org, &acc, &NoDiagnoser, short_timeouts())
        .await
        .expect("report");
    let f = report.failure().expect("failed");
    assert_eq!(
        (f.step, f.error_kind),
        (Step::Greeting, Some(SyncErrorKind::Timeout))
    );

    // The IMAP port is not a POP3 server: said so, not misparsed.
    let imap = Pop3 {
        port: d.ports().imap,
        ..Pop3::plain(&d)
    };
    let acc = pop3_account(s, &t, &d, imap).await;
    let err = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(10), |_| {})
        .await
        .expect_err("not POP3");
    assert!(err.to_string().contains("POP3 port"), "{err}");
}
