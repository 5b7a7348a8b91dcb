-- The native rule engine's rules: per org (account_id NULL) or per mail
-- account (run before the org's), ordered by position within that scope,
-- enabled or not, with where an imported rule came from. The condition tree
-- and the actions are the contract's rule model as JSON (mailroom-rules).
-- Who changed a rule when is in audit_log; created_by/updated_by say the
-- last of it at a glance.
-- Keep in step with ../postgres/0014_rules.sql.
CREATE TABLE rules (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    account_id       TEXT REFERENCES mail_accounts(id) ON DELETE CASCADE,
    position         INTEGER NOT NULL,
    name             TEXT NOT NULL,
    enabled          INTEGER NOT NULL DEFAULT 1,
    conditions       TEXT NOT NULL,
    actions          TEXT NOT NULL,
    source_format    TEXT,
    source_sha256    TEXT,
    source_filter_id TEXT,
    source_line      INTEGER,
    source_column    INTEGER,
    created_by       TEXT,
    created_at       INTEGER NOT NULL,
    updated_by       TEXT,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX rules_scope ON rules (org_id, account_id, position);
