-- Filter files imported for preview (POST /v1/rules/import): the rules and
-- warnings the importer made of them, kept until an admin applies them
-- (…/apply) or for a day. Applying replaces the rules an earlier import of
-- the same file (format, sha256) left in the same scope.
-- Keep in step with ../postgres/0022_rule_imports.sql.
CREATE TABLE rule_imports (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    account_id  TEXT REFERENCES mail_accounts(id) ON DELETE CASCADE,
    format      TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    rules       TEXT NOT NULL,
    warnings    TEXT NOT NULL,
    created_by  TEXT,
    created_at  INTEGER NOT NULL,
    applied_at  INTEGER
);
CREATE INDEX rule_imports_age ON rule_imports (created_at);
