-- The outbox: every message to send is written here, raw bytes included,
-- before any network call ("durable before acknowledged"), and each step
-- of its way (SMTP, the copy in Sent, ingestion) commits a state change.
-- Keep in step with ../sqlite/0003_outbox.sql.
CREATE TABLE outbox (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    account_id        TEXT NOT NULL REFERENCES mail_accounts(id) ON DELETE CASCADE,
    created_by        TEXT REFERENCES users(id) ON DELETE SET NULL,
    state             TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'appended', 'failed')),
    -- The Message-ID header, with its angle brackets.
    message_id        TEXT NOT NULL,
    subject           TEXT NOT NULL DEFAULT '',
    envelope_from     TEXT NOT NULL,
    -- JSON list of every recipient (to, cc and bcc).
    envelope_to       TEXT NOT NULL,
    -- What goes over SMTP (no Bcc header).
    raw               BYTEA NOT NULL,
    -- The copy for the Sent folder when it differs from raw (it keeps Bcc).
    copy_raw          BYTEA,
    attempts          BIGINT NOT NULL DEFAULT 0,
    copy_attempts     BIGINT NOT NULL DEFAULT 0,
    next_attempt_at   BIGINT,
    lease_until       BIGINT,
    last_error        TEXT,
    sent_at           BIGINT,
    -- How the Sent copy was handled: appended, found, provider, disabled, no_sent_folder, gave_up.
    sent_copy         TEXT,
    stored_message_id TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_account ON outbox (org_id, account_id, created_at);
