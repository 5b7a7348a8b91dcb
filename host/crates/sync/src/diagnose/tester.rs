//! The connection test: each step of reaching an account — DNS, TCP, TLS,
//! the server's greeting, login, folder list (for POP3: the message
//! listing, see `pop3::diagnose`) — tried in order, with
//! what happened in words an admin can act on: the server's own words when
//! it refused, the local error otherwise, and the provider's diagnosis
//! where it has one. A failed step stops the test; the later steps are
//! reported as not tried. Nothing in the report is secret.

use super::account::{imap_auth, imap_target};
use super::error::{SyncError, SyncErrorKind};
use super::imap::auth::login;
use super::imap::connect::{
    Greeted, MailStream, read_greeting, resolve, starttls, tcp_connect, tls_handshake,
};
use super::imap::{ImapAuth, ImapSession, ImapTarget, Timeouts};
use super::provider::{ConnectionProblem, Diagnoser, Diagnosis, ProblemStep};
use async_imap::Client;
use mailroom_core::ids::{AccountId, OrgId};
use mailroom_store::{Protocol, Security, Store, StoreResult};
use serde::Serialize;
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Dns,
    Tcp,
    Tls,
    Greeting,
    Login,
    ListFolders,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Ok,
    Failed,
    /// Not tried (an earlier step failed), or not applicable (no TLS).
    Skipped,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StepReport {
    pub step: Step,
    pub status: StepStatus,
    /// What happened: the result, the server's words, or the error.
    pub detail: String,
    pub error_kind: Option<SyncErrorKind>,
    /// The provider's explanation of a failure, if it has one.
    pub diagnosis: Option<Diagnosis>,
    pub elapsed_ms: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ConnectionReport {
    /// `host:port`.
    pub server: String,
    pub security: String,
    pub ok: bool,
    pub steps: Vec<StepReport>,
}

impl ConnectionReport {
    pub fn step(&self, step: Step) -> Option<&StepReport> {
        self.steps.iter().find(|s| s.step == step)
    }

    /// The step that failed, if one did.
    pub fn failure(&self) -> Option<&StepReport> {
        self.steps.iter().find(|s| s.status == StepStatus::Failed)
    }
}

/// Tests a stored account's incoming connection with its credentials.
/// Only a store failure is an error; every connection problem is in the report.
pub async fn test_account(
    store: &Store,
    org: &OrgId,
    account: &AccountId,
    diagnoser: &dyn Diagnoser,
    timeouts: Timeouts,
) -> StoreResult<ConnectionReport> {
    let account = store.get_account(org, account).await?;
    let target = imap_target(&account);
    if account.protocol == Protocol::Pop3 {
        return super::pop3::diagnose::test_account(store, &account, &target, diagnoser, timeouts)
            .await;
    }
    match imap_auth(store, &account).await {
        Ok(auth) => Ok(test_connection(&target, &auth, timeouts, diagnoser).await),
        Err(SyncError::Store(e)) => Err(e),
        // No credentials: the network steps are still worth testing.
        Err(e) => {
            let mut t = Tester::new(&target, diagnoser, "imap");
            if let Some(greeted) = t.reach(timeouts).await {
                drop(greeted);
                let start = Instant::now();
                t.fail::<()>(Step::Login, start, e).await;
            }
            Ok(t.finish())
        }
    }
}

/// Tests `target` with `auth`, step by step.
pub async fn test_connection(
    target: &ImapTarget,
    auth: &ImapAuth,
    timeouts: Timeouts,
    diagnoser: &dyn Diagnoser,
) -> ConnectionReport {
    let mut t = Tester::new(target, diagnoser, "imap");
    let Some(greeted) = t.reach(timeouts).await else {
        return t.finish();
    };
    let greeting = greeted.greeting.clone();
    let start = Instant::now();
    let logged_in = match login(target, greeted, auth, timeouts).await {
        Ok(s) => s,
        Err(e) => {
            t.fail::<()>(Step::Login, start, e).await;
            return t.finish();
        }
    };
    let mechanism = logged_in.mechanism;
    let mut session =
        match ImapSession::logged_in(target, logged_in.session, greeting, timeouts).await {
            Ok(s) => s,
            Err(e) => {
                t.fail::<()>(Step::Login, start, e).await;
                return t.finish();
            }
        };
    t.ok(
        Step::Login,
        start,
        format!(
            "logged in as {} with {}",
            auth.username(),
            mechanism.describe()
        ),
    );
    let start = Instant::now();
    match session.list().await {
        Ok(list) => {
            let names: Vec<String> = list.iter().map(describe_mailbox).collect();
            t.ok(
                Step::ListFolders,
                start,
                format!("{} folders: {}", names.len(), names.join(", ")),
            );
        }
        Err(e) => {
            t.fail::<()>(Step::ListFolders, start, e).await;
        }
    }
    session.logout().await;
    t.finish()
}

fn describe_mailbox(m: &super::imap::MailboxInfo) -> String {
    match super::imap::folders::special_use(m) {
        Some(attr) => format!("{} ({attr})", m.name),
        None => m.name.clone(),
    }
}

/// Runs the steps and collects their reports; the protocols add their
/// greeting, login and listing steps to the shared network steps.
pub(crate) struct Tester<'a> {
    target: &'a ImapTarget,
    diagnoser: &'a dyn Diagnoser,
    /// `imap` or `pop3`, for the provider's diagnosis.
    protocol: &'static str,
    steps: Vec<StepReport>,
}

