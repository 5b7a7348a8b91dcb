-- What the pipeline concluded about a message: one classification per
-- classifier plugin, and the actions rules and workflows asked for. Written
-- in the transaction that finishes the message's pipeline run, so a message
-- is never classified or acted on twice.
CREATE TABLE message_classifications (
    org_id         TEXT NOT NULL,
    message_id     TEXT NOT NULL,
    plugin         TEXT NOT NULL,
    plugin_version TEXT NOT NULL,
    result         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (org_id, message_id, plugin),
    FOREIGN KEY (org_id, message_id) REFERENCES messages(org_id, id) ON DELETE CASCADE
);

CREATE TABLE message_actions (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     TEXT NOT NULL,
    message_id TEXT NOT NULL,
    source     TEXT NOT NULL,
    action     TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('applied', 'pending')),
    created_at BIGINT NOT NULL,
    FOREIGN KEY (org_id, message_id) REFERENCES messages(org_id, id) ON DELETE CASCADE
);
CREATE INDEX message_actions_message ON message_actions (org_id, message_id);
CREATE INDEX message_actions_pending ON message_actions (status, id);
