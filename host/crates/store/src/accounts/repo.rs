//! Creating, reading, updating and deleting mail accounts, and the settings
//! an admin or owner changes on their own: sharing, lock, from-addresses,
//! manual folder mapping.

use super::super::db::to_json;
use super::super::users::normalize_email;
use super::super::{Store, StoreError, StoreResult};
use super::{
    ACCOUNT_COLUMNS, Account, AccountUpdate, FromAddress, NewAccount, Sharing, account_from_row,
    check_from, check_server, check_text,
};
use mailroom_core::clock::now_ms;
use mailroom_core::ids::{AccountId, OrgId, UserId};
use sqlx::any::Any;
use sqlx::{AssertSqlSafe, Row, Transaction};
use std::collections::{BTreeMap, HashMap};

/// SQL condition (on `mail_accounts a`) for "user `$N` may see this account".
pub(crate) fn visible_to_sql(user_param: usize) -> String {
    format!(
        "(a.owner_id = ${user_param} OR a.sharing = 'public' OR (a.sharing = 'custom' AND EXISTS \
         (SELECT 1 FROM account_shares s WHERE s.account_id = a.id AND s.user_id = ${user_param})))"
    )
}

impl Store {
    /// Checks that every user exists in the org (an id of another org is
    /// reported as unknown, like a made-up one).
    async fn check_users(&self, org: &OrgId, users: &[UserId]) -> StoreResult<()> {
        for u in users {
            if let Err(StoreError::NotFound(_)) = self.get_user(org, u).await {
                return Err(StoreError::Invalid(format!("unknown user {u}")));
            }
        }
        Ok(())
    }

