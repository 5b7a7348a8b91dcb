-- Each org's automation policy and webhook signing secret; see
-- ../sqlite/0021_automation_policy.sql for the why. Keep in step with it.
CREATE TABLE org_automation (
    org_id         TEXT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
    policy         TEXT NOT NULL,
    webhook_secret BYTEA,
    updated_at     BIGINT NOT NULL
);

CREATE TABLE webhook_keys (
    org_id          TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    idempotency_key TEXT NOT NULL,
    action_id       BIGINT NOT NULL,
    delivered_at    BIGINT NOT NULL,
    PRIMARY KEY (org_id, idempotency_key)
);

CREATE TABLE webhook_subscriptions (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    url        TEXT NOT NULL,
    events     TEXT NOT NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_subscriptions_org ON webhook_subscriptions (org_id, created_at);
