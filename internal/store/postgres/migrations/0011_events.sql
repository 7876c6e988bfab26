-- Events out (docs/events.md). The outbox: every event is written by the engine's
-- batch transaction, beside the entries it describes. seq comes from the column's
-- sequence, taken under a transaction-level advisory lock that the batch takes as
-- its last statement before COMMIT (batch.go, eventLock), so sequence order is
-- commit order across nodes: a consumer resuming after seq N never misses an event
-- that commits later with a smaller number.
CREATE TABLE events (
    seq        BIGSERIAL PRIMARY KEY,
    id         TEXT NOT NULL,
    type       TEXT NOT NULL,
    account_id TEXT NOT NULL,
    parent_id  TEXT NOT NULL,
    at         BIGINT NOT NULL,
    data       TEXT NOT NULL
);

CREATE INDEX events_by_account ON events (account_id, seq);

-- An account's thresholds and their armed/fired state (ledger.Alerts.Encode).
ALTER TABLE accounts ADD COLUMN alerts TEXT NOT NULL DEFAULT '';
