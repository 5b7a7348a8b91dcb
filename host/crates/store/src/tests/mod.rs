//! Store tests. Every test body runs on SQLite and on PostgreSQL
//! (`both_backends!`), against real databases.

mod accounts;
mod crm_audit_pipeline;
mod crm_side;
mod mailbox_state;
mod messages;
mod oauth;
mod orgs_users;
mod outbox;
mod plugins;
mod rules;
mod sync_support;

use super::*;
use mailroom_core::ids::{OrgId, UserId};

/// An org with one admin, for tests that need a tenant.
pub(super) async fn org_with_admin(store: &Store, name: &str) -> (OrgId, UserId) {
    let (org, admin, _token) = store
        .create_org_with_admin(name, &format!("admin@{name}.example"), "Admin")
        .await
        .expect("create org");
    (org.id, admin.id)
}

/// A plain IMAP account owned by `owner`, with a password.
pub(super) async fn imap_account(
    store: &Store,
    org: &OrgId,
    owner: &UserId,
    email: &str,
) -> Account {
    store
        .create_account(org, &new_account(owner, email))
        .await
        .expect("create account")
}

pub(super) fn new_account(owner: &UserId, email: &str) -> NewAccount {
    NewAccount {
        owner: owner.clone(),
        protocol: Protocol::Imap,
        provider_id: Some("generic".into()),
        display_name: "Work".into(),
        email: email.into(),
        incoming: ServerSettings {
            host: "imap.example.com".into(),
            port: 993,
            security: Security::Tls,
        },
        outgoing: Some(ServerSettings {
            host: "smtp.example.com".into(),
            port: 465,
            security: Security::Tls,
        }),
        same_credentials_for_outgoing: true,
        auth_kind: AuthKind::Password,
        username: None,
        outgoing_username: None,
        credentials: Credentials {
            password: Some(Secret::new("hunter2-incoming")),
            ..Default::default()
        },
        tls_verify: true,
        from_addresses: Vec::new(),
        default_from: None,
        sharing: Sharing::Private,
        shared_with: Vec::new(),
        pop3_keep_on_server: true,
        store_sent: StoreSent::Auto,
    }
}

/// A minimal RFC 5322 message.
pub(super) fn mail(from: &str, to: &str, subject: &str, date: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\n\
         Message-ID: <{}@test>\r\n\r\n{body}\r\n",
        hex::encode(rand::random::<[u8; 6]>())
    )
    .into_bytes()
}