    pub async fn create_account(&self, org: &OrgId, new: &NewAccount) -> StoreResult<Account> {
        let email = normalize_email(&new.email)?;
        let incoming = check_server(&new.incoming, "incoming")?;
        let outgoing = new
            .outgoing
            .as_ref()
            .map(|s| check_server(s, "outgoing"))
            .transpose()?;
        let display_name = check_text(&new.display_name, "display name", 200)?;
        let username = match &new.username {
            Some(u) if !u.trim().is_empty() => check_text(u, "username", 320)?,
            _ => email.clone(),
        };
        let outgoing_username = new
            .outgoing_username
            .as_deref()
            .map(|u| check_text(u, "outgoing username", 320))
            .transpose()?;
        let provider_id = new
            .provider_id
            .as_deref()
            .map(|p| check_text(p, "provider id", 100))
            .transpose()?;
        let (from_addresses, default_from) =
            check_from(&email, &new.from_addresses, new.default_from.as_deref())?;
        self.check_users(org, std::slice::from_ref(&new.owner))
            .await?;
        let shared_with = shares_for(new.sharing, &new.shared_with);
        self.check_users(org, &shared_with).await?;

        let id = AccountId::generate();
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO mail_accounts (id, org_id, owner_id, protocol, provider_id, display_name, email, \
             incoming_host, incoming_port, incoming_security, outgoing_host, outgoing_port, outgoing_security, \
             same_credentials_for_outgoing, auth_kind, username, outgoing_username, incoming_secret, \
             outgoing_secret, oauth_refresh_token, tls_verify, from_addresses, default_from, sharing, \
             pop3_keep_on_server, store_sent, filter_import, created_at, updated_at) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, \
             $21, $22, $23, $24, $25, $26, 'pending', $27, $27)",
        )
        .bind(id.as_str())
        .bind(org.as_str())
        .bind(new.owner.as_str())
        .bind(new.protocol.as_str())
        .bind(provider_id)
        .bind(display_name)
        .bind(&email)
        .bind(incoming.host)
        .bind(i64::from(incoming.port))
        .bind(incoming.security.as_str())
        .bind(outgoing.as_ref().map(|o| o.host.clone()))
        .bind(outgoing.as_ref().map(|o| i64::from(o.port)))
        .bind(outgoing.as_ref().map(|o| o.security.as_str()))
        .bind(new.same_credentials_for_outgoing)
        .bind(new.auth_kind.as_str())
        .bind(username)
        .bind(outgoing_username)
        .bind(self.seal_opt(&id, "incoming_secret", new.credentials.password.as_ref())?)
        .bind(self.seal_opt(&id, "outgoing_secret", new.credentials.outgoing_password.as_ref())?)
        .bind(self.seal_opt(&id, "oauth_refresh_token", new.credentials.oauth_refresh_token.as_ref())?)
        .bind(new.tls_verify)
        .bind(to_json(&from_addresses)?)
        .bind(default_from)
        .bind(new.sharing.as_str())
        .bind(new.pop3_keep_on_server)
        .bind(new.store_sent.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        replace_shares(&mut tx, &id, &shared_with).await?;
        tx.commit().await?;
        self.get_account(org, &id).await
    }

    pub async fn get_account(&self, org: &OrgId, id: &AccountId) -> StoreResult<Account> {
        let sql =
            format!("SELECT {ACCOUNT_COLUMNS} FROM mail_accounts WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound("account"))?;
        let mut account = account_from_row(&row)?;
        account.shared_with = sqlx::query_scalar(
            "SELECT user_id FROM account_shares WHERE account_id = $1 ORDER BY user_id",
        )
        .bind(id.as_str())
        .fetch_all(self.pool())
        .await?
        .into_iter()
        .map(UserId)
        .collect();
        Ok(account)
    }

    /// Every account of the org (admin view), by email.
    pub async fn list_accounts(&self, org: &OrgId) -> StoreResult<Vec<Account>> {
        self.list_accounts_where(org, None).await
    }

    /// The accounts `user` owns or that are shared with them (public, or
    /// custom sharing that lists them).
    pub async fn list_accounts_visible_to(
        &self,
        org: &OrgId,
        user: &UserId,
    ) -> StoreResult<Vec<Account>> {
        self.list_accounts_where(org, Some(user)).await
    }

    /// Whether `user` may see the account's mail (see [`Store::list_accounts_visible_to`]).
    pub async fn account_visible_to(
        &self,
        org: &OrgId,
        id: &AccountId,
        user: &UserId,
    ) -> StoreResult<bool> {
        let sql = format!(
            "SELECT COUNT(*) FROM mail_accounts a WHERE a.org_id = $1 AND a.id = $2 AND {}",
            visible_to_sql(3)
        );
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(id.as_str())
            .bind(user.as_str())
            .fetch_one(self.pool())
            .await?;
        Ok(n > 0)
    }

    async fn list_accounts_where(
        &self,
        org: &OrgId,
        user: Option<&UserId>,
    ) -> StoreResult<Vec<Account>> {
        let mut sql = format!("SELECT {ACCOUNT_COLUMNS} FROM mail_accounts a WHERE a.org_id = $1");
        if user.is_some() {
            sql.push_str(" AND ");
            sql.push_str(&visible_to_sql(2));
        }
        sql.push_str(" ORDER BY a.email, a.id");
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(org.as_str());
        if let Some(u) = user {
            q = q.bind(u.as_str());
        }
        let rows = q.fetch_all(self.pool()).await?;
        let mut shares: HashMap<String, Vec<UserId>> = HashMap::new();
        let share_rows = sqlx::query(
            "SELECT s.account_id, s.user_id FROM account_shares s \
             JOIN mail_accounts a ON a.id = s.account_id WHERE a.org_id = $1 ORDER BY s.user_id",
        )
        .bind(org.as_str())
        .fetch_all(self.pool())
        .await?;
        for r in share_rows {
            shares
                .entry(r.try_get("account_id")?)
                .or_default()
                .push(UserId(r.try_get("user_id")?));
        }
        rows.iter()
            .map(|r| {
                let mut a = account_from_row(r)?;
                a.shared_with = shares.remove(a.id.as_str()).unwrap_or_default();
                Ok(a)
            })
            .collect()
    }

    /// Applies a partial update of the connection settings.
    pub async fn update_account(
        &self,
        org: &OrgId,
        id: &AccountId,
        update: &AccountUpdate,
    ) -> StoreResult<Account> {
        let mut a = self.get_account(org, id).await?;
        if let Some(owner) = &update.owner {
            self.check_users(org, std::slice::from_ref(owner)).await?;
            a.owner = owner.clone();
        }
        if let Some(p) = &update.provider_id {
            a.provider_id = p
                .as_deref()
                .map(|p| check_text(p, "provider id", 100))
                .transpose()?;
        }
        if let Some(n) = &update.display_name {
            a.display_name = check_text(n, "display name", 200)?;
        }
        if let Some(s) = &update.incoming {
            a.incoming = check_server(s, "incoming")?;
        }
        if let Some(s) = &update.outgoing {
            a.outgoing = s
                .as_ref()
                .map(|s| check_server(s, "outgoing"))
                .transpose()?;
        }
        if let Some(u) = &update.username {
            a.username = check_text(u, "username", 320)?;
        }
        if let Some(u) = &update.outgoing_username {
            a.outgoing_username = u
                .as_deref()
                .map(|u| check_text(u, "outgoing username", 320))
                .transpose()?;
        }
        a.same_credentials_for_outgoing = update
            .same_credentials_for_outgoing
            .unwrap_or(a.same_credentials_for_outgoing);
        a.auth_kind = update.auth_kind.unwrap_or(a.auth_kind);
        a.tls_verify = update.tls_verify.unwrap_or(a.tls_verify);
        a.pop3_keep_on_server = update.pop3_keep_on_server.unwrap_or(a.pop3_keep_on_server);
        a.store_sent = update.store_sent.unwrap_or(a.store_sent);
        sqlx::query(
            "UPDATE mail_accounts SET owner_id = $1, provider_id = $2, display_name = $3, incoming_host = $4, \
             incoming_port = $5, incoming_security = $6, outgoing_host = $7, outgoing_port = $8, \
             outgoing_security = $9, same_credentials_for_outgoing = $10, auth_kind = $11, username = $12, \
             outgoing_username = $13, tls_verify = $14, pop3_keep_on_server = $15, store_sent = $16, \
             updated_at = $17 WHERE org_id = $18 AND id = $19",
        )
        .bind(a.owner.as_str())
        .bind(a.provider_id.clone())
        .bind(a.display_name.clone())
        .bind(a.incoming.host.clone())
        .bind(i64::from(a.incoming.port))
        .bind(a.incoming.security.as_str())
        .bind(a.outgoing.as_ref().map(|o| o.host.clone()))
        .bind(a.outgoing.as_ref().map(|o| i64::from(o.port)))
        .bind(a.outgoing.as_ref().map(|o| o.security.as_str()))
        .bind(a.same_credentials_for_outgoing)
        .bind(a.auth_kind.as_str())
        .bind(a.username.clone())
        .bind(a.outgoing_username.clone())
        .bind(a.tls_verify)
        .bind(a.pop3_keep_on_server)
        .bind(a.store_sent.as_str())
        .bind(now_ms())
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(self.pool())
        .await?;
        self.get_account(org, id).await
    }

    /// Deletes the account with its folders and server locations. Messages
    /// stay (they are the org's, possibly also seen through other accounts).
    pub async fn delete_account(&self, org: &OrgId, id: &AccountId) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM mail_accounts WHERE org_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(id.as_str())
            .execute(self.pool())
            .await?;
        crate::db::expect_found(&done, "account")?;
        Ok(())
    }

    /// Sets who sees the account; `users` only counts for `Sharing::Custom`.
    pub async fn set_account_sharing(
        &self,
        org: &OrgId,
        id: &AccountId,
        sharing: Sharing,
        users: &[UserId],
    ) -> StoreResult<Account> {
        let users = shares_for(sharing, users);
        self.check_users(org, &users).await?;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE mail_accounts SET sharing = $1, updated_at = $2 WHERE org_id = $3 AND id = $4",
        )
        .bind(sharing.as_str())
        .bind(now_ms())
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
        crate::db::expect_found(&done, "account")?;
        replace_shares(&mut tx, id, &users).await?;
        tx.commit().await?;
        self.get_account(org, id).await
    }

    /// Locks (or unlocks) the account against changes by non-admins. The API
    /// enforces the lock; the store records it.
    pub async fn set_account_locked(
        &self,
        org: &OrgId,
        id: &AccountId,
        locked: bool,
    ) -> StoreResult<Account> {
        self.update_account_column(org, id, "locked_by_admin", Value::Bool(locked))
            .await?;
        self.get_account(org, id).await
    }

    /// Replaces the extra from-addresses and the default one.
    pub async fn set_from_addresses(
        &self,
        org: &OrgId,
        id: &AccountId,
        addresses: &[FromAddress],
        default: Option<&str>,
    ) -> StoreResult<Account> {
        let account = self.get_account(org, id).await?;
        let (list, default) = check_from(&account.email, addresses, default)?;
        sqlx::query(
            "UPDATE mail_accounts SET from_addresses = $1, default_from = $2, updated_at = $3 \
             WHERE org_id = $4 AND id = $5",
        )
        .bind(to_json(&list)?)
        .bind(default)
        .bind(now_ms())
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(self.pool())
        .await?;
        self.get_account(org, id).await
    }

    /// Maps a server folder to a SalesInbox role by hand (`None` removes the
    /// override). Kept on the account so it applies before the folder is seen.
    pub async fn set_folder_override(
        &self,
        org: &OrgId,
        id: &AccountId,
        server_name: &str,
        role: Option<&str>,
    ) -> StoreResult<Account> {
        let account = self.get_account(org, id).await?;
        let mut overrides: BTreeMap<String, String> = account.folder_overrides;
        let name = check_text(server_name, "folder name", 1000)?;
        if name.is_empty() {
            return Err(StoreError::Invalid("folder name must not be empty".into()));
        }
        match role {
            Some(r) => {
                overrides.insert(name, super::super::folders::check_role(r)?);
            }
            None => {
                overrides.remove(&name);
            }
        }
        self.update_account_column(
            org,
            id,
            "folder_overrides",
            Value::Text(to_json(&overrides)?),
        )
        .await?;
        self.get_account(org, id).await
    }

    /// Sets one column of one account of the org; `column` is always a
    /// literal from this module, never user input.
    pub(crate) async fn update_account_column(
        &self,
        org: &OrgId,
        id: &AccountId,
        column: &'static str,
        value: Value,
    ) -> StoreResult<()> {
        let sql = format!(
            "UPDATE mail_accounts SET {column} = $1, updated_at = $2 WHERE org_id = $3 AND id = $4"
        );
        let q = sqlx::query(AssertSqlSafe(sql));
        let q = match value {
            Value::Bool(b) => q.bind(b),
            Value::OptBool(b) => q.bind(b),
            Value::Text(t) => q.bind(t),
            Value::OptI64(v) => q.bind(v),
        };
        let done = q
            .bind(now_ms())
            .bind(org.as_str())
            .bind(id.as_str())
            .execute(self.pool())
            .await?;
        crate::db::expect_found(&done, "account")?;
        Ok(())
    }
}

/// A value for [`Store::update_account_column`].
pub(crate) enum Value {
    Bool(bool),
    OptBool(Option<bool>),
    Text(String),
    OptI64(Option<i64>),
}

/// The users that count for a sharing mode, deduplicated.
fn shares_for(sharing: Sharing, users: &[UserId]) -> Vec<UserId> {
    if sharing != Sharing::Custom {
        return Vec::new();
    }
    let mut users = users.to_vec();
    users.sort();
    users.dedup();
    users
}

async fn replace_shares(
    tx: &mut Transaction<'static, Any>,
    id: &AccountId,
    users: &[UserId],
) -> StoreResult<()> {
    sqlx::query("DELETE FROM account_shares WHERE account_id = $1")
        .bind(id.as_str())
        .execute(&mut **tx)
        .await?;
    for u in users {
        sqlx::query("INSERT INTO account_shares (account_id, user_id) VALUES ($1, $2)")
            .bind(id.as_str())
            .bind(u.as_str())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
