//! The one sequence that reaches a mail server, for every protocol and
//! every caller (sync, sending, the connection test): DNS, TCP, TLS as the
//! target says (implicit, or STARTTLS/STLS after the greeting), and the
//! greeting, each step under its own deadline ([`Timeouts`]) and each
//! outcome typed ([`ConnectStep`], [`StepFailure`]). A protocol brings only
//! what is its own ([`Protocol`]: its greeting and its upgrade command);
//! the connection test watches the steps through a [`StepLog`], everyone
//! else passes `&mut ()`.

use crate::error::NetError;
use crate::transport::{
    MailStream, ServerTarget, Timeouts, refuse_plain_text, resolve, tcp_connect, tls_handshake,
    tls_version,
};
use mailroom_core::security::Security;
use std::future::Future;
use std::time::{Duration, Instant};

/// A step of reaching a server, before the login.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectStep {
    Dns,
    Tcp,
    Tls,
    Greeting,
}

/// The step that failed, how long it ran, and why.
#[derive(Debug)]
pub struct StepFailure {
    pub step: ConnectStep,
    pub elapsed: Duration,
    pub error: NetError,
}

impl From<StepFailure> for NetError {
    fn from(failure: StepFailure) -> Self {
        failure.error
    }
}

/// What a protocol adds to the shared steps.
pub trait Protocol {
    /// A connection whose greeting has been read, not yet logged in.
    type Greeted: Send;
    /// The upgrade command's name, for the report (`STARTTLS`, `STLS`).
    const UPGRADE: &'static str;

    /// Reads the server's greeting on a fresh stream (for SMTP: and EHLO).
    fn greet(
        target: &ServerTarget,
        stream: MailStream,
        timeouts: Timeouts,
    ) -> impl Future<Output = Result<Self::Greeted, NetError>> + Send;

    /// Upgrades a greeted plain connection to TLS (STARTTLS, STLS).
    fn upgrade(
        target: &ServerTarget,
        greeted: Self::Greeted,
        timeouts: Timeouts,
    ) -> impl Future<Output = Result<Self::Greeted, NetError>> + Send;

    /// The greeting in words, for the report.
    fn describe(greeted: &Self::Greeted) -> String;
}

/// Watches the steps as they pass: the connection test's report. The
/// failed step comes back as the [`StepFailure`].
pub trait StepLog: Send {
    fn passed(&mut self, step: ConnectStep, elapsed: Duration, detail: String);
    /// A step this connection does not take (TLS with `security: none`).
    fn skipped(&mut self, step: ConnectStep, detail: String);
}

/// For callers that only want the connection.
impl StepLog for () {
    fn passed(&mut self, _: ConnectStep, _: Duration, _: String) {}
    fn skipped(&mut self, _: ConnectStep, _: String) {}
}

/// DNS, TCP, TLS as the target says, and the greeting: a connection ready
/// to log in, or the step that failed.
pub async fn connect<P: Protocol>(
    target: &ServerTarget,
    timeouts: Timeouts,
    log: &mut impl StepLog,
) -> Result<P::Greeted, StepFailure> {
    let mut step = Runner {
        log,
        last: Duration::ZERO,
    };
    // Refused before any connection: it is the TLS setting that is wrong.
    step.run(ConnectStep::Tls, async { refuse_plain_text(target) })
        .await?;
    let addrs = step
        .run(ConnectStep::Dns, resolve(target, timeouts))
        .await?;
    let shown: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
    step.passed(
        ConnectStep::Dns,
        format!("{} is {}", target.host, shown.join(", ")),
    );
    let tcp = step
        .run(ConnectStep::Tcp, tcp_connect(target, &addrs, timeouts))
        .await?;
    let peer = tcp.peer_addr().map(|a| a.to_string()).unwrap_or_default();
    step.passed(ConnectStep::Tcp, format!("connected to {peer}"));
    let verify = verify_words(target);
    match target.security {
        Security::Tls => {
            let tls = step
                .run(ConnectStep::Tls, tls_handshake(target, tcp, timeouts))
                .await?;
            step.passed(ConnectStep::Tls, format!("{}, {verify}", tls_version(&tls)));
            step.greet::<P>(target, MailStream::Tls(Box::new(tls)), timeouts)
                .await
        }
        Security::Starttls => {
            let greeted = step
                .greet::<P>(target, MailStream::Plain(tcp), timeouts)
                .await?;
            // The upgrade does not report the negotiated version; the
            // handshake succeeding is what matters here.
            let upgraded = step
                .run(ConnectStep::Tls, P::upgrade(target, greeted, timeouts))
                .await?;
            step.passed(ConnectStep::Tls, format!("{}, {verify}", P::UPGRADE));
            Ok(upgraded)
        }
        Security::None => {
            step.log.skipped(
                ConnectStep::Tls,
                "plain text, no TLS: passwords and mail cross the network readable".into(),
            );
            step.greet::<P>(target, MailStream::Plain(tcp), timeouts)
                .await
        }
    }
}

/// How far the certificate was checked, for the TLS step's words.
pub fn verify_words(target: &ServerTarget) -> &'static str {
    if target.tls_verify {
        "certificate verified"
    } else {
        "certificate NOT verified (this account opted out of verification)"
    }
}

/// Times each step and reports it to the log.
struct Runner<'a, L: StepLog> {
    log: &'a mut L,
    /// How long the last step ran, for its report.
    last: Duration,
}

impl<L: StepLog> Runner<'_, L> {
    async fn run<T>(
        &mut self,
        step: ConnectStep,
        fut: impl Future<Output = Result<T, NetError>>,
    ) -> Result<T, StepFailure> {
        let start = Instant::now();
        let result = fut.await;
        let elapsed = start.elapsed();
        self.last = elapsed;
        result.map_err(|error| StepFailure {
            step,
            elapsed,
            error,
        })
    }

    fn passed(&mut self, step: ConnectStep, detail: String) {
        self.log.passed(step, self.last, detail);
    }

    async fn greet<P: Protocol>(
        &mut self,
        target: &ServerTarget,
        stream: MailStream,
        timeouts: Timeouts,
    ) -> Result<P::Greeted, StepFailure> {
        let greeted = self
            .run(ConnectStep::Greeting, P::greet(target, stream, timeouts))
            .await?;
        self.passed(ConnectStep::Greeting, P::describe(&greeted));
        Ok(greeted)
    }
}
