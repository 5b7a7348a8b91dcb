-- Mailroom schema, SQLite flavour. Keep in step with ../postgres/0001_initial.sql:
-- same tables, columns and constraints; only the types differ
-- (INTEGER 0/1 for booleans, BLOB for bytes, AUTOINCREMENT for serials).
-- Times are milliseconds since the Unix epoch.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE orgs (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE users (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'user')),
    active       INTEGER NOT NULL DEFAULT 1,
    licensed     INTEGER NOT NULL DEFAULT 1,
    created_at   INTEGER NOT NULL,
    UNIQUE (org_id, email)
);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (org_id, user_id);

CREATE TABLE mail_accounts (
    id                            TEXT PRIMARY KEY,
    org_id                        TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    owner_id                      TEXT NOT NULL REFERENCES users(id),
    protocol                      TEXT NOT NULL CHECK (protocol IN ('imap', 'pop3')),
    provider_id                   TEXT,
    display_name                  TEXT NOT NULL,
    email                         TEXT NOT NULL,
    incoming_host                 TEXT NOT NULL,
    incoming_port                 INTEGER NOT NULL,
    incoming_security             TEXT NOT NULL CHECK (incoming_security IN ('tls', 'starttls', 'none')),
    outgoing_host                 TEXT,
    outgoing_port                 INTEGER,
    outgoing_security             TEXT CHECK (outgoing_security IN ('tls', 'starttls', 'none')),
    same_credentials_for_outgoing INTEGER NOT NULL DEFAULT 1,
    auth_kind                     TEXT NOT NULL CHECK (auth_kind IN ('password', 'app_password', 'oauth2')),
    username                      TEXT NOT NULL,
    outgoing_username             TEXT,
    -- Sealed with the secret key (see store/secrets.rs); never plaintext.
    incoming_secret               BLOB,
    outgoing_secret               BLOB,
    oauth_refresh_token           BLOB,
    oauth_access_token            BLOB,
    oauth_access_expires_at       INTEGER,
    tls_verify                    INTEGER NOT NULL DEFAULT 1,
    from_addresses                TEXT NOT NULL DEFAULT '[]',
    default_from                  TEXT,
    sharing                       TEXT NOT NULL DEFAULT 'private' CHECK (sharing IN ('private', 'public', 'custom')),
    locked_by_admin               INTEGER NOT NULL DEFAULT 0,
    pop3_keep_on_server           INTEGER NOT NULL DEFAULT 1,
    store_sent                    TEXT NOT NULL DEFAULT 'auto' CHECK (store_sent IN ('auto', 'yes', 'no')),
    store_sent_learned            INTEGER,
    folder_overrides              TEXT NOT NULL DEFAULT '{}',
    status                        TEXT NOT NULL DEFAULT 'new',
    last_error                    TEXT,
    last_sync_at                  INTEGER,
    lease_owner                   TEXT,
    lease_expires_at              INTEGER,
    created_at                    INTEGER NOT NULL,
    updated_at                    INTEGER NOT NULL
);
CREATE INDEX mail_accounts_org ON mail_accounts (org_id, owner_id);

CREATE TABLE account_shares (
    account_id TEXT NOT NULL REFERENCES mail_accounts(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, user_id)
);
CREATE INDEX account_shares_user ON account_shares (user_id);

