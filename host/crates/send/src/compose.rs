//! Building a message to send from what a user asked for: the from-address
//! checked against the account's addresses (its email and from-addresses;
//! the default address when none is named), recipients parsed, a fresh
//! Message-ID, reply threading headers, a text body with an optional HTML
//! alternative, and simple attachments. `lettre` writes the MIME.
//!
//! Two byte strings come out: what goes over SMTP (no `Bcc:` header, or
//! every recipient would learn who was blind-copied) and the copy for the
//! Sent folder and the store, which keeps `Bcc:` so the sender still sees
//! whom they copied. They differ only in that header.

use super::error::{SendError, SendResult};
use base64::Engine as _;
use lettre::message::header::{self, ContentType};
use lettre::message::{Attachment as MimeAttachment, Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};
use mailroom_core::ids::{AccountId, UserId};
use mailroom_store::{Account, NewOutboxEntry};
use serde::Deserialize;
use std::str::FromStr;

/// Most recipients (to + cc + bcc) one message may have.
pub const MAX_RECIPIENTS: usize = 500;

/// What a user asks to send.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutgoingMessage {
    /// `address` or `Name <address>`: the account's email or one of its
    /// from-addresses. The account's default from-address when absent.
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
    /// Get the message without the other recipients seeing them.
    #[serde(default)]
    pub bcc: Vec<String>,
    #[serde(default)]
    pub reply_to: Option<String>,
    #[serde(default)]
    pub subject: String,
    /// The plain-text body.
    #[serde(default)]
    pub text: String,
    /// An HTML alternative to `text`.
    #[serde(default)]
    pub html: Option<String>,
    /// Message-ID of the message this answers, e.g. `<abc@example.com>`.
    #[serde(default)]
    pub in_reply_to: Option<String>,
    /// The thread's earlier Message-IDs; `in_reply_to` is added at the end.
    #[serde(default)]
    pub references: Vec<String>,
    #[serde(default)]
    pub attachments: Vec<OutgoingAttachment>,
}

/// A file attached to the message.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutgoingAttachment {
    pub filename: String,
    /// e.g. `application/pdf`; `application/octet-stream` when absent.
    #[serde(default)]
    pub content_type: Option<String>,
    /// The file's bytes in standard base64.
    pub content_base64: String,
}

/// A built message, ready for the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Composed {
    /// With angle brackets.
    pub message_id: String,
    pub subject: String,
    pub envelope_from: String,
    pub envelope_to: Vec<String>,
    /// Sent over SMTP.
    pub raw: Vec<u8>,
    /// The Sent copy, when it differs from `raw` (there were Bcc recipients).
    pub copy_raw: Option<Vec<u8>>,
}

impl Composed {
    /// The outbox entry that sends it from `account`.
    pub fn into_outbox_entry(
        self,
        account: AccountId,
        created_by: Option<UserId>,
    ) -> NewOutboxEntry {
        NewOutboxEntry {
            account,
            created_by,
            message_id: self.message_id,
            subject: self.subject,
            envelope_from: self.envelope_from,
            envelope_to: self.envelope_to,
            raw: self.raw,
            copy_raw: self.copy_raw,
        }
    }
}

fn invalid(message: impl Into<String>) -> SendError {
    SendError::Invalid(message.into())
}

/// `address` or `Name <address>`.
fn mailbox(text: &str, what: &str) -> SendResult<Mailbox> {
    Mailbox::from_str(text.trim())
        .map_err(|e| invalid(format!("{what} {text:?} is not an email address ({e})")))
}

/// The From mailbox: the requested one if the account may send as it, else
/// the default. The name comes from the request, else the from-address entry.
fn sender(account: &Account, requested: Option<&str>) -> SendResult<Mailbox> {
    let (address, name) = match requested.map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => {
            let m = mailbox(text, "from-address")?;
            let address = m.email.to_string().to_lowercase();
            if !account.may_send_as(&address) {
                let mut allowed = vec![account.email.clone()];
                allowed.extend(account.from_addresses.iter().map(|f| f.address.clone()));
                return Err(invalid(format!(
                    "{address} is not one of this account's addresses ({}); \
                     send from one of them, or add it to the account's from-addresses",
                    allowed.join(", ")
                )));
            }
            (address, m.name)
        }
        None => (account.default_from.clone(), None),
    };
    let name = name.or_else(|| {
        account
            .from_addresses
            .iter()
            .find(|f| f.address == address)
            .and_then(|f| f.name.clone())
    });
    let email = Address::from_str(&address).map_err(|e| {
        invalid(format!(
            "the account's address {address} is not valid ({e})"
        ))
    })?;
    Ok(Mailbox::new(name, email))
}

/// `<id>` with the brackets added when missing; refuses anything that could
/// break the header (spaces, controls, non-ASCII).
fn message_id_ref(text: &str, what: &str) -> SendResult<String> {
    let t = text.trim();
    let inner = t
        .strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(t);
    let ok = !inner.is_empty()
        && inner.len() <= 900
        && inner
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '<' && c != '>');
    if !ok {
        return Err(invalid(format!("{what} {text:?} is not a Message-ID")));
    }
    Ok(format!("<{inner}>"))
}