impl<'a> Tester<'a> {
    pub(crate) fn new(
        target: &'a ImapTarget,
        diagnoser: &'a dyn Diagnoser,
        protocol: &'static str,
    ) -> Self {
        Self {
            target,
            diagnoser,
            protocol,
            steps: Vec::new(),
        }
    }

    /// DNS, TCP, TLS and greeting in the order the security mode needs.
    async fn reach(&mut self, timeouts: Timeouts) -> Option<Greeted> {
        let target = self.target;
        let stream = self.transport(timeouts).await?;
        let greeted = self.greeting(Client::new(stream), timeouts).await?;
        if target.security != Security::Starttls {
            return Some(greeted);
        }
        let greeting = greeted.greeting.clone();
        let start = Instant::now();
        // STARTTLS does not report the negotiated version; the handshake
        // succeeding is what matters here.
        match starttls(target, greeted, timeouts).await {
            Ok(client) => {
                self.ok(
                    Step::Tls,
                    start,
                    format!("STARTTLS, {}", verify_words(target)),
                );
                Some(Greeted { client, greeting })
            }
            Err(e) => self.fail(Step::Tls, start, e).await,
        }
    }

    /// DNS, TCP and, for implicit TLS, the handshake: the stream the
    /// protocol's greeting comes on (plain for STARTTLS/STLS, which the
    /// protocol does after its greeting).
    pub(crate) async fn transport(&mut self, timeouts: Timeouts) -> Option<MailStream> {
        let target = self.target;
        let start = Instant::now();
        let addrs = match resolve(target, timeouts).await {
            Ok(a) => a,
            Err(e) => return self.fail(Step::Dns, start, e).await,
        };
        let shown: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
        self.ok(
            Step::Dns,
            start,
            format!("{} is {}", target.host, shown.join(", ")),
        );

        let start = Instant::now();
        let tcp = match tcp_connect(target, &addrs, timeouts).await {
            Ok(t) => t,
            Err(e) => return self.fail(Step::Tcp, start, e).await,
        };
        let peer = tcp.peer_addr().map(|a| a.to_string()).unwrap_or_default();
        self.ok(Step::Tcp, start, format!("connected to {peer}"));

        match target.security {
            Security::Tls => {
                let start = Instant::now();
                let tls = match tls_handshake(target, tcp, timeouts).await {
                    Ok(t) => t,
                    Err(e) => return self.fail(Step::Tls, start, e).await,
                };
                let detail = tls_detail(target, &tls);
                self.ok(Step::Tls, start, detail);
                Some(MailStream::Tls(Box::new(tls)))
            }
            Security::Starttls => Some(MailStream::Plain(tcp)),
            Security::None => {
                self.steps.push(StepReport {
                    step: Step::Tls,
                    status: StepStatus::Skipped,
                    detail: "plain text, no TLS: passwords and mail cross the network readable \
                             (acceptable on loopback and for tests only)"
                        .into(),
                    error_kind: None,
                    diagnosis: None,
                    elapsed_ms: 0,
                });
                Some(MailStream::Plain(tcp))
            }
        }
    }

