//! The connection test covers the outgoing server too: Dovecot's
//! submission service (STARTTLS, AUTH) and an SMTP server that refuses
//! logins the way Microsoft 365 does when SMTP AUTH is off, each failure
//! explained by the provider plugin's `diagnose` like an IMAP one. No
//! mail is sent by a test.

use super::support::World;
use mailroom::ids::AccountId;
use mailroom::net::Security;
use mailroom::store::{AuthKind, ServerSettings};
use mailroom::sync::diagnose::{ConnectionReport, ServerReport, Step, StepStatus, test_account};
use mailroom::sync::{PluginProvider, SyncErrorKind, Timeouts};
use mailroom_test_servers::SmtpSink;
use std::time::Duration;

async fn connection_test(
    w: &World,
    account: &AccountId,
    provider: Option<&str>,
) -> ConnectionReport {
    let diagnoser = PluginProvider::new(w.registry.clone(), w.org.clone(), provider);
    let timeouts = Timeouts {
        connect: Duration::from_secs(3),
        tls: Duration::from_secs(3),
        greeting: Duration::from_secs(10),
        command: Duration::from_secs(10),
    };
    test_account(w.store(), &w.org, account, &diagnoser, timeouts)
        .await
        .expect("report")
}

fn steps(report: &ServerReport) -> Vec<(Step, StepStatus)> {
    report.steps.iter().map(|s| (s.step, s.status)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_test_logs_in_to_the_outgoing_server_without_sending() {
    let w = World::start().await;
    let account = w.account(None, &w.user().password.clone()).await;
    let report = connection_test(&w, &account, None).await;
    assert!(report.ok, "{report:#?}");
    let outgoing = report
        .outgoing
        .as_ref()
        .expect("the outgoing server is tested");
    assert_eq!(
        outgoing.server,
        format!("127.0.0.1:{}", w.dovecot.ports().submission)
    );
    assert_eq!(outgoing.security, "starttls");
    // STARTTLS comes after the greeting; an SMTP server has no folders.
    assert_eq!(
        steps(outgoing),
        [
            (Step::Dns, StepStatus::Ok),
            (Step::Tcp, StepStatus::Ok),
            (Step::Greeting, StepStatus::Ok),
            (Step::Tls, StepStatus::Ok),
            (Step::Login, StepStatus::Ok),
        ],
        "{outgoing:#?}"
    );
    let tls = outgoing.step(Step::Tls).expect("tls");
    assert!(tls.detail.starts_with("STARTTLS"), "{}", tls.detail);
    let login = outgoing.step(Step::Login).expect("login");
    assert_eq!(
        login.detail,
        format!(
            "logged in as {} with a password (AUTH PLAIN or LOGIN)",
            w.user().name
        )
    );
    // The incoming steps are there as before.
    assert_eq!(
        report.step(Step::ListFolders).map(|s| s.status),
        Some(StepStatus::Ok)
    );
    assert_eq!(w.sink.count(), 0, "a connection test sends nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_smtp_login_is_reported_in_the_servers_words_and_diagnosed() {
    let w = World::start().await;
    w.install(mailroom_plugin_artifacts::PROVIDER_GENERIC).await;
    let account = w.account(None, "not-the-password").await;
    let report = connection_test(&w, &account, None).await;
    assert!(!report.ok, "{report:#?}");
    let outgoing = report.outgoing.as_ref().expect("outgoing tested");
    assert!(!outgoing.ok);
    let login = outgoing.failure().expect("a failed step");
    assert_eq!(login.step, Step::Login, "{outgoing:#?}");
    assert_eq!(login.error_kind, Some(SyncErrorKind::Auth));
    assert!(login.detail.contains("535"), "{}", login.detail);
    assert!(
        login.detail.contains("Authentication failed"),
        "the server's words: {}",
        login.detail
    );
    assert!(!login.detail.contains("not-the-password"));
    let diagnosis = login.diagnosis.as_ref().expect("the provider explains it");
    assert!(
        diagnosis
            .summary
            .contains("rejected the user name or password"),
        "{diagnosis:?}"
    );
    assert!(
        !format!("{report:?}").contains("not-the-password"),
        "no credential in the report"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn microsoft_explains_smtp_auth_turned_off() {
    let w = World::start().await;
    w.install(mailroom_plugin_artifacts::PROVIDER_MICROSOFT)
        .await;
    let refusing = SmtpSink::refusing_auth(
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the \
         Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.",
    );
    let outgoing = ServerSettings {
        host: "127.0.0.1".into(),
        port: refusing.port(),
        security: Security::None,
    };
    let password = w.user().password.clone();
    let account = w
        .account_sending_through(Some("microsoft"), AuthKind::Password, &password, outgoing)
        .await;
    let report = connection_test(&w, &account, Some("microsoft")).await;
    // The incoming server is fine; only sending is switched off.
    assert_eq!(report.failure(), None, "{report:#?}");
    assert!(!report.ok);
    let outgoing = report.outgoing.as_ref().expect("outgoing tested");
    assert_eq!(
        steps(outgoing),
        [
            (Step::Dns, StepStatus::Ok),
            (Step::Tcp, StepStatus::Ok),
            (Step::Tls, StepStatus::Skipped),
            (Step::Greeting, StepStatus::Ok),
            (Step::Login, StepStatus::Failed),
        ],
        "{outgoing:#?}"
    );
    let login = outgoing.step(Step::Login).expect("login");
    assert!(login.detail.contains("5.7.139"), "{}", login.detail);
    let diagnosis = login.diagnosis.as_ref().expect("Microsoft's advice");
    assert!(
        diagnosis.summary.contains("SMTP AUTH is turned off"),
        "{diagnosis:?}"
    );
    assert!(
        diagnosis.advice.contains("Authenticated SMTP"),
        "{diagnosis:?}"
    );
    assert_eq!(refusing.auth_attempts(), 1);
    assert_eq!(refusing.count(), 0);
}
