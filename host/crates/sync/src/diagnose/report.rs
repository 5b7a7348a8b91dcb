//! What the connection test reports: each step of reaching a server, in
//! order, with what happened. Plain data for the API and the CLI; the
//! steps are filled in by `tester` and the protocols' modules.

use crate::error::SyncErrorKind;
use crate::provider::Diagnosis;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Dns,
    Tcp,
    Tls,
    Greeting,
    Login,
    /// Incoming servers only: the folder list (POP3: the message listing).
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

/// The test of an account: its incoming server's steps, and its outgoing
/// (SMTP) server's when it has one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ConnectionReport {
    /// The incoming server, `host:port`.
    pub server: String,
    pub security: String,
    /// Every step of both servers went through.
    pub ok: bool,
    /// The incoming server's steps.
    pub steps: Vec<StepReport>,
    /// The outgoing server's test (connect, TLS, login; no mail is sent),
    /// `None` when the account has no outgoing server.
    pub outgoing: Option<ServerReport>,
}

/// One server's steps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ServerReport {
    /// `host:port`.
    pub server: String,
    pub security: String,
    pub ok: bool,
    pub steps: Vec<StepReport>,
}

impl ServerReport {
    pub fn step(&self, step: Step) -> Option<&StepReport> {
        self.steps.iter().find(|s| s.step == step)
    }

    /// The step that failed, if one did.
    pub fn failure(&self) -> Option<&StepReport> {
        self.steps.iter().find(|s| s.status == StepStatus::Failed)
    }
}

impl ConnectionReport {
    /// Puts the incoming server's report and the outgoing one together.
    pub(super) fn new(incoming: ServerReport, outgoing: Option<ServerReport>) -> Self {
        Self {
            ok: incoming.ok && outgoing.as_ref().is_none_or(|o| o.ok),
            server: incoming.server,
            security: incoming.security,
            steps: incoming.steps,
            outgoing,
        }
    }

    /// A step of the incoming server.
    pub fn step(&self, step: Step) -> Option<&StepReport> {
        self.steps.iter().find(|s| s.step == step)
    }

    /// The incoming server's step that failed, if one did.
    pub fn failure(&self) -> Option<&StepReport> {
        self.steps.iter().find(|s| s.status == StepStatus::Failed)
    }
}
