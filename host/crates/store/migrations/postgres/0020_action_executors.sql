-- The executors of the actions rules and workflows ask for that reach
-- outside the message; see ../sqlite/0020_action_executors.sql for the why.
-- Keep in step with it.
ALTER TABLE message_actions DROP CONSTRAINT IF EXISTS message_actions_status_check;
ALTER TABLE message_actions ADD CONSTRAINT message_actions_status_check
    CHECK (status IN ('applied', 'pending', 'done', 'refused', 'failed'));
ALTER TABLE message_actions
    ADD COLUMN context         TEXT,
    ADD COLUMN attempts        BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN outcome         TEXT,
    ADD COLUMN finished_at     BIGINT;
DROP INDEX IF EXISTS message_actions_pending;
CREATE INDEX message_actions_due ON message_actions (status, next_attempt_at, id);

CREATE TABLE action_attempts (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     TEXT NOT NULL,
    action_id  BIGINT NOT NULL REFERENCES message_actions(id) ON DELETE CASCADE,
    attempt    BIGINT NOT NULL,
    at         BIGINT NOT NULL,
    outcome    TEXT NOT NULL CHECK (outcome IN ('done', 'retry', 'refused', 'failed')),
    detail     TEXT NOT NULL
);
CREATE INDEX action_attempts_action ON action_attempts (action_id, attempt);

CREATE TABLE tasks (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    title       TEXT NOT NULL,
    notes       TEXT,
    assignee    TEXT NOT NULL REFERENCES users(id),
    due_at      BIGINT,
    priority    TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high')),
    status      TEXT NOT NULL CHECK (status IN ('open', 'done')),
    message_id  TEXT,
    record_kind TEXT CHECK (record_kind IN ('contact', 'lead')),
    record_id   TEXT,
    source      TEXT NOT NULL,
    action_id   BIGINT UNIQUE,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX tasks_assignee ON tasks (org_id, assignee, status, due_at);

CREATE TABLE notifications (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    org_id     TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id),
    title      TEXT NOT NULL,
    text       TEXT NOT NULL,
    message_id TEXT,
    source     TEXT NOT NULL,
    action_id  BIGINT UNIQUE,
    read_at    BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX notifications_user ON notifications (org_id, user_id, seq);
