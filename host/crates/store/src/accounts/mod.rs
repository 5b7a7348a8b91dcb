//! Mail accounts: the connected mailboxes of an org. This file holds the
//! types and their validation; `repo` the CRUD, `credentials` the sealed
//! secrets, `sync_state` status, sync and push leases and learned settings,
//! `deactivation` turning the integration off (retaining or deleting mail).
//!
//! [`Account`] never carries a secret (only whether one is set), so it can
//! be serialised into API responses as is.

mod credentials;
mod deactivation;
mod repo;
mod sync_state;

pub use credentials::{AccountSecrets, Credentials};
pub use deactivation::{DeactivationMode, DeactivationReport};
pub(crate) use repo::visible_to_sql;
pub(crate) use sync_state::LeaseScope;
pub use sync_state::{AccountLease, SyncLease, SyncStop};

use super::db::{from_json, get_bool, get_opt_bool};
use super::users::normalize_email;
use super::{StoreError, StoreResult};
use mailroom_core::ids::{AccountId, OrgId, UserId};
/// In mailroom-core so the protocol clients share it without the store.
pub use mailroom_core::security::Security;
use serde::{Deserialize, Deserializer, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::BTreeMap;

/// Text enums stored as their snake_case name.
macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        // Says for the OpenAPI document what the per-variant renames say
        // for serde (utoipa documented the variant names, `Imap`, without it).
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }
    };
}

text_enum!(Protocol { Imap = "imap", Pop3 = "pop3" });
text_enum!(AuthKind { Password = "password", AppPassword = "app_password", Oauth2 = "oauth2" });
text_enum!(
    /// Who in the org sees the account's mail: its owner, everyone, or listed users.
    Sharing { Private = "private", Public = "public", Custom = "custom" }
);
text_enum!(
    /// Whether to APPEND a copy of sent mail to the Sent folder; `Auto` learns
    /// it after the first send (see [`Account::store_sent_learned`]).
    StoreSent { Auto = "auto", Yes = "yes", No = "no" }
);
text_enum!(AccountStatus { New = "new", Ok = "ok", Syncing = "syncing", Error = "error", Disabled = "disabled" });
text_enum!(
    /// Whether the filters the mailbox had in its old system were brought
    /// over: `pending` for a new account until a filter file is imported
    /// for it or the import is skipped.
    FilterImport { Pending = "pending", Imported = "imported", Skipped = "skipped" }
);

// Not derivable: the enum is declared by `text_enum!`.
#[allow(clippy::derivable_impls)]
impl Default for Sharing {
    fn default() -> Self {
        Sharing::Private
    }
}