    async fn greeting(
        &mut self,
        client: Client<MailStream>,
        timeouts: Timeouts,
    ) -> Option<Greeted> {
        let start = Instant::now();
        match read_greeting(self.target, client, timeouts).await {
            Ok(g) => {
                self.ok(
                    Step::Greeting,
                    start,
                    format!("the server says: {}", g.greeting),
                );
                Some(g)
            }
            Err(e) => self.fail(Step::Greeting, start, e).await,
        }
    }

    pub(crate) fn ok(&mut self, step: Step, start: Instant, detail: String) {
        self.steps.push(StepReport {
            step,
            status: StepStatus::Ok,
            detail,
            error_kind: None,
            diagnosis: None,
            elapsed_ms: elapsed_ms(start),
        });
    }

    /// Records a failed step (asking the provider what it means) and
    /// returns `None` so callers can `return self.fail(…)`.
    pub(crate) async fn fail<T>(
        &mut self,
        step: Step,
        start: Instant,
        error: SyncError,
    ) -> Option<T> {
        let detail = match &error {
            SyncError::Auth { server_says } => format!("the server says: {server_says}"),
            other => other.to_string(),
        };
        let problem = ConnectionProblem {
            step: match step {
                Step::Dns => ProblemStep::Dns,
                Step::Tcp | Step::Greeting => ProblemStep::Tcp,
                Step::Tls => ProblemStep::Tls,
                Step::Login => ProblemStep::Login,
                Step::ListFolders => ProblemStep::ListFolders,
            },
            protocol: self.protocol.into(),
            server: self.target.server(),
            message: match &error {
                SyncError::Auth { server_says } => server_says.clone(),
                other => other.to_string(),
            },
        };
        let diagnosis = self.diagnoser.diagnose(&problem).await;
        self.steps.push(StepReport {
            step,
            status: StepStatus::Failed,
            detail,
            error_kind: Some(error.kind()),
            diagnosis,
            elapsed_ms: elapsed_ms(start),
        });
        None
    }

    pub(crate) fn finish(mut self) -> ConnectionReport {
        let order: &[Step] = match self.target.security {
            Security::Starttls => &[
                Step::Dns,
                Step::Tcp,
                Step::Greeting,
                Step::Tls,
                Step::Login,
                Step::ListFolders,
            ],
            _ => &[
                Step::Dns,
                Step::Tcp,
                Step::Tls,
                Step::Greeting,
                Step::Login,
                Step::ListFolders,
            ],
        };
        for step in order {
            if !self.steps.iter().any(|s| s.step == *step) {
                self.steps.push(StepReport {
                    step: *step,
                    status: StepStatus::Skipped,
                    detail: "not tried: an earlier step failed".into(),
                    error_kind: None,
                    diagnosis: None,
                    elapsed_ms: 0,
                });
            }
        }
        let ok = self.steps.iter().all(|s| s.status != StepStatus::Failed);
        ConnectionReport {
            server: self.target.server(),
            security: self.target.security.as_str().to_owned(),
            ok,
            steps: self.steps,
        }
    }
}

pub(crate) fn verify_words(target: &ImapTarget) -> &'static str {
    if target.tls_verify {
        "certificate verified"
    } else {
        "certificate NOT verified (this account opted out of verification)"
    }
}

fn tls_detail(
    target: &ImapTarget,
    tls: &tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
) -> String {
    let version = tls
        .get_ref()
        .1
        .protocol_version()
        .map(|v| format!("{v:?}").replace('_', "."))
        .unwrap_or_else(|| "TLS".into());
    format!("{version}, {}", verify_words(target))
}

fn elapsed_ms(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}
