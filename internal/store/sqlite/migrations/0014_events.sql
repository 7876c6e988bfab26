-- Events out (docs/events.md). The outbox: every event is written by the engine's
-- batch transaction, beside the entries it describes, so a committed movement always
-- has its event and a rolled-back one never does. seq is the rowid: the store's one
-- writer inserts in commit order, so a consumer's cursor (the last seq it saw) never
-- skips an event that commits later. No index on id: ids are unique by construction
-- (a random batch id and the event's place in it), and an index would be a b-tree
-- write per event on the writer's path.
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL,
    type       TEXT NOT NULL,
    account_id TEXT NOT NULL,
    parent_id  TEXT NOT NULL,
    at         INTEGER NOT NULL,
    data       TEXT NOT NULL
) STRICT;

CREATE INDEX events_by_account ON events (account_id, seq);

-- An account's thresholds and their armed/fired state (ledger.Alerts.Encode): stored
-- with the account, so an alert fires once across restarts.
ALTER TABLE accounts ADD COLUMN alerts TEXT NOT NULL DEFAULT '';
