-- The operator console (issue 19): operators, and each account's history per
-- hour (see the SQLite store's 0015_console.sql for the why).
CREATE TABLE operators (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    password_hash TEXT NOT NULL,
    token_hash    TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX operators_by_token ON operators (token_hash) WHERE token_hash <> '';

CREATE TABLE balance_hours (
    account_id TEXT NOT NULL,
    hour       BIGINT NOT NULL,
    last_seq   BIGINT NOT NULL,
    balance    BIGINT NOT NULL,
    charged    BIGINT NOT NULL,
    charges    BIGINT NOT NULL,
    topped_up  BIGINT NOT NULL,
    top_ups    BIGINT NOT NULL,
    PRIMARY KEY (account_id, hour)
);
-- The dashboard's totals of a day and a month across accounts. Its entries change
-- only when a new account-hour appears: later batches of the hour update columns
-- it does not hold.
CREATE INDEX balance_hours_by_hour ON balance_hours (hour);

INSERT INTO balance_hours (account_id, hour, last_seq, balance, charged, charges, topped_up, top_ups)
SELECT account_id, floor(created_at / 3600000000.0)::bigint, max(seq),
       (array_agg(balance_after ORDER BY seq DESC))[1],
       coalesce(sum(-amount) FILTER (WHERE kind IN ('charge', 'capture')), 0),
       count(*) FILTER (WHERE kind IN ('charge', 'capture')),
       coalesce(sum(amount) FILTER (WHERE kind = 'top_up'), 0),
       count(*) FILTER (WHERE kind = 'top_up')
FROM entries GROUP BY 1, 2;
