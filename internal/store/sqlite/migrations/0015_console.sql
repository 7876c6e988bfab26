-- The operator console (issue 19). Operators are people with a role, a password
-- (argon2id PHC string) and at most one personal admin API token (its SHA-256).
CREATE TABLE operators (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    password_hash TEXT NOT NULL,
    token_hash    TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX operators_by_token ON operators (token_hash) WHERE token_hash <> '';

-- An account's history per hour, added to by every batch in its own commit, so a
-- chart of 30 days reads at most 720 rows however many entries the account has
-- (entries are packed in blocks that SQL cannot sum). balance is the balance after
-- the hour's newest entry (last_seq); charged is the hour's charges and captures as
-- a positive sum. Rows from before this migration are filled in by the store on
-- open (the setting below marks the work as pending; entries are binary blocks).
CREATE TABLE balance_hours (
    account_id TEXT NOT NULL,
    hour       INTEGER NOT NULL,
    last_seq   INTEGER NOT NULL,
    balance    INTEGER NOT NULL,
    charged    INTEGER NOT NULL,
    charges    INTEGER NOT NULL,
    topped_up  INTEGER NOT NULL,
    top_ups    INTEGER NOT NULL,
    PRIMARY KEY (account_id, hour)
) STRICT, WITHOUT ROWID;
-- The dashboard's totals of a day and a month across accounts. Its entries change
-- only when a new account-hour appears: later batches of the hour update columns
-- it does not hold.
CREATE INDEX balance_hours_by_hour ON balance_hours (hour);

INSERT INTO settings (key, value) SELECT 'balance_hours_backfill', 'pending' WHERE EXISTS (SELECT 1 FROM entry_blocks);
