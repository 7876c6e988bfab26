-- The ledger: limits, free messages and holds on accounts; metadata on entries;
-- holds and charges as their own tables.

ALTER TABLE accounts ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN allowed_minus INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN monthly_limit INTEGER; -- NULL: no limit
ALTER TABLE accounts ADD COLUMN monthly_spent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN spent_month INTEGER NOT NULL DEFAULT 0; -- yyyymm
ALTER TABLE accounts ADD COLUMN free_messages INTEGER NOT NULL DEFAULT 0;

ALTER TABLE entries ADD COLUMN metadata TEXT NOT NULL DEFAULT '';
ALTER TABLE entries ADD COLUMN related_id TEXT NOT NULL DEFAULT '';
ALTER TABLE entries ADD COLUMN free_message INTEGER NOT NULL DEFAULT 0;

CREATE INDEX entries_by_account_time ON entries (account_id, created_at, seq);

CREATE TABLE holds (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    amount     INTEGER NOT NULL CHECK (amount > 0),
    captured   INTEGER NOT NULL DEFAULT 0,
    status     TEXT NOT NULL CHECK (status IN ('active', 'captured', 'voided', 'expired')),
    reference  TEXT NOT NULL,
    charge_id  TEXT NOT NULL DEFAULT '',
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE INDEX holds_active ON holds (status, account_id) WHERE status = 'active';

CREATE TABLE charges (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    amount       INTEGER NOT NULL,
    refunded     INTEGER NOT NULL DEFAULT 0 CHECK (refunded <= amount),
    free_message INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
) STRICT;
