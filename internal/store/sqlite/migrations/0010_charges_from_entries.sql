-- A charge on the embedded store is its entry (kind charge or capture), found
-- through its block: the row of its own cost two b-tree insertions per charge.
-- What changes after the charge, the amount refunded, is kept here for the charges
-- that were refunded. Blocks get an index by time, because a movement id names the
-- millisecond of its batch (ledger.IDTime), which is its entry's created_at.
CREATE TABLE charge_refunds (
    charge_id  TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    refunded   INTEGER NOT NULL CHECK (refunded > 0)
) STRICT;

INSERT INTO charge_refunds (charge_id, account_id, refunded)
    SELECT id, account_id, refunded FROM charges WHERE refunded > 0;

DROP TABLE charges;

CREATE INDEX entry_blocks_by_time ON entry_blocks (account_id, last_at);
