-- The webhooks' delivery log is stored in blocks (webhooks.go): one row per
-- deliverer's save, holding the attempts since the save before, consecutive
-- sequences first_seq..last_seq, in codec's delivery block format. A row and an
-- index entry per attempt held SQLite's one writer, which the charges' commits
-- wait for, for milliseconds a save under load (issue #16's W1); a block is one.
-- at is the newest line's time: retention prunes a block once all of it is old.
-- The deliveries table of migration 0018 is converted by the store right after
-- this migration (convertDeliveries: the encoding is binary) and then dropped.
CREATE TABLE delivery_blocks (
    first_seq       INTEGER PRIMARY KEY,
    last_seq        INTEGER NOT NULL CHECK (last_seq >= first_seq),
    subscription_id TEXT NOT NULL,
    at              INTEGER NOT NULL,
    data            BLOB NOT NULL
) STRICT;

CREATE INDEX delivery_blocks_by_subscription ON delivery_blocks (subscription_id, first_seq);