CREATE TABLE folders (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    account_id     TEXT NOT NULL REFERENCES mail_accounts(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    delimiter      TEXT,
    special_use    TEXT,
    role           TEXT,
    uidvalidity    INTEGER,
    last_uid       INTEGER NOT NULL DEFAULT 0,
    highestmodseq  INTEGER,
    last_synced_at INTEGER,
    UNIQUE (account_id, name)
);

-- One row per distinct raw message per org; id = sha256 hex of the raw bytes.
CREATE TABLE messages (
    org_id            TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    id                TEXT NOT NULL,
    size              INTEGER NOT NULL,
    header_message_id TEXT,
    subject           TEXT,
    sent_at           INTEGER,
    received_at       INTEGER NOT NULL,
    sort_at           INTEGER NOT NULL,
    from_address      TEXT,
    from_name         TEXT,
    has_attachments   INTEGER NOT NULL DEFAULT 0,
    snippet           TEXT NOT NULL DEFAULT '',
    in_reply_to       TEXT,
    parse_problem     TEXT,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX messages_sort ON messages (org_id, sort_at DESC, id DESC);
CREATE INDEX messages_header_id ON messages (org_id, header_message_id);

-- Raw bytes apart from the index so list queries never page through them;
-- external_ref is for object storage in large deployments.
CREATE TABLE message_raw (
    org_id       TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    raw          BLOB,
    external_ref TEXT,
    PRIMARY KEY (org_id, message_id),
    FOREIGN KEY (org_id, message_id) REFERENCES messages(org_id, id) ON DELETE CASCADE
);

CREATE TABLE message_addresses (
    org_id     TEXT NOT NULL,
    message_id TEXT NOT NULL,
    field      TEXT NOT NULL CHECK (field IN ('from', 'sender', 'to', 'cc', 'bcc', 'reply_to')),
    position   INTEGER NOT NULL,
    address    TEXT NOT NULL,
    name       TEXT,
    PRIMARY KEY (org_id, message_id, field, position),
    FOREIGN KEY (org_id, message_id) REFERENCES messages(org_id, id) ON DELETE CASCADE
);
CREATE INDEX message_addresses_address ON message_addresses (org_id, address, message_id);

-- Where a message sits on a server; apart from identity so a resync or a
-- UIDVALIDITY change only rewrites locations.
CREATE TABLE message_locations (
    org_id       TEXT NOT NULL,
    account_id   TEXT NOT NULL REFERENCES mail_accounts(id) ON DELETE CASCADE,
    location_key TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    folder_id    TEXT REFERENCES folders(id) ON DELETE CASCADE,
    uidvalidity  INTEGER,
    uid          INTEGER,
    pop3_uidl    TEXT,
    flags        TEXT NOT NULL DEFAULT '',
    modseq       INTEGER,
    seen_at      INTEGER NOT NULL,
    PRIMARY KEY (account_id, location_key),
    FOREIGN KEY (org_id, message_id) REFERENCES messages(org_id, id) ON DELETE CASCADE
);
CREATE INDEX message_locations_message ON message_locations (org_id, message_id);
CREATE INDEX message_locations_folder ON message_locations (folder_id, uid);

-- The user's view of a message, keyed by message (not location) so it
-- survives resyncs, moves on the server and re-connects.
CREATE TABLE message_state (
    org_id      TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    folder      TEXT NOT NULL,
    labels      TEXT NOT NULL DEFAULT '[]',
    is_read     INTEGER NOT NULL DEFAULT 0,
    is_starred  INTEGER NOT NULL DEFAULT 0,
    reminder_at INTEGER,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, message_id),
    FOREIGN KEY (org_id, message_id) REFERENCES messages(org_id, id) ON DELETE CASCADE
);
CREATE INDEX message_state_folder ON message_state (org_id, folder);

-- Exactly-once pipeline: a row is queued in the ingest transaction of a new
-- message and finished by the pipeline.
CREATE TABLE pipeline_runs (
    org_id      TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    queued_at   INTEGER NOT NULL,
    finished_at INTEGER,
    detail      TEXT,
    PRIMARY KEY (org_id, message_id),
    FOREIGN KEY (org_id, message_id) REFERENCES messages(org_id, id) ON DELETE CASCADE
);
CREATE INDEX pipeline_runs_status ON pipeline_runs (status, queued_at);

-- Contacts and leads share a shape; kind tells them apart.
CREATE TABLE crm_records (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('contact', 'lead')),
    name          TEXT NOT NULL,
    primary_email TEXT,
    owner_id      TEXT REFERENCES users(id),
    fields        TEXT NOT NULL DEFAULT '{}',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX crm_records_org ON crm_records (org_id, kind, name, id);

-- Every email of a record (primary included), lower-cased, for fast lookups.
CREATE TABLE crm_emails (
    org_id     TEXT NOT NULL,
    record_id  TEXT NOT NULL REFERENCES crm_records(id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    is_primary INTEGER NOT NULL,
    position   INTEGER NOT NULL,
    PRIMARY KEY (record_id, email)
);
CREATE INDEX crm_emails_email ON crm_emails (org_id, email);

CREATE TABLE plugins (
    org_id               TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name                 TEXT NOT NULL,
    kind                 TEXT NOT NULL,
    active_seq           INTEGER NOT NULL,
    enabled              INTEGER NOT NULL,
    rollout              TEXT NOT NULL,
    position             INTEGER NOT NULL,
    config               TEXT NOT NULL,
    limits               TEXT,
    disabled_reason      TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, name)
);

CREATE TABLE plugin_versions (
    org_id       TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    contract     TEXT NOT NULL,
    metadata     TEXT NOT NULL,
    size_bytes   INTEGER NOT NULL,
    installed_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, name, seq)
);

-- Content-addressed component bytes, shared by every org that uploads them.
CREATE TABLE plugin_blobs (
    sha256     TEXT PRIMARY KEY,
    bytes      BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE plugin_kv (
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    plugin TEXT NOT NULL,
    key    TEXT NOT NULL,
    value  BLOB NOT NULL,
    PRIMARY KEY (org_id, plugin, key)
);

CREATE TABLE plugin_events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id  TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    plugin  TEXT NOT NULL,
    kind    TEXT NOT NULL,
    message TEXT NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX plugin_events_org ON plugin_events (org_id, plugin, at);

CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    actor  TEXT,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT NOT NULL DEFAULT '{}',
    at     INTEGER NOT NULL
);
CREATE INDEX audit_log_org ON audit_log (org_id, id);
