-- One row per purse process: its Sync (store/postgres/sync.go) bumps it, because a
-- commit waits for the WAL flush only when its transaction wrote WAL.
CREATE TABLE sync_marks (
    node  TEXT PRIMARY KEY,
    syncs BIGINT NOT NULL,
    at    BIGINT NOT NULL
);
