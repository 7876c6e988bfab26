-- Idempotency records become an append-only log: the rowid is commit order and
-- there is no index on the key. Clients' keys are random strings, and a b-tree over
-- them dirtied one page per request (half of a hot charge's cost); the store keeps
-- the index of keys in memory instead (idempotency.go) and forgets records older
-- than its window.
CREATE TABLE idempotency_log (
    id           INTEGER PRIMARY KEY,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    body         BLOB NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;

INSERT INTO idempotency_log (key, request_hash, status, body, created_at)
    SELECT key, request_hash, status, body, created_at FROM idempotency ORDER BY created_at, key;

DROP TABLE idempotency;
ALTER TABLE idempotency_log RENAME TO idempotency;
