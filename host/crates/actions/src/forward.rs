//! The `forward` executor: the message, attached whole (`message/rfc822`,
//! so nothing of it is lost or re-encoded), sent from the account it came
//! through to an address the org's automation policy allows. The forward
//! is built like any message sent through Mailroom and its outbox entry
//! commits with the action's `done`, so the outbox sends it exactly as it
//! sends the rest (retries, Sent copy) and a crash never forwards twice.

use super::ExecuteError;
use base64::Engine as _;
use mailroom_core::email::normalize_email;
use mailroom_send::SendError;
use mailroom_send::compose::{OutgoingAttachment, OutgoingMessage, compose};
use mailroom_store::{ActionEffect, ClaimedAction, Store, StoreError};

/// The largest message a rule or workflow may forward.
pub const MAX_FORWARD_BYTES: usize = 25 * 1024 * 1024;

/// Carries out one `forward` action to `to`.
pub async fn forward(
    store: &Store,
    claim: &ClaimedAction,
    to: &str,
) -> Result<(ActionEffect, String), ExecuteError> {
    let target = normalize_email(to).map_err(|_| {
        ExecuteError::Refused(format!(
            "{} is not an email address",
            mailroom_core::text::loggable(to)
        ))
    })?;
    store
        .automation_policy(&claim.org)
        .await?
        .check_forward(&target)
        .map_err(|e| ExecuteError::Refused(e.to_string()))?;
    let account_id = claim
        .context
        .account
        .clone()
        .ok_or_else(|| ExecuteError::Refused("the message's account is not known".into()))?;
    let account = match store.get_account(&claim.org, &account_id).await {
        Ok(a) => a,
        Err(StoreError::NotFound(_)) => {
            return Err(ExecuteError::Refused(format!(
                "account {account_id} no longer exists"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    if account.deactivated_at.is_some() {
        return Err(ExecuteError::Refused(format!(
            "{}'s integration is deactivated: it sends nothing",
            account.email
        )));
    }
    if account.outgoing.is_none() {
        return Err(ExecuteError::Refused(format!(
            "{} has no outgoing (SMTP) server to forward through",
            account.email
        )));
    }
    let raw = store.get_raw_message(&claim.org, &claim.message).await?;
    if raw.len() > MAX_FORWARD_BYTES {
        return Err(ExecuteError::Refused(format!(
            "the message is {} bytes; at most {MAX_FORWARD_BYTES} are forwarded",
            raw.len()
        )));
    }
    let summary = store.get_message(&claim.org, &claim.message).await?.summary;
    let subject = summary.subject.clone().unwrap_or_default();
    let outgoing = OutgoingMessage {
        to: vec![target.clone()],
        subject: forward_subject(&subject),
        text: format!(
            "Forwarded by Mailroom ({}).\n\n---------- Forwarded message ----------\n\
             From: {}\nSubject: {}\n\nThe message is attached whole.\n",
            claim.source,
            summary.from_address.as_deref().unwrap_or("(unknown)"),
            subject,
        ),
        attachments: vec![OutgoingAttachment {
            filename: "forwarded-message.eml".into(),
            content_type: Some("message/rfc822".into()),
            content_base64: base64::engine::general_purpose::STANDARD.encode(&raw),
        }],
        ..OutgoingMessage::default()
    };
    let composed = compose(&account, &outgoing).map_err(|e| match e {
        SendError::Invalid(why) => ExecuteError::Refused(why),
        other => ExecuteError::Transient(other.to_string()),
    })?;
    let detail = format!("queued to {target} from {}", account.email);
    Ok((
        ActionEffect::Outbox(composed.into_outbox_entry(account.id, None)),
        detail,
    ))
}

/// `Fwd: <subject>`, without stacking prefixes; control characters (which
/// the composer refuses) become spaces.
fn forward_subject(subject: &str) -> String {
    let clean: String = subject
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.trim();
    let lower = clean.to_lowercase();
    let prefixed = if lower.starts_with("fwd:") || lower.starts_with("fw:") {
        clean.to_owned()
    } else {
        format!("Fwd: {clean}").trim_end().to_owned()
    };
    prefixed.chars().take(900).collect()
}

#[cfg(test)]
mod tests {
    use super::forward_subject;

    #[test]
    fn the_subject_is_prefixed_once_and_kept_on_one_line() {
        assert_eq!(forward_subject("Offer"), "Fwd: Offer");
        assert_eq!(forward_subject("FW: Offer"), "FW: Offer");
        assert_eq!(forward_subject("a\r\nb"), "Fwd: a  b");
        assert_eq!(forward_subject(""), "Fwd:");
    }
}
