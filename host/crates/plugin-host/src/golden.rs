//! The golden set: inputs of different shapes the host ships (`golden/`),
//! run through a plugin when it is uploaded, before it is stored. A plugin
//! that traps, runs past its deadline or memory, or answers what the host
//! cannot read on any of them would fail on real mail too: it is refused
//! with the case named ([`GoldenFailure`]). What the plugin answered on
//! each case is returned with the upload, so an admin sees it work.
//!
//! Calls run in an isolated scope (no key-value data, nothing saved) and
//! under the default limits, like `metadata` at admission. A plugin that
//! declines a case in the contract's own way (a workflow's `Err`, an
//! importer's import error for a file it cannot read) passes: at upload its
//! config is still empty, and a file of another format is not its to read.

use super::PluginKind;
use super::bindings::latest as api;
use super::convert::{MessageContext, plugin_message};
use super::engine::{LoadedComponent, PluginEngine};
use super::error::{PluginError, PluginErrorKind, shorten};
use super::invoke::{Call, Outcome};
use super::limits::Limits;
use super::state::PluginScope;
use mailroom_core::ids::OrgId;
use serde::Serialize;
use std::sync::Arc;

/// The messages: (case name, raw message).
const MESSAGES: &[(&str, &[u8])] = &[
    (
        "plain text with a signature",
        include_bytes!("../golden/plain.eml"),
    ),
    (
        "HTML only, encoded words, quoted-printable",
        include_bytes!("../golden/html-only.eml"),
    ),
    (
        "multipart with a PDF and an invitation",
        include_bytes!("../golden/attachments.eml"),
    ),
    (
        "German reply in ISO-8859-1 with quotes",
        include_bytes!("../golden/reply.eml"),
    ),
    (
        "headers only, no sender",
        include_bytes!("../golden/empty.eml"),
    ),
];

/// The filter files: (case name, raw file).
const FILTER_FILES: &[(&str, &[u8])] = &[
    (
        "a Gmail filter export",
        include_bytes!("../golden/gmail-filters.xml"),
    ),
    (
        "a Sieve script",
        include_bytes!("../golden/sieve-filters.sieve"),
    ),
    (
        "a Zoho Mail filter export",
        include_bytes!("../golden/zoho-filters.json"),
    ),
];

/// How big the generated large message's body is: a long newsletter or a
/// pasted log, well inside the default input limit.
const LARGE_BODY_BYTES: usize = 256 << 10;

/// What one golden case gave.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct GoldenCase {
    /// The input, in words.
    pub case: String,
    /// The export called, e.g. `classify`.
    pub call: &'static str,
    /// `ok`, or `declined` when the plugin answered with the contract's own
    /// error (a workflow's error string, an importer's import error).
    pub outcome: GoldenOutcome,
    /// What it answered, shortened (for `declined`, its words).
    pub answer: String,
    /// Wall-clock time of the call, in milliseconds.
    pub elapsed_ms: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum GoldenOutcome {
    Ok,
    Declined,
}

/// A golden case the plugin failed: the upload is refused.
#[derive(Debug, thiserror::Error)]
#[error(
    "the plugin failed the upload check on the golden case \"{case}\" ({call}): {error}; \
     fix the plugin and upload it again (`mailroom plugin check` runs the same cases)"
)]
pub struct GoldenFailure {
    pub case: String,
    pub call: &'static str,
    /// Boxed: a failure is rare, and keeps every registry result small.
    pub error: Box<PluginError>,
}

/// Longest answer kept per case in the report.
const ANSWER_CHARS: usize = 300;

/// Runs every golden case of the component's kind, stopping at the first
/// failure.
pub async fn run(
    engine: &PluginEngine,
    component: &LoadedComponent,
    org: &OrgId,
    limits: Limits,
) -> Result<Vec<GoldenCase>, GoldenFailure> {
    let mut run = GoldenRun {
        engine,
        component,
        scope: Arc::new(PluginScope::isolated(org.clone(), "(upload check)")),
        limits,
        cases: Vec::new(),
    };
    match component.world.kind {
        PluginKind::Classifier => {
            for (case, message) in messages() {
                let outcome = run.call().classify(&message).await;
                run.record(case, "classify", outcome, |c| Ok(format!("{c:?}")))?;
            }
        }
        PluginKind::Workflow => {
            for (i, (case, message)) in messages().into_iter().enumerate() {
                let event = event(message, i);
                let outcome = run.call().on_event(&event).await;
                run.record(case, "on-event", outcome, |a| Ok(format!("{a:?}")))?;
            }
        }
        PluginKind::Provider => run.provider().await?,
        PluginKind::FilterImporter => run.filter_importer().await?,
    }
    Ok(run.cases)
}