/// A fresh Message-ID in the sender's domain: the key by which the copy in
/// Sent is found again, so it must be unique.
fn new_message_id(from: &Address) -> String {
    let random: [u8; 16] = rand::random();
    format!("<{}@{}>", hex::encode(random), from.domain())
}

fn body(msg: &OutgoingMessage) -> SendResult<MultiPartOrSingle> {
    let text = SinglePart::plain(msg.text.clone());
    let main = match &msg.html {
        Some(html) => MultiPartOrSingle::Multi(
            MultiPart::alternative()
                .singlepart(text)
                .singlepart(SinglePart::html(html.clone())),
        ),
        None => MultiPartOrSingle::Single(text),
    };
    if msg.attachments.is_empty() {
        return Ok(main);
    }
    let mut mixed = match main {
        MultiPartOrSingle::Multi(m) => MultiPart::mixed().multipart(m),
        MultiPartOrSingle::Single(s) => MultiPart::mixed().singlepart(s),
    };
    for (i, a) in msg.attachments.iter().enumerate() {
        let filename = a.filename.trim();
        if filename.is_empty() || filename.len() > 255 || filename.chars().any(char::is_control) {
            return Err(invalid(format!(
                "attachments[{i}]: the file name must be 1 to 255 printable characters"
            )));
        }
        let content_type = a
            .content_type
            .as_deref()
            .unwrap_or("application/octet-stream");
        let content_type = ContentType::parse(content_type).map_err(|e| {
            invalid(format!(
                "attachments[{i}]: {content_type:?} is not a content type ({e})"
            ))
        })?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(a.content_base64.trim())
            .map_err(|e| {
                invalid(format!(
                    "attachments[{i}]: content_base64 is not base64 ({e})"
                ))
            })?;
        mixed =
            mixed.singlepart(MimeAttachment::new(filename.to_owned()).body(bytes, content_type));
    }
    Ok(MultiPartOrSingle::Multi(mixed))
}

enum MultiPartOrSingle {
    Multi(MultiPart),
    Single(SinglePart),
}

