-- The executors of the actions rules and workflows ask for that reach
-- outside the message (tasks, notifications, forwards, CRM updates,
-- webhooks). A pending action is written with its message's pipeline run
-- (durably queued); an executor claims it (attempts + 1, next_attempt_at
-- pushed past a lease), and writes its effect and its outcome in one
-- transaction guarded by the attempt it claimed, so an action takes effect
-- at most once. `context` is what the run knew that the executor needs
-- (the account and the CRM records of the message). Every attempt is
-- logged in action_attempts. SQLite cannot change a CHECK constraint, so
-- message_actions is rebuilt.
-- Keep in step with ../postgres/0020_action_executors.sql.
CREATE TABLE message_actions_v2 (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id          TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    source          TEXT NOT NULL,
    action          TEXT NOT NULL,
    status          TEXT NOT NULL
                    CHECK (status IN ('applied', 'pending', 'done', 'refused', 'failed')),
    created_at      INTEGER NOT NULL,
    context         TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    outcome         TEXT,
    finished_at     INTEGER,
    FOREIGN KEY (org_id, message_id) REFERENCES messages(org_id, id) ON DELETE CASCADE
);
INSERT INTO message_actions_v2 (id, org_id, message_id, source, action, status, created_at)
    SELECT id, org_id, message_id, source, action, status, created_at FROM message_actions;
DROP TABLE message_actions;
ALTER TABLE message_actions_v2 RENAME TO message_actions;
CREATE INDEX message_actions_message ON message_actions (org_id, message_id);
CREATE INDEX message_actions_due ON message_actions (status, next_attempt_at, id);

CREATE TABLE action_attempts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id     TEXT NOT NULL,
    action_id  INTEGER NOT NULL REFERENCES message_actions(id) ON DELETE CASCADE,
    attempt    INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    outcome    TEXT NOT NULL CHECK (outcome IN ('done', 'retry', 'refused', 'failed')),
    detail     TEXT NOT NULL
);
CREATE INDEX action_attempts_action ON action_attempts (action_id, attempt);

-- CRM tasks: made by create-task actions (action_id, at most one per
-- action) and changed by the person they are assigned to.
CREATE TABLE tasks (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    title       TEXT NOT NULL,
    notes       TEXT,
    assignee    TEXT NOT NULL REFERENCES users(id),
    due_at      INTEGER,
    priority    TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high')),
    status      TEXT NOT NULL CHECK (status IN ('open', 'done')),
    message_id  TEXT,
    record_kind TEXT CHECK (record_kind IN ('contact', 'lead')),
    record_id   TEXT,
    source      TEXT NOT NULL,
    action_id   INTEGER UNIQUE,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX tasks_assignee ON tasks (org_id, assignee, status, due_at);

-- Per-user notifications: made by notify actions, read by their user.
CREATE TABLE notifications (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    org_id     TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id),
    title      TEXT NOT NULL,
    text       TEXT NOT NULL,
    message_id TEXT,
    source     TEXT NOT NULL,
    action_id  INTEGER UNIQUE,
    read_at    INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX notifications_user ON notifications (org_id, user_id, seq);
