-- Message state belongs to the mailbox that holds the message, not to the
-- org: one row per (account, message). Content identity stays org-wide
-- (messages, raw bytes, addresses, CRM links are stored once), but read,
-- starred, folder, labels and reminder are each mailbox's own, so a change
-- made through one account never reaches another user's mailbox or server.
-- A row is made when an account first holds the message and outlives its
-- server locations (a server-side move, a UIDVALIDITY change or a POP3
-- download deleted from the server keep the mailbox's state).
-- Existing state is copied to every account that holds the message now;
-- a message with no location left cannot be attributed to a mailbox and
-- keeps only its content.
-- Keep in step with ../postgres/0011_mailbox_state.sql.
CREATE TABLE mailbox_state (
    org_id      TEXT NOT NULL,
    account_id  TEXT NOT NULL REFERENCES mail_accounts(id) ON DELETE CASCADE,
    message_id  TEXT NOT NULL,
    folder      TEXT NOT NULL,
    labels      TEXT NOT NULL DEFAULT '[]',
    is_read     INTEGER NOT NULL DEFAULT 0,
    is_starred  INTEGER NOT NULL DEFAULT 0,
    reminder_at INTEGER,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, message_id),
    FOREIGN KEY (org_id, message_id) REFERENCES messages(org_id, id) ON DELETE CASCADE
);
CREATE INDEX mailbox_state_message ON mailbox_state (org_id, message_id, account_id);
CREATE INDEX mailbox_state_folder ON mailbox_state (org_id, folder);

INSERT INTO mailbox_state (org_id, account_id, message_id, folder, labels, is_read, is_starred,
                           reminder_at, updated_at)
SELECT s.org_id, l.account_id, s.message_id, s.folder, s.labels, s.is_read, s.is_starred,
       s.reminder_at, s.updated_at
FROM message_state s
JOIN (SELECT DISTINCT org_id, account_id, message_id FROM message_locations) l
  ON l.org_id = s.org_id AND l.message_id = s.message_id;

-- Mail stored from a folder without a role was filed as `inbox`; it is in
-- its own folder (`custom:<server name>`, as sync files it now).
UPDATE mailbox_state SET folder = 'custom:' || (
    SELECT f.name FROM message_locations l JOIN folders f ON f.id = l.folder_id
    WHERE l.org_id = mailbox_state.org_id AND l.account_id = mailbox_state.account_id
      AND l.message_id = mailbox_state.message_id AND f.role IS NULL
    ORDER BY f.name LIMIT 1)
WHERE folder = 'inbox'
  AND EXISTS (SELECT 1 FROM message_locations l JOIN folders f ON f.id = l.folder_id
      WHERE l.org_id = mailbox_state.org_id AND l.account_id = mailbox_state.account_id
        AND l.message_id = mailbox_state.message_id AND f.role IS NULL)
  AND NOT EXISTS (SELECT 1 FROM message_locations l JOIN folders f ON f.id = l.folder_id
      WHERE l.org_id = mailbox_state.org_id AND l.account_id = mailbox_state.account_id
        AND l.message_id = mailbox_state.message_id AND f.role = 'inbox');

DROP TABLE message_state;
