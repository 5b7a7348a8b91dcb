//! The steps every protocol shares in the connection test: DNS, TCP and
//! implicit TLS (the transport), recording each step's outcome, asking the
//! provider what a failure means, and closing the report with the steps
//! that were not tried. The protocols add their greeting, STARTTLS, login
//! and listing.

use super::report::{ServerReport, Step, StepReport, StepStatus};
use crate::error::SyncError;
use crate::provider::{ConnectionProblem, Diagnoser, ProblemStep};
use mailroom_net::transport::{
    TlsStream, refuse_plain_text, resolve, tcp_connect, tls_handshake, tls_version,
};
use mailroom_net::{LoginAuth, MailStream, NetError, Security, ServerTarget, Timeouts};
use mailroom_store::StoreResult;
use std::time::Instant;

/// The protocol of the server under test, as the provider contract names
/// it; it decides the steps and how they are named to the provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Protocol {
    Imap,
    Pop3,
    Smtp,
}

impl Protocol {
    fn name(self) -> &'static str {
        match self {
            Protocol::Imap => "imap",
            Protocol::Pop3 => "pop3",
            Protocol::Smtp => "smtp",
        }
    }

    /// The provider contract's name of a step of this protocol.
    fn problem_step(self, step: Step) -> ProblemStep {
        match (self, step) {
            (_, Step::Dns) => ProblemStep::Dns,
            (_, Step::Tls) => ProblemStep::Tls,
            (Protocol::Smtp, Step::Tcp | Step::Greeting) => ProblemStep::SmtpConnect,
            (Protocol::Smtp, Step::Login) => ProblemStep::SmtpAuth,
            (_, Step::Tcp | Step::Greeting) => ProblemStep::Tcp,
            (_, Step::Login) => ProblemStep::Login,
            (_, Step::ListFolders) => ProblemStep::ListFolders,
        }
    }
}

/// The credentials to test with: a store failure ends the test (the
/// caller's error); missing or unusable credentials are the login step's
/// failure, after the network steps, which are still worth testing.
pub(super) fn credentials(
    login: Result<LoginAuth, SyncError>,
) -> StoreResult<Result<LoginAuth, NetError>> {
    match login {
        Ok(auth) => Ok(Ok(auth)),
        Err(SyncError::Net(e)) => Ok(Err(e)),
        Err(SyncError::Store(e)) => Err(e),
    }
}

/// Runs the steps and collects their reports.
pub(super) struct Tester<'a> {
    target: &'a ServerTarget,
    diagnoser: &'a dyn Diagnoser,
    protocol: Protocol,
    steps: Vec<StepReport>,
}

impl<'a> Tester<'a> {
    pub(super) fn new(
        target: &'a ServerTarget,
        diagnoser: &'a dyn Diagnoser,
        protocol: Protocol,
    ) -> Self {
        Self {
            target,
            diagnoser,
            protocol,
            steps: Vec::new(),
        }
    }

    /// DNS, TCP and, for implicit TLS, the handshake: the stream the
    /// protocol's greeting comes on (plain for STARTTLS/STLS, which the
    /// protocol does after its greeting).
    pub(super) async fn transport(&mut self, timeouts: Timeouts) -> Option<MailStream> {
        let target = self.target;
        let start = Instant::now();
        // Refused before any connection: it is the TLS setting that is wrong.
        if let Err(e) = refuse_plain_text(target) {
            return self.fail(Step::Tls, start, e).await;
        }
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

    pub(super) fn ok(&mut self, step: Step, start: Instant, detail: String) {
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
    pub(super) async fn fail<T>(
        &mut self,
        step: Step,
        start: Instant,
        error: NetError,
    ) -> Option<T> {
        let detail = match &error {
            NetError::Auth { server_says } => format!("the server says: {server_says}"),
            other => other.to_string(),
        };
        let problem = ConnectionProblem {
            step: self.protocol.problem_step(step),
            protocol: self.protocol.name().into(),
            server: self.target.server(),
            message: error.server_words(),
        };
        let diagnosis = self.diagnoser.diagnose(&problem).await;
        self.steps.push(StepReport {
            step,
            status: StepStatus::Failed,
            detail,
            error_kind: Some(SyncError::Net(error).kind()),
            diagnosis,
            elapsed_ms: elapsed_ms(start),
        });
        None
    }

    /// The report, with every step that was not tried marked so, in the
    /// order the security mode takes them.
    pub(super) fn finish(mut self) -> ServerReport {
        let mut order: Vec<Step> = match self.target.security {
            Security::Starttls => {
                vec![Step::Dns, Step::Tcp, Step::Greeting, Step::Tls, Step::Login]
            }
            _ => vec![Step::Dns, Step::Tcp, Step::Tls, Step::Greeting, Step::Login],
        };
        if self.protocol != Protocol::Smtp {
            order.push(Step::ListFolders);
        }
        for step in order {
            if !self.steps.iter().any(|s| s.step == step) {
                self.steps.push(StepReport {
                    step,
                    status: StepStatus::Skipped,
                    detail: "not tried: an earlier step failed".into(),
                    error_kind: None,
                    diagnosis: None,
                    elapsed_ms: 0,
                });
            }
        }
        let ok = self.steps.iter().all(|s| s.status != StepStatus::Failed);
        ServerReport {
            server: self.target.server(),
            security: self.target.security.as_str().to_owned(),
            ok,
            steps: self.steps,
        }
    }
}

/// How far the certificate was checked, for the TLS step's words.
pub(super) fn verify_words(target: &ServerTarget) -> &'static str {
    if target.tls_verify {
        "certificate verified"
    } else {
        "certificate NOT verified (this account opted out of verification)"
    }
}

fn tls_detail(target: &ServerTarget, tls: &TlsStream) -> String {
    format!("{}, {}", tls_version(tls), verify_words(target))
}

fn elapsed_ms(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}