/// Builds `msg` as sent from `account`. Fails with [`SendError::Invalid`]
/// on anything the user must correct.
pub fn compose(account: &Account, msg: &OutgoingMessage) -> SendResult<Composed> {
    let from = sender(account, msg.from.as_deref())?;
    let total = msg.to.len() + msg.cc.len() + msg.bcc.len();
    if total == 0 {
        return Err(invalid("give at least one recipient in to, cc or bcc"));
    }
    if total > MAX_RECIPIENTS {
        return Err(invalid(format!(
            "{total} recipients: at most {MAX_RECIPIENTS} per message"
        )));
    }
    let subject = msg.subject.trim().to_owned();
    if subject.len() > 998 || subject.chars().any(char::is_control) {
        return Err(invalid(
            "the subject must be at most 998 bytes without line breaks or control characters",
        ));
    }
    let message_id = new_message_id(&from.email);
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(subject.clone())
        .message_id(Some(message_id.clone()))
        .date_now()
        // Keep Bcc in what is built: it is the Sent copy; it comes out
        // of the SMTP bytes below.
        .keep_bcc();
    for (field, list) in [("to", &msg.to), ("cc", &msg.cc), ("bcc", &msg.bcc)] {
        for (i, text) in list.iter().enumerate() {
            let m = mailbox(text, &format!("{field}[{i}]"))?;
            builder = match field {
                "to" => builder.to(m),
                "cc" => builder.cc(m),
                _ => builder.bcc(m),
            };
        }
    }
    if let Some(reply_to) = msg.reply_to.as_deref().filter(|s| !s.trim().is_empty()) {
        builder = builder.reply_to(mailbox(reply_to, "reply_to")?);
    }
    let mut references = msg
        .references
        .iter()
        .map(|r| message_id_ref(r, "references entry"))
        .collect::<SendResult<Vec<_>>>()?;
    if let Some(parent) = msg.in_reply_to.as_deref() {
        let parent = message_id_ref(parent, "in_reply_to")?;
        builder = builder.in_reply_to(parent.clone());
        if !references.contains(&parent) {
            references.push(parent);
        }
    }
    if !references.is_empty() {
        builder = builder.references(references.join(" "));
    }
    let built = match body(msg)? {
        MultiPartOrSingle::Multi(m) => builder.multipart(m),
        MultiPartOrSingle::Single(s) => builder.singlepart(s),
    };
    let mut message = built.map_err(|e| invalid(format!("the message cannot be built: {e}")))?;
    let envelope_from = message
        .envelope()
        .from()
        .map(ToString::to_string)
        .unwrap_or_else(|| from.email.to_string());
    let envelope_to: Vec<String> = message
        .envelope()
        .to()
        .iter()
        .map(ToString::to_string)
        .collect();
    let copy = message.formatted();
    let (raw, copy_raw) = if msg.bcc.is_empty() {
        (copy, None)
    } else {
        message.headers_mut().remove::<header::Bcc>();
        (message.formatted(), Some(copy))
    };
    Ok(Composed {
        message_id,
        subject,
        envelope_from,
        envelope_to,
        raw,
        copy_raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_core::ids::OrgId;
    use mailroom_store::{
        AccountStatus, AuthKind, FilterImport, FromAddress, Protocol, Security, ServerSettings,
        Sharing, StoreSent,
    };

    fn account() -> Account {
        let server = ServerSettings {
            host: "mail.example.com".into(),
            port: 993,
            security: Security::Tls,
        };
        Account {
            id: AccountId("acc_1".into()),
            org: OrgId("org_1".into()),
            owner: UserId("usr_1".into()),
            protocol: Protocol::Imap,
            provider_id: None,
            display_name: "Work".into(),
            email: "ann@example.com".into(),
            incoming: server.clone(),
            outgoing: Some(server),
            same_credentials_for_outgoing: true,
            auth_kind: AuthKind::Password,
            username: "ann".into(),
            outgoing_username: None,
            has_password: true,
            has_outgoing_password: false,
            has_oauth_refresh_token: false,
            oauth_access_expires_at: None,
            tls_verify: true,
            from_addresses: vec![FromAddress {
                address: "sales@example.com".into(),
                name: Some("Acme Sales".into()),
            }],
            default_from: "sales@example.com".into(),
            sharing: Sharing::Private,
            shared_with: Vec::new(),
            locked_by_admin: false,
            pop3_keep_on_server: true,
            store_sent: StoreSent::Auto,
            store_sent_learned: None,
            folder_overrides: Default::default(),
            status: AccountStatus::Ok,
            last_error: None,
            last_sync_at: None,
            sync_lease: None,
            warnings: Vec::new(),
            deactivated_at: None,
            backed_up_at: None,
            filter_import: FilterImport::Skipped,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn text(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    #[test]
    fn bcc_stays_in_the_copy_and_out_of_the_smtp_bytes() {
        let msg = OutgoingMessage {
            to: vec!["Bob <bob@customer.example>".into()],
            bcc: vec!["boss@example.com".into()],
            subject: "Offer".into(),
            text: "Hello".into(),
            in_reply_to: Some("parent@customer.example".into()),
            ..Default::default()
        };
        let c = compose(&account(), &msg).expect("compose");
        let raw = text(&c.raw);
        let copy = text(c.copy_raw.as_deref().expect("a separate copy"));
        assert!(!raw.contains("boss@example.com"), "{raw}");
        assert!(copy.contains("Bcc: boss@example.com"), "{copy}");
        assert!(
            raw.contains("From: \"Acme Sales\" <sales@example.com>"),
            "default from: {raw}"
        );
        assert!(
            raw.contains(&format!("Message-ID: {}", c.message_id)),
            "{raw}"
        );
        assert!(c.message_id.ends_with("@example.com>"));
        assert!(
            raw.contains("In-Reply-To: <parent@customer.example>"),
            "{raw}"
        );
        assert!(
            raw.contains("References: <parent@customer.example>"),
            "{raw}"
        );
        assert_eq!(c.envelope_from, "sales@example.com");
        assert_eq!(c.envelope_to.len(), 2, "bcc is an envelope recipient");
    }

    #[test]
    fn only_the_accounts_addresses_may_be_the_sender() {
        let mut msg = OutgoingMessage {
            from: Some("Ann <ANN@example.com>".into()),
            to: vec!["bob@customer.example".into()],
            text: "Hi".into(),
            ..Default::default()
        };
        let c = compose(&account(), &msg).expect("own email");
        assert!(text(&c.raw).contains("From: Ann <ann@example.com>"));
        msg.from = Some("ceo@elsewhere.example".into());
        let err = compose(&account(), &msg).expect_err("foreign from");
        assert!(
            matches!(err, SendError::Invalid(ref m) if m.contains("ceo@elsewhere.example")),
            "{err}"
        );
        msg.from = None;
        msg.to = vec!["not an address".into()];
        assert!(matches!(
            compose(&account(), &msg),
            Err(SendError::Invalid(_))
        ));
        msg.to.clear();
        assert!(matches!(
            compose(&account(), &msg),
            Err(SendError::Invalid(_))
        ));
    }

    #[test]
    fn html_and_attachments_make_a_mixed_message() {
        let msg = OutgoingMessage {
            to: vec!["bob@customer.example".into()],
            subject: "Quote".into(),
            text: "See attached".into(),
            html: Some("<p>See attached</p>".into()),
            attachments: vec![OutgoingAttachment {
                filename: "quote.txt".into(),
                content_type: Some("text/plain".into()),
                content_base64: base64::engine::general_purpose::STANDARD.encode("40 seats"),
            }],
            ..Default::default()
        };
        let c = compose(&account(), &msg).expect("compose");
        let raw = text(&c.raw);
        assert!(c.copy_raw.is_none());
        assert!(raw.contains("multipart/mixed"), "{raw}");
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(raw.contains("quote.txt"), "{raw}");
        let parsed = mail_parser::MessageParser::default()
            .parse(&c.raw)
            .expect("parses");
        assert_eq!(parsed.attachment_count(), 1);
    }
}
