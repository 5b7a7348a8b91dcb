//! Recording the connection test's steps: the shared ones (DNS, TCP, TLS,
//! greeting: [`mailroom_net::steps`], the same code sync and sending run)
//! as they pass, asking the provider what a failure means, and closing the
//! report with the steps that were not tried. The protocols add their
//! login and listing.

use super::report::{ServerReport, Step, StepReport, StepStatus};
use crate::error::SyncError;
use crate::provider::{ConnectionProblem, Diagnoser, ProblemStep};
use mailroom_net::steps::{self, ConnectStep, StepLog};
use mailroom_net::{LoginAuth, NetError, Security, ServerTarget, Timeouts};
use mailroom_store::StoreResult;
use std::time::{Duration, Instant};

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

    /// The shared steps (DNS, TCP, TLS, greeting; see
    /// [`mailroom_net::steps`]), each recorded as it passes: the greeted
    /// connection, or `None` when a step failed (recorded with the
    /// provider's diagnosis).
    pub(super) async fn reach<P: steps::Protocol>(
        &mut self,
        timeouts: Timeouts,
    ) -> Option<P::Greeted> {
        let target = self.target;
        match steps::connect::<P>(target, timeouts, self).await {
            Ok(greeted) => Some(greeted),
            Err(failure) => {
                self.fail_after(report_step(failure.step), failure.elapsed, failure.error)
                    .await
            }
        }
    }

    pub(super) fn ok(&mut self, step: Step, start: Instant, detail: String) {
        self.passed_after(step, start.elapsed(), detail);
    }

    fn passed_after(&mut self, step: Step, elapsed: Duration, detail: String) {
        self.steps.push(StepReport {
            step,
            status: StepStatus::Ok,
            detail,
            error_kind: None,
            diagnosis: None,
            elapsed_ms: millis(elapsed),
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
        self.fail_after(step, start.elapsed(), error).await
    }

    async fn fail_after<T>(&mut self, step: Step, elapsed: Duration, error: NetError) -> Option<T> {
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
            elapsed_ms: millis(elapsed),
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

impl StepLog for Tester<'_> {
    fn passed(&mut self, step: ConnectStep, elapsed: Duration, detail: String) {
        self.passed_after(report_step(step), elapsed, detail);
    }

    fn skipped(&mut self, step: ConnectStep, detail: String) {
        self.steps.push(StepReport {
            step: report_step(step),
            status: StepStatus::Skipped,
            detail,
            error_kind: None,
            diagnosis: None,
            elapsed_ms: 0,
        });
    }
}

/// The report's name of a shared step.
fn report_step(step: ConnectStep) -> Step {
    match step {
        ConnectStep::Dns => Step::Dns,
        ConnectStep::Tcp => Step::Tcp,
        ConnectStep::Tls => Step::Tls,
        ConnectStep::Greeting => Step::Greeting,
    }
}

fn millis(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
}
