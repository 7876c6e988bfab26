-- purse on PostgreSQL. Money columns are BIGINT micro-units (see ledger.Scale);
-- times are BIGINT microseconds since the Unix epoch, UTC, as in the SQLite store,
-- so a migrated row is the same row.

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('customer', 'funding', 'revenue')),
    name          TEXT NOT NULL,
    currency      TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'closed')),
    balance       BIGINT NOT NULL,
    seq           BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    held          BIGINT NOT NULL DEFAULT 0,
    allowed_minus BIGINT NOT NULL DEFAULT 0,
    monthly_limit BIGINT,
    monthly_spent BIGINT NOT NULL DEFAULT 0,
    spent_month   INTEGER NOT NULL DEFAULT 0,
    free_messages BIGINT NOT NULL DEFAULT 0,
    version       BIGINT NOT NULL DEFAULT 0
);

-- Sequences are taken while the accounts they belong to are locked, so each
-- account's entries are numbered in commit order.
CREATE SEQUENCE entry_seq;

CREATE TABLE entries (
    seq             BIGINT PRIMARY KEY,
    movement_id     TEXT NOT NULL,
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    kind            TEXT NOT NULL,
    amount          BIGINT NOT NULL,
    balance_after   BIGINT NOT NULL,
    reference       TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    metadata        TEXT NOT NULL DEFAULT '',
    related_id      TEXT NOT NULL DEFAULT '',
    free_message    BOOLEAN NOT NULL DEFAULT false
);

CREATE INDEX entries_by_account ON entries (account_id, seq);
CREATE INDEX entries_by_account_time ON entries (account_id, created_at, seq);
CREATE INDEX entries_by_movement ON entries (movement_id);

CREATE FUNCTION entries_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'entries are immutable';
END $$;
CREATE TRIGGER entries_no_change BEFORE UPDATE OR DELETE ON entries
    FOR EACH ROW EXECUTE FUNCTION entries_immutable();

CREATE TABLE idempotency (
    key          TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    body         BYTEA NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE users (
    username      TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX users_by_account ON users (account_id);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    name       TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    scopes     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX api_keys_by_account ON api_keys (account_id, id);

CREATE TABLE holds (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    amount     BIGINT NOT NULL CHECK (amount > 0),
    captured   BIGINT NOT NULL DEFAULT 0,
    status     TEXT NOT NULL CHECK (status IN ('active', 'captured', 'voided', 'expired')),
    reference  TEXT NOT NULL,
    charge_id  TEXT NOT NULL DEFAULT '',
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX holds_active ON holds (expires_at) WHERE status = 'active';

CREATE TABLE charges (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    amount       BIGINT NOT NULL,
    refunded     BIGINT NOT NULL DEFAULT 0 CHECK (refunded <= amount),
    free_message BOOLEAN NOT NULL DEFAULT false,
    created_at   BIGINT NOT NULL
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
