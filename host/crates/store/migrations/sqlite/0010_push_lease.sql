-- The push lease: which node keeps an account's IDLE connection, so nodes
-- sharing one database open one push connection per account between them,
-- not one each. Separate from the sync lease (lease_owner), which a node
-- takes only for the length of one sync, also while it holds this one.
-- Keep in step with ../postgres/0010_push_lease.sql.
ALTER TABLE mail_accounts ADD COLUMN push_owner TEXT;
ALTER TABLE mail_accounts ADD COLUMN push_expires_at INTEGER;
