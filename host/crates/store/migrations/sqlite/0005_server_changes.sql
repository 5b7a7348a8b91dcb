-- Two-way state: a user's read/star/move done in Mailroom, waiting to be
-- written to the IMAP server. Queued in the transaction that changes the
-- user's state ("durable before acknowledged") and deleted only once the
-- server confirmed it. One row per account, message and kind: a newer
-- change of the same kind replaces the older one (only the last wish
-- matters), and `updated_at` tells the executor whether the row it worked
-- on is still the one to delete.
-- Keep in step with ../postgres/0005_server_changes.sql.
CREATE TABLE server_changes (
    org_id          TEXT NOT NULL,
    account_id      TEXT NOT NULL REFERENCES mail_accounts(id) ON DELETE CASCADE,
    message_id      TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('read', 'starred', 'folder')),
    -- 'true'/'false' for read and starred; the SalesInbox folder role for folder.
    value           TEXT NOT NULL,
    -- failed: the server cannot take it as things are (no folder for the
    -- role); planned again at each sync without a server command, so it
    -- goes through once a folder is mapped or the user changes it.
    status          TEXT NOT NULL CHECK (status IN ('pending', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (account_id, message_id, kind),
    FOREIGN KEY (org_id, message_id) REFERENCES messages(org_id, id) ON DELETE CASCADE
);
CREATE INDEX server_changes_due ON server_changes (org_id, account_id, status, next_attempt_at);
CREATE INDEX server_changes_message ON server_changes (org_id, message_id);
