-- The CRM side of the mail: threads for related lists, accounts whose
-- integration is deactivated, and accounts whose mail an admin backed up
-- into the org archive (still shown after the owner is deactivated).
-- Keep in step with ../sqlite/0015_crm_side.sql.

-- The conversation a message belongs to: the first Message-ID of its
-- References (the thread's root), else In-Reply-To, else its own
-- Message-ID, without angle brackets. Mail stored before this column
-- existed has no References on record, so it is threaded by In-Reply-To
-- (a reply to a reply starts its own thread until it is stored again).
ALTER TABLE messages ADD COLUMN thread_id TEXT;
UPDATE messages SET thread_id = COALESCE(in_reply_to, header_message_id);
CREATE INDEX messages_thread ON messages (org_id, thread_id);

-- "Sent through the CRM": the stored copy of each outbox message.
CREATE INDEX outbox_stored_message ON outbox (org_id, stored_message_id);

-- Set while the account's integration is deactivated (kept, not synced).
ALTER TABLE mail_accounts ADD COLUMN deactivated_at BIGINT;
-- Set when an admin backed the account's mail up into the org archive: its
-- mail stays visible under the account's sharing once the owner is
-- deactivated.
ALTER TABLE mail_accounts ADD COLUMN backed_up_at BIGINT;