struct GoldenRun<'a> {
    engine: &'a PluginEngine,
    component: &'a LoadedComponent,
    scope: Arc<PluginScope>,
    limits: Limits,
    cases: Vec<GoldenCase>,
}

impl GoldenRun<'_> {
    fn call(&self) -> Call<'_> {
        Call {
            engine: self.engine,
            component: self.component,
            scope: self.scope.clone(),
            limits: self.limits,
        }
    }

    /// Records a case, or fails it. `answer` gives the answer in words, or
    /// the plugin's own refusal (`Err`) as a declined case.
    fn record<T>(
        &mut self,
        case: impl Into<String>,
        call: &'static str,
        outcome: Outcome<T>,
        answer: impl FnOnce(T) -> Result<String, String>,
    ) -> Result<(), GoldenFailure> {
        let case = case.into();
        let value = match outcome.result {
            Ok(value) => value,
            Err(error) if refuses(&error) => {
                return Err(GoldenFailure {
                    case,
                    call,
                    error: Box::new(error),
                });
            }
            // The plugin's own error string, or the host's (too busy): not
            // the plugin's fault here.
            Err(error) => {
                self.push(
                    case,
                    call,
                    GoldenOutcome::Declined,
                    error.to_string(),
                    &outcome.report,
                );
                return Ok(());
            }
        };
        let (result, words) = match answer(value) {
            Ok(words) => (GoldenOutcome::Ok, words),
            Err(words) => (GoldenOutcome::Declined, words),
        };
        self.push(case, call, result, words, &outcome.report);
        Ok(())
    }

    fn push(
        &mut self,
        case: String,
        call: &'static str,
        outcome: GoldenOutcome,
        answer: String,
        report: &super::invoke::CallReport,
    ) {
        self.cases.push(GoldenCase {
            case,
            call,
            outcome,
            answer: shorten(&answer, ANSWER_CHARS),
            elapsed_ms: report.elapsed.as_secs_f64() * 1000.0,
        });
    }

    async fn provider(&mut self) -> Result<(), GoldenFailure> {
        let outcome = self.call().provider_info().await;
        self.record(
            "the provider's description",
            "provider-info",
            outcome,
            |i| Ok(format!("{} ({})", i.name, i.id)),
        )?;
        for (case, mailbox) in mailboxes() {
            let outcome = self.call().map_folder(&mailbox).await;
            self.record(case, "map-folder", outcome, |r| Ok(format!("{r:?}")))?;
        }
        for (case, message) in messages() {
            let outcome = self.call().normalize(&message).await;
            self.record(case, "normalize", outcome, |m| {
                Ok(format!("subject {:?}", m.subject))
            })?;
        }
        for (case, problem) in problems() {
            let outcome = self.call().diagnose(&problem).await;
            self.record(case, "diagnose", outcome, |d| {
                Ok(d.map_or_else(|| "no diagnosis".to_owned(), |d| d.summary))
            })?;
        }
        Ok(())
    }

    async fn filter_importer(&mut self) -> Result<(), GoldenFailure> {
        let outcome = self.call().filter_formats().await;
        let mut formats = Vec::new();
        self.record("the formats it reads", "filter-formats", outcome, |f| {
            formats = f.iter().map(|f| f.id.clone()).collect();
            Ok(formats.join(", "))
        })?;
        // Every file in every format it claims: a file of another format
        // must be an import error, not a crash.
        for format in &formats {
            for (case, data) in FILTER_FILES {
                let outcome = self.call().import_filters(format, data).await;
                self.record(
                    format!("{case} as {format}"),
                    "import-filters",
                    outcome,
                    |r| {
                        r.map(|rules| {
                            format!(
                                "{} rules, {} warnings",
                                rules.rules.len(),
                                rules.warnings.len()
                            )
                        })
                        .map_err(|e| format!("{e:?}"))
                    },
                )?;
            }
        }
        Ok(())
    }
}

