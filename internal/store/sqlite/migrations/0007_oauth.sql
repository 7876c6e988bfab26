-- OAuth2 clients (client credentials grant), shaped like API keys: the secret is
-- kept as its SHA-256.
CREATE TABLE oauth_clients (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    name        TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) STRICT;

CREATE INDEX oauth_clients_by_account ON oauth_clients (account_id, id);