#[allow(clippy::derivable_impls)]
impl Default for StoreSent {
    fn default() -> Self {
        StoreSent::Auto
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
}

/// An address the account may send as (besides its own `email`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FromAddress {
    pub address: String,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Account {
    pub id: AccountId,
    pub org: OrgId,
    pub owner: UserId,
    pub protocol: Protocol,
    pub provider_id: Option<String>,
    pub display_name: String,
    pub email: String,
    pub incoming: ServerSettings,
    pub outgoing: Option<ServerSettings>,
    pub same_credentials_for_outgoing: bool,
    pub auth_kind: AuthKind,
    pub username: String,
    pub outgoing_username: Option<String>,
    pub has_password: bool,
    pub has_outgoing_password: bool,
    pub has_oauth_refresh_token: bool,
    pub oauth_access_expires_at: Option<i64>,
    /// Certificates are verified unless the account explicitly opted out.
    pub tls_verify: bool,
    pub from_addresses: Vec<FromAddress>,
    /// The address used when a send names none; `email` unless set.
    pub default_from: String,
    pub sharing: Sharing,
    pub shared_with: Vec<UserId>,
    pub locked_by_admin: bool,
    pub pop3_keep_on_server: bool,
    pub store_sent: StoreSent,
    /// What `StoreSent::Auto` learned: does the provider file sent mail itself?
    pub store_sent_learned: Option<bool>,
    /// Manual folder mapping: server folder name → SalesInbox role.
    pub folder_overrides: BTreeMap<String, String>,
    pub status: AccountStatus,
    pub last_error: Option<String>,
    pub last_sync_at: Option<i64>,
    /// The sync lease a node holds on the account now, if any: while
    /// another node's lease holds, a sync asked for here waits for it to
    /// end or lapse (a lease that is not renewed lapses within a minute).
    pub sync_lease: Option<SyncLease>,
    /// What about the account's settings an admin should know, e.g. a
    /// login sent in plain text to a host that is not this machine (which
    /// the org's destination policy allows by name).
    pub warnings: Vec<String>,
    /// When the account's integration was deactivated (it keeps its mail,
    /// folders, rules and labels, and is not synced); `None` while active.
    pub deactivated_at: Option<i64>,
    /// When an admin backed the account's mail up into the org archive: it
    /// stays visible under the account's sharing after the owner leaves.
    pub backed_up_at: Option<i64>,
    /// Whether its filters were imported (`POST /v1/rules/import?account=…`
    /// then apply) or the import was skipped
    /// (`POST /v1/accounts/{id}/filter-import/skip`); `pending` until then.
    pub filter_import: FilterImport,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The account's warnings, from its servers: a server with `security:
/// none` that is not this machine gets the login in plain text.
pub fn warnings(incoming: &ServerSettings, outgoing: Option<&ServerSettings>) -> Vec<String> {
    [("incoming", Some(incoming)), ("outgoing", outgoing)]
        .into_iter()
        .filter_map(|(which, server)| {
            let server = server?;
            (server.security == Security::None
                && !mailroom_core::destinations::is_this_machine(&server.host))
            .then(|| {
                format!(
                    "the {which} server {}:{} gets the login and the mail in plain text \
                     (`security: none`, allowed by the org's `plain_text_hosts`): anyone on \
                     the network path can read them; use TLS or STARTTLS when the server offers it",
                    server.host, server.port
                )
            })
        })
        .collect()
}

impl Account {
    /// Whether `address` is one this account may send as.
    pub fn may_send_as(&self, address: &str) -> bool {
        let address = address.trim().to_lowercase();
        address == self.email || self.from_addresses.iter().any(|f| f.address == address)
    }
}

/// A mailbox to connect, as the API (after filling servers from a provider
/// preset) or the CLI built it; checked by `create_account`.
#[derive(Clone, Debug)]
pub struct NewAccount {
    pub owner: UserId,
    pub protocol: Protocol,
    pub provider_id: Option<String>,
    pub display_name: String,
    pub email: String,
    pub incoming: ServerSettings,
    pub outgoing: Option<ServerSettings>,
    pub same_credentials_for_outgoing: bool,
    pub auth_kind: AuthKind,
    /// Login name; the email address when absent.
    pub username: Option<String>,
    pub outgoing_username: Option<String>,
    pub credentials: Credentials,
    pub tls_verify: bool,
    pub from_addresses: Vec<FromAddress>,
    pub default_from: Option<String>,
    pub sharing: Sharing,
    pub shared_with: Vec<UserId>,
    pub pop3_keep_on_server: bool,
    pub store_sent: StoreSent,
}

/// `Some(None)` for an explicit JSON `null`, `None` for an absent field.
fn some<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A partial update of the connection settings: `None` keeps a field;
/// `Some(None)` clears an optional one. Sharing, lock, from-addresses and
/// credentials have their own methods.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountUpdate {
    pub owner: Option<UserId>,
    #[serde(default, deserialize_with = "some")]
    pub provider_id: Option<Option<String>>,
    pub display_name: Option<String>,
    pub incoming: Option<ServerSettings>,
    #[serde(default, deserialize_with = "some")]
    pub outgoing: Option<Option<ServerSettings>>,
    pub same_credentials_for_outgoing: Option<bool>,
    pub auth_kind: Option<AuthKind>,
    pub username: Option<String>,
    #[serde(default, deserialize_with = "some")]
    pub outgoing_username: Option<Option<String>>,
    pub tls_verify: Option<bool>,
    pub pop3_keep_on_server: Option<bool>,
    pub store_sent: Option<StoreSent>,
}

pub(crate) fn check_server(s: &ServerSettings, which: &str) -> StoreResult<ServerSettings> {
    let host = s.host.trim();
    let bad = host.is_empty()
        || host.len() > 253
        || host
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '/');
    if bad {
        return Err(StoreError::Invalid(format!(
            "{which} server host {host:?} is not a host name"
        )));
    }
    if s.port == 0 {
        return Err(StoreError::Invalid(format!(
            "{which} server port must not be 0"
        )));
    }
    Ok(ServerSettings {
        host: host.to_owned(),
        port: s.port,
        security: s.security,
    })
}

pub(crate) fn check_text(value: &str, what: &str, max: usize) -> StoreResult<String> {
    let value = value.trim();
    if value.len() > max || value.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!(
            "{what} must be at most {max} printable characters"
        )));
    }
    Ok(value.to_owned())
}

/// Normalises the extra from-addresses and picks the default: it must be the
/// account's email or one of the extras.
pub(crate) fn check_from(
    email: &str,
    extras: &[FromAddress],
    default: Option<&str>,
) -> StoreResult<(Vec<FromAddress>, String)> {
    let mut out: Vec<FromAddress> = Vec::with_capacity(extras.len());
    for f in extras {
        let address = normalize_email(&f.address)?;
        let name = f
            .name
            .as_deref()
            .map(|n| check_text(n, "from name", 200))
            .transpose()?;
        if address != email && !out.iter().any(|o| o.address == address) {
            out.push(FromAddress { address, name });
        }
    }
    let default = match default {
        None => email.to_owned(),
        Some(d) => {
            let d = normalize_email(d)?;
            if d != email && !out.iter().any(|o| o.address == d) {
                return Err(StoreError::Invalid(format!(
                    "default from-address {d} is neither the account email nor one of its from-addresses"
                )));
            }
            d
        }
    };
    Ok((out, default))
}

