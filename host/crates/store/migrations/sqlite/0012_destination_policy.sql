-- Each org's destination policy: which hosts and ports its accounts,
-- connection tests and OAuth token URLs may reach (JSON of
-- mailroom_core::destinations::DestinationPolicy). No row: the default,
-- public addresses on mail ports only.
-- Keep in step with ../postgres/0012_destination_policy.sql.
CREATE TABLE org_destination_policies (
    org_id TEXT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
    policy TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
