-- Each org's automation policy: where its rules' and workflows' forwards
-- and webhooks may go and which CRM fields they may write (JSON of
-- mailroom_core::automation::AutomationPolicy; no row: nothing allowed),
-- and the org's webhook signing secret, sealed like account credentials
-- and bound to the org (NULL until an admin creates one).
-- Keep in step with ../postgres/0021_automation_policy.sql.
CREATE TABLE org_automation (
    org_id         TEXT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
    policy         TEXT NOT NULL,
    webhook_secret BLOB,
    updated_at     INTEGER NOT NULL
);

-- Webhook idempotency keys already delivered: a key is delivered at most
-- once per org, whichever action carries it.
CREATE TABLE webhook_keys (
    org_id          TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    idempotency_key TEXT NOT NULL,
    action_id       INTEGER NOT NULL,
    delivered_at    INTEGER NOT NULL,
    PRIMARY KEY (org_id, idempotency_key)
);

-- The org's webhook subscriptions: a URL (allowed by the automation
-- policy when created and on every delivery) and the events it gets
-- (JSON array of names, e.g. ["message.received"]). Each delivery is a
-- `webhook` action queued with the message's run, so it is durable,
-- retried and logged like any other.
CREATE TABLE webhook_subscriptions (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    url        TEXT NOT NULL,
    events     TEXT NOT NULL,
    created_by TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX webhook_subscriptions_org ON webhook_subscriptions (org_id, created_at);
