-- Sub-accounts (Infobip's ownerKey). parent_id and funding are set when the account
-- is made and never change; '' is a main account. disabled is the parent's switch
-- (Infobip's enabled, inverted so existing rows stay enabled), apart from status,
-- which only the operator sets. One level deep: the engine refuses a parent that
-- has a parent itself. Entries of shared sub-accounts name them inside the entry
-- blocks (codec entry version 2), so entry_blocks needs no column.
ALTER TABLE accounts ADD COLUMN parent_id TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN funding TEXT NOT NULL DEFAULT '' CHECK (funding IN ('', 'own', 'shared'));
ALTER TABLE accounts ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;

CREATE INDEX accounts_by_parent ON accounts (parent_id, id) WHERE parent_id <> '';
