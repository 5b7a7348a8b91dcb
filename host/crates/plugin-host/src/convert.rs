//! Host data into contract values: a parsed message as plugins see it.

use super::bindings::latest::types as wit;
use mailroom_core::mime::{MailAddress, ParsedMessage};

/// Where a message sits and what the user did with it; not part of its content.
#[derive(Clone, Debug, Default)]
pub struct MessageContext {
    /// The host's identity of the message (content hash).
    pub id: String,
    pub outgoing: bool,
    pub account: String,
    pub folder: Option<String>,
    pub folder_role: Option<wit::FolderRole>,
    pub seen: bool,
    pub flagged: bool,
    pub answered: bool,
    pub labels: Vec<String>,
}

pub fn plugin_message(parsed: &ParsedMessage, ctx: MessageContext) -> wit::Message {
    let address = |a: &MailAddress| wit::Address {
        name: a.name.clone(),
        email: a.email.clone(),
    };
    let list = |v: &[MailAddress]| v.iter().map(address).collect::<Vec<_>>();
    wit::Message {
        id: ctx.id,
        message_id: parsed.message_id.clone(),
        in_reply_to: parsed.in_reply_to.clone(),
        references: parsed.references.clone(),
        direction: if ctx.outgoing {
            wit::Direction::Outgoing
        } else {
            wit::Direction::Incoming
        },
        account: ctx.account,
        folder: ctx.folder,
        folder_role: ctx.folder_role,
        from: list(&parsed.from),
        sender: parsed.sender.as_ref().map(address),
        to: list(&parsed.to),
        cc: list(&parsed.cc),
        bcc: list(&parsed.bcc),
        reply_to: list(&parsed.reply_to),
        subject: parsed.subject.clone(),
        date: parsed.date,
        headers: parsed
            .headers
            .iter()
            .map(|(name, value)| wit::Header {
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
        text_body: parsed.text_body.clone(),
        html_body: parsed.html_body.clone(),
        attachments: parsed
            .attachments
            .iter()
            .map(|a| wit::Attachment {
                filename: a.filename.clone(),
                content_type: a.content_type.clone(),
                size: a.size,
                content_id: a.content_id.clone(),
                inline: a.inline,
            })
            .collect(),
        size: parsed.size,
        flags: wit::MessageFlags {
            seen: ctx.seen,
            answered: ctx.answered,
            flagged: ctx.flagged,
            deleted: false,
            draft: false,
        },
        labels: ctx.labels,
    }
}
