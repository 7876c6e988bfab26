-- Entries are stored in blocks: one row per account per engine batch, holding that
-- account's entries of the batch in a compact binary encoding (blocks.go). A batch
-- of a thousand charges on one account is one row, not a thousand rows and three
-- thousand index entries. The old entries table is converted by the store right
-- after this migration (convertEntries) and dropped.
CREATE TABLE entry_blocks (
    first_seq  INTEGER PRIMARY KEY,            -- the block's oldest entry
    last_seq   INTEGER NOT NULL,               -- its newest entry
    batch_last INTEGER NOT NULL,               -- the newest entry of its whole batch
    account_id TEXT NOT NULL REFERENCES accounts (id),
    n          INTEGER NOT NULL CHECK (n > 0), -- entries in the block
    first_at   INTEGER NOT NULL,               -- created_at of its first and last entries
    last_at    INTEGER NOT NULL,
    data       BLOB NOT NULL
) STRICT;

CREATE INDEX entry_blocks_by_account ON entry_blocks (account_id, first_seq);

CREATE TRIGGER entry_blocks_no_update BEFORE UPDATE ON entry_blocks
BEGIN SELECT RAISE(ABORT, 'entries are immutable'); END;
CREATE TRIGGER entry_blocks_no_delete BEFORE DELETE ON entry_blocks
BEGIN SELECT RAISE(ABORT, 'entries are immutable'); END;
