-- OAuth2 for mail accounts: each org registers its own OAuth client per
-- provider; an authorization in progress waits here for its callback; the
-- account remembers which token endpoint and client its refresh token
-- belongs to. Keep in step with ../sqlite/0007_oauth.sql.
CREATE TABLE oauth_clients (
    org_id              TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    -- The provider id accounts name (`gmail`, `microsoft`, or any id of a
    -- self-hosted identity provider).
    provider_id         TEXT NOT NULL,
    client_id           TEXT NOT NULL,
    -- Sealed with the secret key; NULL for a public client (PKCE only).
    client_secret       BYTEA,
    redirect_uri        TEXT NOT NULL,
    -- Overrides of the provider plugin's endpoints and scopes.
    authorization_url   TEXT,
    token_url           TEXT,
    scopes              TEXT,
    -- Plain-HTTP endpoints only when an admin says so (a test or loopback IdP).
    allow_insecure_http BOOLEAN NOT NULL DEFAULT FALSE,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    PRIMARY KEY (org_id, provider_id)
);

CREATE TABLE oauth_authorizations (
    -- sha256 (hex) of the CSRF state: the state itself is never stored.
    state_hash    TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    account_id    TEXT NOT NULL REFERENCES mail_accounts(id) ON DELETE CASCADE,
    provider_id   TEXT NOT NULL,
    -- Sealed PKCE code verifier.
    pkce_verifier BYTEA NOT NULL,
    token_url     TEXT NOT NULL,
    created_by    TEXT REFERENCES users(id) ON DELETE SET NULL,
    expires_at    BIGINT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX oauth_authorizations_expiry ON oauth_authorizations (expires_at);

ALTER TABLE mail_accounts ADD COLUMN oauth_token_url TEXT;
ALTER TABLE mail_accounts ADD COLUMN oauth_client_provider TEXT;
