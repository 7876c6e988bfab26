-- Sub-accounts (Infobip's ownerKey). parent_id and funding are set when the account
-- is made and never change; '' is a main account. disabled is the parent's switch
-- (Infobip's enabled, inverted so existing rows stay enabled), apart from status,
-- which only the operator sets. One level deep: the engine refuses a parent that
-- has a parent itself.
ALTER TABLE accounts ADD COLUMN parent_id TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN funding TEXT NOT NULL DEFAULT '' CHECK (funding IN ('', 'own', 'shared'));
ALTER TABLE accounts ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT false;

CREATE INDEX accounts_by_parent ON accounts (parent_id, id) WHERE parent_id <> '';

-- The shared-funding sub-account that spent an entry of its parent's ('' for none).
ALTER TABLE entries ADD COLUMN sub_account_id TEXT NOT NULL DEFAULT '';
