-- Filter files imported for preview; see ../sqlite/0022_rule_imports.sql
-- for the why. Keep in step with it.
CREATE TABLE rule_imports (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    account_id  TEXT REFERENCES mail_accounts(id) ON DELETE CASCADE,
    format      TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    rules       TEXT NOT NULL,
    warnings    TEXT NOT NULL,
    created_by  TEXT,
    created_at  BIGINT NOT NULL,
    applied_at  BIGINT
);
CREATE INDEX rule_imports_age ON rule_imports (created_at);
