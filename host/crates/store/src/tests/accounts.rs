//! Mail accounts and folders: CRUD, validation, sharing, secrets at rest,
//! org isolation, leases.

use super::*;
use crate::AccountLease::{Push, Sync};
use crate::both_backends;
use mailroom_core::ids::AccountId;

both_backends! {
    async fn secrets_are_sealed_at_rest(db) {
        let s = &db.store;
        let (org, admin) = org_with_admin(s, "acme").await;
        let mut new = new_account(&admin, "Me@Acme.Example");
        new.credentials.outgoing_password = Some(Secret::new("hunter2-outgoing"));
        new.credentials.oauth_refresh_token = Some(Secret::new("hunter2-refresh"));
        let a = s.create_account(&org, &new).await.expect("create");
        assert!(a.has_password && a.has_outgoing_password && a.has_oauth_refresh_token);
        assert_eq!(a.email, "me@acme.example");
        assert_eq!(a.username, "me@acme.example", "username defaults to the email");
        assert_eq!(a.default_from, "me@acme.example");
        s.set_oauth_tokens(&org, &a.id, &Secret::new("hunter2-access"), 1234, None).await.expect("oauth");

        // The raw columns hold sealed bytes, not the plaintext.
        let row = sqlx::query("SELECT incoming_secret, outgoing_secret, oauth_refresh_token, oauth_access_token FROM mail_accounts")
            .fetch_one(s.pool()).await.expect("row");
        for col in ["incoming_secret", "outgoing_secret", "oauth_refresh_token", "oauth_access_token"] {
            let bytes: Vec<u8> = sqlx::Row::try_get(&row, col).expect(col);
            assert_eq!(bytes[0], 1, "version byte");
            assert!(!bytes.windows(7).any(|w| w == b"hunter2"), "{col} is plaintext");
        }
        // Nothing in a serialised Account or a Debug print reveals them.
        let json = serde_json::to_string(&s.get_account(&org, &a.id).await.expect("get")).expect("json");
        assert!(!json.contains("hunter2"), "{json}");
        let secrets = s.account_secrets(&org, &a.id).await.expect("secrets");
        assert!(!format!("{secrets:?}").contains("hunter2"));
        assert_eq!(secrets.password.as_ref().map(Secret::expose), Some("hunter2-incoming"));
        assert_eq!(secrets.outgoing_password.as_ref().map(Secret::expose), Some("hunter2-outgoing"));
        assert_eq!(secrets.oauth_refresh_token.as_ref().map(Secret::expose), Some("hunter2-refresh"), "kept when not rotated");
        assert_eq!(secrets.oauth_access_token.as_ref().map(Secret::expose), Some("hunter2-access"));
        assert_eq!(secrets.oauth_access_expires_at, Some(1234));

        s.set_account_credentials(&org, &a.id, &Credentials { password: Some(Secret::new("new-pass")), ..Default::default() })
            .await.expect("set creds");
        let secrets = s.account_secrets(&org, &a.id).await.expect("secrets");
        assert_eq!(secrets.password.as_ref().map(Secret::expose), Some("new-pass"));
        assert_eq!(secrets.outgoing_password.as_ref().map(Secret::expose), Some("hunter2-outgoing"));

        // A sealed value copied to another account's row does not open there.
        let b = imap_account(s, &org, &admin, "b@acme.example").await;
        sqlx::query("UPDATE mail_accounts SET incoming_secret = (SELECT incoming_secret FROM mail_accounts WHERE id = $1) WHERE id = $2")
            .bind(a.id.as_str()).bind(b.id.as_str()).execute(s.pool()).await.expect("copy");
        assert!(matches!(s.account_secrets(&org, &b.id).await, Err(StoreError::Crypto(_))));

        // Restart: still decryptable with the same key.
        let mut db = db;
        db.restart().await;
        let secrets = db.store.account_secrets(&org, &a.id).await.expect("after restart");
        assert_eq!(secrets.password.as_ref().map(Secret::expose), Some("new-pass"));
    }

    async fn account_crud_validation_and_isolation(db) {
        let s = &db.store;
        let (org, admin) = org_with_admin(s, "acme").await;
        let (other, other_admin) = org_with_admin(s, "other").await;
        let a = imap_account(s, &org, &admin, "me@acme.example").await;
        assert!(a.tls_verify && a.sharing == Sharing::Private && a.status == AccountStatus::New);

        // Validation.
        let mut bad = new_account(&admin, "x@acme.example");
        bad.incoming.host = "not a host".into();
        assert!(matches!(s.create_account(&org, &bad).await, Err(StoreError::Invalid(_))));
        let mut bad = new_account(&admin, "x@acme.example");
        bad.incoming.port = 0;
        assert!(matches!(s.create_account(&org, &bad).await, Err(StoreError::Invalid(_))));
        // An owner from another org is unknown here.
        let r = s.create_account(&org, &new_account(&other_admin, "x@acme.example")).await;
        assert!(matches!(r, Err(StoreError::Invalid(_))), "{r:?}");
        let mut bad = new_account(&admin, "x@acme.example");
        bad.default_from = Some("nobody@else.example".into());
        assert!(matches!(s.create_account(&org, &bad).await, Err(StoreError::Invalid(_))));

        // Update: partial, with explicit clearing of the outgoing server.
        let update: AccountUpdate = serde_json::from_str(
            r#"{"display_name":"Sales","outgoing":null,"tls_verify":false,"store_sent":"no"}"#).expect("json");
        let u = s.update_account(&org, &a.id, &update).await.expect("update");
        assert_eq!((u.display_name.as_str(), u.outgoing.is_none(), u.tls_verify, u.store_sent),
                   ("Sales", true, false, StoreSent::No));
        assert_eq!(u.incoming, a.incoming);
        assert!(serde_json::from_str::<AccountUpdate>(r#"{"password":"x"}"#).is_err(), "unknown fields rejected");

        // From-addresses.
        let u = s.set_from_addresses(&org, &a.id, &[
            FromAddress { address: "Sales@Acme.Example".into(), name: Some("Sales".into()) },
            FromAddress { address: "sales@acme.example".into(), name: None },
        ], Some("sales@acme.example")).await.expect("from");
        assert_eq!(u.from_addresses.len(), 1);
        assert_eq!(u.default_from, "sales@acme.example");
        assert!(u.may_send_as("SALES@acme.example") && u.may_send_as("me@acme.example") && !u.may_send_as("x@y.z"));

        // Lock, status, store-sent learning, folder override.
        assert!(s.set_account_locked(&org, &a.id, true).await.expect("lock").locked_by_admin);
        s.set_account_status(&org, &a.id, AccountStatus::Error, Some("login failed")).await.expect("status");
        s.set_store_sent_learned(&org, &a.id, Some(true)).await.expect("learned");
        let u = s.set_folder_override(&org, &a.id, "INBOX.Sent Items", Some("Sent")).await.expect("override");
        assert_eq!(u.folder_overrides.get("INBOX.Sent Items").map(String::as_str), Some("sent"));
        assert!(matches!(s.set_folder_override(&org, &a.id, "X", Some("bogus")).await, Err(StoreError::Invalid(_))));
        let u = s.get_account(&org, &a.id).await.expect("get");
        assert_eq!((u.status, u.last_error.as_deref(), u.store_sent_learned), (AccountStatus::Error, Some("login failed"), Some(true)));
        s.record_account_synced(&org, &a.id, 42).await.expect("synced");
        let u = s.get_account(&org, &a.id).await.expect("get");
        assert_eq!((u.status, u.last_error, u.last_sync_at), (AccountStatus::Ok, None, Some(42)));

        // Org isolation: the other org can neither see nor change it.
        assert!(matches!(s.get_account(&other, &a.id).await, Err(StoreError::NotFound(_))));
        assert!(s.list_accounts(&other).await.expect("list").is_empty());
        assert!(matches!(s.update_account(&other, &a.id, &AccountUpdate::default()).await, Err(StoreError::NotFound(_))));
        assert!(matches!(s.account_secrets(&other, &a.id).await, Err(StoreError::NotFound(_))));
        assert!(matches!(s.set_account_locked(&other, &a.id, false).await, Err(StoreError::NotFound(_))));
        assert!(matches!(s.delete_account(&other, &a.id).await, Err(StoreError::NotFound(_))));
        assert!(matches!(
            s.set_account_credentials(&other, &a.id, &Credentials { password: Some(Secret::new("x")), ..Default::default() }).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(s.upsert_folder(&other, &a.id, &FolderInfo { name: "INBOX".into(), delimiter: None, special_use: None }, None).await,
            Err(StoreError::NotFound(_))));

        s.delete_account(&org, &a.id).await.expect("delete");
        assert!(s.list_accounts(&org).await.expect("list").is_empty());
    }

    async fn sharing_decides_visibility(db) {
        let s = &db.store;
        let (org, admin) = org_with_admin(s, "acme").await;
        let user = |e: &str| NewUser { email: e.into(), display_name: e.into(), role: Role::User, licensed: true };
        let ann = s.create_user(&org, &user("ann@acme.example")).await.expect("ann").id;
        let bob = s.create_user(&org, &user("bob@acme.example")).await.expect("bob").id;
        let a = imap_account(s, &org, &ann, "ann@acme.example").await;
        let ids = |v: Vec<Account>| v.into_iter().map(|a| a.id).collect::<Vec<AccountId>>();
        assert_eq!(ids(s.list_accounts_visible_to(&org, &ann).await.expect("v")), vec![a.id.clone()]);
        assert!(s.list_accounts_visible_to(&org, &bob).await.expect("v").is_empty());
        assert!(!s.account_visible_to(&org, &a.id, &bob).await.expect("v"));

        let u = s.set_account_sharing(&org, &a.id, Sharing::Custom, &[bob.clone(), bob.clone()]).await.expect("share");
        assert_eq!(u.shared_with, vec![bob.clone()]);
        assert!(s.account_visible_to(&org, &a.id, &bob).await.expect("v"));
        assert!(!s.account_visible_to(&org, &a.id, &admin).await.expect("v"));
        assert_eq!(s.list_accounts(&org).await.expect("all")[0].shared_with, vec![bob.clone()]);

        s.set_account_sharing(&org, &a.id, Sharing::Public, std::slice::from_ref(&bob)).await.expect("public");
        assert!(s.get_account(&org, &a.id).await.expect("get").shared_with.is_empty(), "users only count for custom");
        assert!(s.account_visible_to(&org, &a.id, &admin).await.expect("v"));

        let (other, other_admin) = org_with_admin(s, "other").await;
        assert!(s.list_accounts_visible_to(&other, &other_admin).await.expect("v").is_empty());
        let r = s.set_account_sharing(&org, &a.id, Sharing::Custom, &[other_admin]).await;
        assert!(matches!(r, Err(StoreError::Invalid(_))), "users of another org cannot be shared with");
    }

    async fn folders_and_leases(db) {
        let s = &db.store;
        let (org, admin) = org_with_admin(s, "acme").await;
        let a = imap_account(s, &org, &admin, "me@acme.example").await;
        let info = FolderInfo { name: "INBOX".into(), delimiter: Some("/".into()), special_use: None };
        let f = s.upsert_folder(&org, &a.id, &info, Some("inbox")).await.expect("folder");
        s.checkpoint_folder(&org, &FolderCheckpoint { folder: f.id.clone(), uidvalidity: 7, last_uid: 99, highestmodseq: Some(1 << 40) })
            .await.expect("checkpoint");
        // Re-listing keeps the checkpoint and the id.
        let again = s.upsert_folder(&org, &a.id, &FolderInfo { special_use: Some("\\Inbox".into()), ..info }, Some("inbox")).await.expect("again");
        assert_eq!((again.id.clone(), again.uidvalidity, again.last_uid, again.highestmodseq), (f.id.clone(), Some(7), 99, Some(1 << 40)));
        assert_eq!(again.special_use.as_deref(), Some("\\Inbox"));
        assert_eq!(s.set_folder_role(&org, &f.id, Some("archive")).await.expect("role").role.as_deref(), Some("archive"));
        assert_eq!(s.list_folders(&org, &a.id).await.expect("list").len(), 1);
        let (other, _) = org_with_admin(s, "other").await;
        assert!(matches!(s.get_folder(&other, &f.id).await, Err(StoreError::NotFound(_))));
        assert!(s.list_folders(&other, &a.id).await.expect("list").is_empty());

        assert!(s.try_lease_account(&org, &a.id, Sync, "node-1", 60_000).await.expect("lease"));
        assert!(s.try_lease_account(&org, &a.id, Sync, "node-1", 60_000).await.expect("renew"));
        assert!(!s.try_lease_account(&org, &a.id, Sync, "node-2", 60_000).await.expect("held"));
        assert!(s.accounts_to_sync().await.expect("candidates").is_empty());
        s.release_account_lease(&org, &a.id, Sync, "node-2").await.expect("not holder: no-op");
        assert!(!s.try_lease_account(&org, &a.id, Sync, "node-2", 60_000).await.expect("still held"));
        s.release_account_lease(&org, &a.id, Sync, "node-1").await.expect("release");
        assert_eq!(s.accounts_to_sync().await.expect("candidates"), vec![(org.clone(), a.id.clone())]);
        assert!(s.try_lease_account(&org, &a.id, Sync, "node-2", -1).await.expect("take"));
        assert!(s.try_lease_account(&org, &a.id, Sync, "node-1", 60_000).await.expect("expired lease is taken over"));
        assert!(!s.try_lease_account(&other, &a.id, Sync, "node-3", 1).await.expect("other org"));
        // The push lease is held apart from the sync lease, by its own rules.
        assert!(s.try_lease_account(&org, &a.id, Push, "node-2", 60_000).await.expect("push while node-1 syncs"));
        assert!(!s.try_lease_account(&org, &a.id, Push, "node-1", 60_000).await.expect("push held"));
        s.release_account_lease(&org, &a.id, Sync, "node-1").await.expect("release sync");
        assert!(!s.try_lease_account(&org, &a.id, Push, "node-1", 60_000).await.expect("still held"));
        s.release_account_lease(&org, &a.id, Push, "node-2").await.expect("release push");
        assert!(s.try_lease_account(&org, &a.id, Push, "node-1", 60_000).await.expect("free again"));
    }
}