fn parse_enum<T>(row: &AnyRow, col: &str, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
    let text: String = row.try_get(col)?;
    parse(&text).ok_or_else(|| StoreError::Invalid(format!("stored {col} {text:?} is unknown")))
}

fn port(row: &AnyRow, col: &str) -> StoreResult<Option<u16>> {
    let v: Option<i64> = row.try_get(col)?;
    v.map(|p| u16::try_from(p).map_err(|_| StoreError::Invalid(format!("stored {col} {p}"))))
        .transpose()
}

pub(crate) const ACCOUNT_COLUMNS: &str = "id, org_id, owner_id, protocol, provider_id, display_name, email, \
    incoming_host, incoming_port, incoming_security, outgoing_host, outgoing_port, outgoing_security, \
    same_credentials_for_outgoing, auth_kind, username, outgoing_username, \
    incoming_secret IS NOT NULL AS has_password, outgoing_secret IS NOT NULL AS has_outgoing_password, \
    oauth_refresh_token IS NOT NULL AS has_oauth_refresh_token, oauth_access_expires_at, tls_verify, \
    from_addresses, default_from, sharing, locked_by_admin, pop3_keep_on_server, store_sent, \
    store_sent_learned, folder_overrides, status, last_error, last_sync_at, lease_owner, lease_expires_at, \
    deactivated_at, backed_up_at, filter_import, created_at, updated_at";

/// Maps a row selected with [`ACCOUNT_COLUMNS`]; `shared_with` is filled by the caller.
pub(crate) fn account_from_row(row: &AnyRow) -> StoreResult<Account> {
    let outgoing = match (
        row.try_get::<Option<String>, _>("outgoing_host")?,
        port(row, "outgoing_port")?,
        row.try_get::<Option<String>, _>("outgoing_security")?,
    ) {
        (Some(host), Some(port), Some(sec)) => Some(ServerSettings {
            host,
            port,
            security: Security::parse(&sec)
                .ok_or_else(|| StoreError::Invalid(format!("stored security {sec:?}")))?,
        }),
        _ => None,
    };
    let email: String = row.try_get("email")?;
    let incoming = ServerSettings {
        host: row.try_get("incoming_host")?,
        port: port(row, "incoming_port")?.unwrap_or(0),
        security: parse_enum(row, "incoming_security", Security::parse)?,
    };
    Ok(Account {
        warnings: warnings(&incoming, outgoing.as_ref()),
        id: AccountId(row.try_get("id")?),
        org: OrgId(row.try_get("org_id")?),
        owner: UserId(row.try_get("owner_id")?),
        protocol: parse_enum(row, "protocol", Protocol::parse)?,
        provider_id: row.try_get("provider_id")?,
        display_name: row.try_get("display_name")?,
        incoming,
        outgoing,
        same_credentials_for_outgoing: get_bool(row, "same_credentials_for_outgoing")?,
        auth_kind: parse_enum(row, "auth_kind", AuthKind::parse)?,
        username: row.try_get("username")?,
        outgoing_username: row.try_get("outgoing_username")?,
        has_password: get_bool(row, "has_password")?,
        has_outgoing_password: get_bool(row, "has_outgoing_password")?,
        has_oauth_refresh_token: get_bool(row, "has_oauth_refresh_token")?,
        oauth_access_expires_at: row.try_get("oauth_access_expires_at")?,
        tls_verify: get_bool(row, "tls_verify")?,
        from_addresses: from_json(&row.try_get::<String, _>("from_addresses")?)?,
        default_from: row
            .try_get::<Option<String>, _>("default_from")?
            .unwrap_or_else(|| email.clone()),
        email,
        sharing: parse_enum(row, "sharing", Sharing::parse)?,
        shared_with: Vec::new(),
        locked_by_admin: get_bool(row, "locked_by_admin")?,
        pop3_keep_on_server: get_bool(row, "pop3_keep_on_server")?,
        store_sent: parse_enum(row, "store_sent", StoreSent::parse)?,
        store_sent_learned: get_opt_bool(row, "store_sent_learned")?,
        folder_overrides: from_json(&row.try_get::<String, _>("folder_overrides")?)?,
        status: parse_enum(row, "status", AccountStatus::parse)?,
        last_error: row.try_get("last_error")?,
        last_sync_at: row.try_get("last_sync_at")?,
        sync_lease: match (
            row.try_get::<Option<String>, _>("lease_owner")?,
            row.try_get::<Option<i64>, _>("lease_expires_at")?,
        ) {
            (Some(node), Some(until)) if until >= mailroom_core::clock::now_ms() => {
                Some(SyncLease { node, until })
            }
            _ => None,
        },
        deactivated_at: row.try_get("deactivated_at")?,
        backed_up_at: row.try_get("backed_up_at")?,
        filter_import: parse_enum(row, "filter_import", FilterImport::parse)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}