/// The errors that refuse an upload: what would fail on real mail.
fn refuses(error: &PluginError) -> bool {
    matches!(
        error.kind(),
        PluginErrorKind::Trap
            | PluginErrorKind::DeadlineExceeded
            | PluginErrorKind::MemoryLimit
            | PluginErrorKind::OutputTooLarge
            | PluginErrorKind::InvalidOutput
    )
}

/// The golden messages as plugins see them, plus a large one.
fn messages() -> Vec<(String, api::types::Message)> {
    let mut large = b"From: Logs <logs@ops.example>\r\nTo: bob@contoso.example\r\nSubject: Nightly report\r\nMessage-ID: <golden-large@ops.example>\r\n\r\n".to_vec();
    while large.len() < LARGE_BODY_BYTES {
        large.extend_from_slice(
            b"2026-11-06T02:00:00Z job=backup status=ok bytes=1048576 took=12.5s\r\n",
        );
    }
    let large_case = format!("a {} KiB plain-text report", LARGE_BODY_BYTES >> 10);
    MESSAGES
        .iter()
        .map(|(case, raw)| ((*case).to_owned(), *raw))
        .chain(std::iter::once((large_case, large.as_slice())))
        .map(|(case, raw)| {
            let parsed = mailroom_core::mime::parse(raw);
            let ctx = MessageContext {
                id: format!("golden-{}", case.len()),
                account: "golden-account".into(),
                folder: Some("INBOX".into()),
                folder_role: Some(api::types::FolderRole::Inbox),
                ..MessageContext::default()
            };
            (case, plugin_message(&parsed, ctx))
        })
        .collect()
}

/// A workflow event for the `i`th golden message: incoming, then outgoing,
/// then a reply, each linked to a contact.
fn event(message: api::types::Message, i: usize) -> api::workflow::Event {
    let trigger = match i % 3 {
        0 => api::workflow::Trigger::Incoming,
        1 => api::workflow::Trigger::Outgoing,
        _ => api::workflow::Trigger::ReplyReceived,
    };
    let email = message
        .from
        .first()
        .map_or_else(|| "nobody@unknown.example".to_owned(), |a| a.email.clone());
    api::workflow::Event {
        trigger,
        message,
        classifications: Vec::new(),
        links: vec![api::workflow::CrmLink {
            kind: api::types::CrmRecordKind::Contact,
            id: "con_golden".into(),
            email,
            name: None,
        }],
    }
}

/// Mailbox listings as servers spell them.
fn mailboxes() -> Vec<(&'static str, api::types::Mailbox)> {
    let mailbox = |name: &str, delimiter: Option<&str>, attributes: &[&str]| api::types::Mailbox {
        name: name.to_owned(),
        delimiter: delimiter.map(str::to_owned),
        attributes: attributes.iter().map(|a| (*a).to_owned()).collect(),
    };
    vec![
        ("the inbox", mailbox("INBOX", Some("/"), &["\\HasChildren"])),
        (
            "Gmail's sent folder",
            mailbox(
                "[Gmail]/Sent Mail",
                Some("/"),
                &["\\Sent", "\\HasNoChildren"],
            ),
        ),
        (
            "a French sent folder (modified UTF-7)",
            mailbox("INBOX.&AMk-l&AOk-ments envoy&AOk-s", Some("."), &[]),
        ),
        (
            "a folder without a delimiter",
            mailbox("Archive 2025", None, &["\\NoInferiors"]),
        ),
    ]
}

/// Connection problems as the host reports them.
fn problems() -> Vec<(&'static str, api::provider::ConnectionProblem)> {
    use api::provider::{ConnectionProblem, ConnectionStep};
    let problem = |step, protocol: &str, message: &str| ConnectionProblem {
        step,
        protocol: protocol.to_owned(),
        server: "mail.example.com:993".to_owned(),
        message: message.to_owned(),
    };
    vec![
        (
            "a refused login",
            problem(
                ConnectionStep::Login,
                "imap",
                "[AUTHENTICATIONFAILED] Invalid credentials (Failure)",
            ),
        ),
        (
            "a certificate that does not match",
            problem(
                ConnectionStep::Tls,
                "imap",
                "invalid peer certificate: NotValidForName",
            ),
        ),
        (
            "an SMTP server that refuses AUTH",
            problem(
                ConnectionStep::SmtpAuth,
                "smtp",
                "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.",
            ),
        ),
    ]
}
